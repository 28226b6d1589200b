//! `apiconform check --spec`: compile every schema and report what could
//! not be enforced.

use super::{SchemaError, SchemaId, Spec};
use crate::diag::{Diagnostic, Diagnostics};

/// Every warning of a spec: the local flaws found at load, then each
/// schema the validator still refuses (it is not enforced; the rest is).
pub fn lint(spec: &Spec) -> Diagnostics {
    let mut out = spec.warnings.clone();
    out.0.extend(compile_warnings(spec).0);
    out
}

/// Each schema the validator refuses (compiling every schema first), at
/// its `file:line:column` with its JSON pointer.
pub fn compile_warnings(spec: &Spec) -> Diagnostics {
    placed(spec, &spec.compile_all())
}

/// [`compile_warnings`] for the schemas compiled so far (a run compiles
/// lazily): nothing more is compiled.
pub fn compiled_warnings(spec: &Spec) -> Diagnostics {
    placed(spec, &spec.compiled_failures())
}

fn placed(spec: &Spec, failures: &[(SchemaId, &SchemaError)]) -> Diagnostics {
    let wanted: Vec<(usize, &str)> = failures
        .iter()
        .map(|(id, _)| (spec.schema_document(*id), spec.schema_pointer(*id)))
        .collect();
    let positions = spec.positions(&wanted);
    let mut out = Diagnostics::default();
    for ((id, err), pos) in failures.iter().zip(positions) {
        let pointer = match spec.schema_pointer(*id) {
            "" => "/",
            p => p,
        };
        out.push(Diagnostic::new(
            spec.schema_file(*id),
            pos,
            format!(
                "{pointer}: schema not enforced (the validator refuses it: {})",
                err.message
            ),
        ));
    }
    out
}
