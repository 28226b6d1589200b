use super::{Exchange, Finding, Outcome, generated};
use crate::generate::plan::ChainRole;

/// After a successful delete, reading the resource must answer 404 (or 410).
pub fn use_after_free(x: &Exchange<'_>) -> Outcome {
    let g = match generated(x) {
        Ok(g) => g,
        Err(skip) => return skip,
    };
    if g.role != Some(ChainRole::ReadAfterDelete) {
        return Outcome::Skip("not a read after a delete".into());
    }
    match g.status_of(ChainRole::Delete) {
        Some(s) if (200..300).contains(&s) => {}
        Some(s) => return Outcome::Skip(format!("the delete did not succeed ({s})").into()),
        None => return Outcome::Skip("no delete earlier in the chain".into()),
    }
    match x.status {
        404 | 410 => Outcome::Pass,
        s if (200..300).contains(&s) => Outcome::Fail(vec![Finding::new(format!(
            "{} still answers {s} after the resource was deleted; 404 was expected",
            x.operation.label()
        ))]),
        s => Outcome::Skip(format!("read after delete answered {s}").into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Prior;
    use crate::check::testkit::{headers, judge, phase, spec};
    use crate::generate::plan::Phase;

    #[test]
    fn deleted_resources_are_gone() {
        let spec = spec();
        let h = headers(&[]);
        let history = [
            Prior {
                role: ChainRole::Create,
                operation: "createPet".into(),
                status: 201,
                body: None,
                ids: Vec::new(),
            },
            Prior {
                role: ChainRole::Delete,
                operation: "deletePet".into(),
                status: 204,
                body: None,
                ids: Vec::new(),
            },
        ];
        let mut g = phase(Phase::Stateful);
        g.role = Some(ChainRole::ReadAfterDelete);
        g.history = &history;
        assert_eq!(
            judge(use_after_free, &spec, "getPet", 404, &h, Some(&g)),
            Outcome::Pass
        );
        assert!(matches!(
            judge(use_after_free, &spec, "getPet", 200, &h, Some(&g)),
            Outcome::Fail(_)
        ));
        let failed_delete = [Prior {
            role: ChainRole::Delete,
            operation: "deletePet".into(),
            status: 500,
            body: None,
            ids: Vec::new(),
        }];
        g.history = &failed_delete;
        assert!(matches!(
            judge(use_after_free, &spec, "getPet", 200, &h, Some(&g)),
            Outcome::Skip(_)
        ));
        assert!(matches!(
            judge(use_after_free, &spec, "getPet", 200, &h, None),
            Outcome::Skip(_)
        ));
    }
}
