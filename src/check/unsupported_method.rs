use super::{Exchange, Finding, Outcome, generated};
use crate::generate::plan::Phase;
use crate::spec::OperationKind;

/// An undocumented method on a documented path must answer 405 with an
/// `Allow` header listing (at least) the documented methods (RFC 9110 §15.5.6).
pub fn unsupported_method(x: &Exchange<'_>) -> Outcome {
    let g = match generated(x) {
        Ok(g) => g,
        Err(skip) => return skip,
    };
    if g.phase != Phase::Methods {
        return Outcome::Skip("not a methods-phase request".into());
    }
    if x.status >= 500 {
        return Outcome::Skip("server error (see not_a_server_error)".into());
    }
    let path = &x.operation.path;
    if x.status != 405 {
        return Outcome::Fail(vec![Finding::new(format!(
            "undocumented {} {path} answered {}; 405 was expected",
            g.method, x.status
        ))]);
    }
    let Some(allow) = x
        .headers
        .get(reqwest::header::ALLOW)
        .and_then(|v| v.to_str().ok())
    else {
        return Outcome::Fail(vec![Finding::new(format!(
            "405 for {} {path} without an `Allow` header",
            g.method
        ))]);
    };
    let listed: Vec<String> = allow
        .split(',')
        .map(|m| m.trim().to_ascii_uppercase())
        .collect();
    let missing: Vec<&str> = x
        .spec
        .operations
        .iter()
        .filter(|o| o.kind == OperationKind::Path && &o.path == path)
        .map(|o| o.method.as_str())
        .filter(|m| !listed.iter().any(|l| l == m))
        .collect();
    if missing.is_empty() {
        Outcome::Pass
    } else {
        Outcome::Fail(vec![Finding::new(format!(
            "`Allow: {allow}` for {path} leaves out documented {}",
            missing.join(", ")
        ))])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::testkit::{headers, judge, phase, spec};

    #[test]
    fn undocumented_methods_get_405_with_allow() {
        let spec = spec();
        let mut g = phase(Phase::Methods);
        g.method = "DELETE";
        let good = headers(&[("allow", "GET, HEAD")]);
        assert_eq!(
            judge(unsupported_method, &spec, "getPet", 405, &good, Some(&g)),
            Outcome::Pass
        );
        let bad = headers(&[("allow", "POST")]);
        assert!(matches!(
            judge(unsupported_method, &spec, "getPet", 405, &bad, Some(&g)),
            Outcome::Fail(_)
        ));
        let none = headers(&[]);
        assert!(matches!(
            judge(unsupported_method, &spec, "getPet", 405, &none, Some(&g)),
            Outcome::Fail(_)
        ));
        assert!(matches!(
            judge(unsupported_method, &spec, "getPet", 200, &good, Some(&g)),
            Outcome::Fail(_)
        ));
        assert!(matches!(
            judge(unsupported_method, &spec, "getPet", 405, &good, None),
            Outcome::Skip(_)
        ));
    }
}
