use super::{Exchange, Finding, Outcome, generated};
use crate::generate::plan::ChainRole;

/// What a successful create made must be readable right after.
pub fn ensure_resource_availability(x: &Exchange<'_>) -> Outcome {
    let g = match generated(x) {
        Ok(g) => g,
        Err(skip) => return skip,
    };
    if g.role != Some(ChainRole::Read) {
        return Outcome::Skip("not a read after a create".into());
    }
    match g.status_of(ChainRole::Create) {
        Some(s) if (200..300).contains(&s) => {}
        Some(s) => return Outcome::Skip(format!("the create did not succeed ({s})").into()),
        None => return Outcome::Skip("no create earlier in the chain".into()),
    }
    match x.status {
        200..=299 => Outcome::Pass,
        404 | 410 => Outcome::Fail(vec![Finding::new(format!(
            "{} answered {} for a resource created just before",
            x.operation.label(),
            x.status
        ))]),
        s => Outcome::Skip(format!("read answered {s}").into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Prior;
    use crate::check::testkit::{headers, judge, phase, spec};
    use crate::generate::plan::Phase;

    #[test]
    fn created_resources_can_be_read_back() {
        let spec = spec();
        let h = headers(&[]);
        let created = [Prior {
            role: ChainRole::Create,
            operation: "createPet".into(),
            status: 201,
            body: None,
            ids: Vec::new(),
        }];
        let mut g = phase(Phase::Stateful);
        g.role = Some(ChainRole::Read);
        g.history = &created;
        assert_eq!(
            judge(
                ensure_resource_availability,
                &spec,
                "getPet",
                200,
                &h,
                Some(&g)
            ),
            Outcome::Pass
        );
        assert!(matches!(
            judge(
                ensure_resource_availability,
                &spec,
                "getPet",
                404,
                &h,
                Some(&g)
            ),
            Outcome::Fail(_)
        ));
        g.history = &[];
        assert!(matches!(
            judge(
                ensure_resource_availability,
                &spec,
                "getPet",
                404,
                &h,
                Some(&g)
            ),
            Outcome::Skip(_)
        ));
        assert!(matches!(
            judge(ensure_resource_availability, &spec, "getPet", 404, &h, None),
            Outcome::Skip(_)
        ));
    }
}
