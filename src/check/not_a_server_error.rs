use super::{Exchange, Finding, Outcome, generated};

/// A generated request must never make the server fail: any 5xx is a finding
/// (whatever the spec documents: a documented 500 is still a crash).
pub fn not_a_server_error(x: &Exchange<'_>) -> Outcome {
    let g = match generated(x) {
        Ok(g) => g,
        Err(skip) => return skip,
    };
    if x.status >= 500 {
        return Outcome::Fail(vec![Finding::new(format!(
            "{} {} ({} phase) answered {}: a server error",
            g.method,
            x.operation.path,
            g.phase.name(),
            x.status
        ))]);
    }
    Outcome::Pass
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::testkit::{headers, judge, phase, spec};
    use crate::generate::plan::Phase;

    #[test]
    fn server_errors_fail_generated_requests_only() {
        let spec = spec();
        let h = headers(&[]);
        let g = phase(Phase::Positive);
        assert_eq!(
            judge(not_a_server_error, &spec, "getPet", 200, &h, Some(&g)),
            Outcome::Pass
        );
        assert!(matches!(
            judge(not_a_server_error, &spec, "getPet", 503, &h, Some(&g)),
            Outcome::Fail(_)
        ));
        assert!(matches!(
            judge(not_a_server_error, &spec, "getPet", 500, &h, None),
            Outcome::Skip(_)
        ));
    }
}
