//! `apiconform check --spec`: compile every schema and report what is wrong.

use super::Spec;
use crate::diag::{Diagnostic, Diagnostics, Pos};

/// Compiles every request and response validator; each failure becomes a
/// diagnostic naming the file and JSON pointer of the schema.
pub fn lint(spec: &Spec) -> Diagnostics {
    let mut out = Diagnostics::default();
    for (id, err) in spec.compile_all() {
        out.push(Diagnostic::new(
            spec.schema_file(id),
            Pos::UNKNOWN,
            format!(
                "{}: schema does not compile: {}",
                spec.schema_pointer(id),
                err.message
            ),
        ));
    }
    out
}
