use super::{Exchange, Finding, Outcome, generated};
use crate::generate::plan::Phase;

/// A secured operation called without a credential, or with an invalid one,
/// must answer 401 or 403.
pub fn ignored_auth(x: &Exchange<'_>) -> Outcome {
    let g = match generated(x) {
        Ok(g) => g,
        Err(skip) => return skip,
    };
    if g.phase != Phase::Auth {
        return Outcome::Skip("not an auth-phase request".into());
    }
    match x.status {
        401 | 403 => Outcome::Pass,
        500..=599 => Outcome::Skip("server error (see not_a_server_error)".into()),
        s => Outcome::Fail(vec![Finding::new(format!(
            "{} is secured, but a request without a valid credential got {s}; 401 or 403 was expected",
            x.operation.label()
        ))]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::testkit::{headers, judge, phase, spec};

    #[test]
    fn missing_credentials_must_be_refused() {
        let spec = spec();
        let h = headers(&[]);
        let g = phase(Phase::Auth);
        assert_eq!(
            judge(ignored_auth, &spec, "getPet", 401, &h, Some(&g)),
            Outcome::Pass
        );
        assert!(matches!(
            judge(ignored_auth, &spec, "getPet", 200, &h, Some(&g)),
            Outcome::Fail(_)
        ));
        let p = phase(Phase::Positive);
        assert!(matches!(
            judge(ignored_auth, &spec, "getPet", 200, &h, Some(&p)),
            Outcome::Skip(_)
        ));
        assert!(matches!(
            judge(ignored_auth, &spec, "getPet", 200, &h, None),
            Outcome::Skip(_)
        ));
    }
}
