use super::{Exchange, Finding, Outcome, generated};
use crate::generate::plan::Phase;

/// A schema-invalid request must be rejected with a 4xx. A 5xx is left to
/// `not_a_server_error`, so one crash is not reported twice.
pub fn negative_data_rejection(x: &Exchange<'_>) -> Outcome {
    let g = match generated(x) {
        Ok(g) => g,
        Err(skip) => return skip,
    };
    if g.phase != Phase::Negative {
        return Outcome::Skip("not a negative-phase request".into());
    }
    let rule = g
        .rule
        .map_or("a schema rule".to_string(), |r| format!("`{r}`"));
    match x.status {
        400..=499 => Outcome::Pass,
        500..=599 => Outcome::Skip("server error (see not_a_server_error)".into()),
        s => {
            let mut f = Finding::new(format!(
                "a request breaking {rule} was accepted with {s}; a 4xx was expected"
            ));
            f.rule = g.rule.map(|r| r.name().to_string());
            Outcome::Fail(vec![f])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::testkit::{headers, judge, phase, spec};
    use crate::generate::Rule;

    #[test]
    fn invalid_input_must_get_a_4xx() {
        let spec = spec();
        let h = headers(&[]);
        let mut g = phase(Phase::Negative);
        g.rule = Some(Rule::MaxLength);
        assert_eq!(
            judge(negative_data_rejection, &spec, "getPet", 422, &h, Some(&g)),
            Outcome::Pass
        );
        match judge(negative_data_rejection, &spec, "getPet", 200, &h, Some(&g)) {
            Outcome::Fail(f) => assert!(f[0].message.contains("`maxLength`"), "{f:?}"),
            other => panic!("expected a failure, got {other:?}"),
        }
        let positive = phase(Phase::Positive);
        assert!(matches!(
            judge(
                negative_data_rejection,
                &spec,
                "getPet",
                200,
                &h,
                Some(&positive)
            ),
            Outcome::Skip(_)
        ));
        assert!(matches!(
            judge(negative_data_rejection, &spec, "getPet", 200, &h, None),
            Outcome::Skip(_)
        ));
    }
}
