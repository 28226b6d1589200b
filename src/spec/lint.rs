//! `apiconform check --spec`: compile every schema and report what could
//! not be enforced.

use super::Spec;
use crate::diag::{Diagnostic, Diagnostics, Pos};

/// Every warning of a spec: the local flaws found at load, then each
/// schema the validator still refuses (it is not enforced; the rest is).
pub fn lint(spec: &Spec) -> Diagnostics {
    let mut out = spec.warnings.clone();
    for (id, err) in spec.compile_all() {
        out.push(Diagnostic::new(
            spec.schema_file(id),
            Pos::UNKNOWN,
            format!(
                "{}: schema not enforced (the validator refuses it: {})",
                spec.schema_pointer(id),
                err.message
            ),
        ));
    }
    out
}
