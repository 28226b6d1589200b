use super::{Exchange, Finding, Outcome, generated};
use crate::generate::plan::Phase;

/// A schema-valid request (positive phase or a documented example) must not
/// be refused as bad input: no 4xx other than 401, 403, 404 and 409, which
/// business rules (credentials, unknown ids, conflicts) may legitimately give.
pub fn positive_data_acceptance(x: &Exchange<'_>) -> Outcome {
    let g = match generated(x) {
        Ok(g) => g,
        Err(skip) => return skip,
    };
    if !matches!(g.phase, Phase::Positive | Phase::Examples) {
        return Outcome::Skip("not a positive or examples request".into());
    }
    match x.status {
        401 | 403 | 404 | 409 => Outcome::Pass,
        400..=499 => Outcome::Fail(vec![Finding::new(format!(
            "a schema-valid request ({} phase) was refused with {}",
            g.phase.name(),
            x.status
        ))]),
        _ => Outcome::Pass,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::testkit::{headers, judge, phase, spec};

    #[test]
    fn valid_input_is_not_refused() {
        let spec = spec();
        let h = headers(&[]);
        let g = phase(Phase::Positive);
        assert_eq!(
            judge(positive_data_acceptance, &spec, "getPet", 404, &h, Some(&g)),
            Outcome::Pass
        );
        assert!(matches!(
            judge(positive_data_acceptance, &spec, "getPet", 400, &h, Some(&g)),
            Outcome::Fail(_)
        ));
        let n = phase(Phase::Negative);
        assert!(matches!(
            judge(positive_data_acceptance, &spec, "getPet", 400, &h, Some(&n)),
            Outcome::Skip(_)
        ));
        assert!(matches!(
            judge(positive_data_acceptance, &spec, "getPet", 400, &h, None),
            Outcome::Skip(_)
        ));
    }
}
