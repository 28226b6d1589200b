//! Variables from outside the suite (`--var`, `--vars-file`,
//! `APICONFORM_VAR_<name>`, `--secret`), their precedence, and which names are secret.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::Suite;
use super::template::RenderError;
use crate::diag::{Diagnostic, Diagnostics, Pos};

/// Prefix of environment variables that set suite variables.
pub const ENV_PREFIX: &str = "APICONFORM_VAR_";

/// Variables given on the command line, highest precedence first:
/// `--var`, then `--vars-file` (later files win), then the environment.
#[derive(Debug, Clone, Default)]
pub struct ExternalVars {
    pub values: HashMap<String, Value>,
    /// Names given with `--secret NAME=VALUE`: redacted whatever the name.
    pub secrets: HashSet<String>,
}

impl ExternalVars {
    pub fn collect(
        cli: &[(String, String)],
        files: &[PathBuf],
    ) -> Result<ExternalVars, Diagnostics> {
        let mut values: HashMap<String, Value> = HashMap::new();
        for (key, value) in std::env::vars() {
            if let Some(name) = key.strip_prefix(ENV_PREFIX)
                && !name.is_empty()
            {
                values.insert(name.to_string(), Value::String(value));
            }
        }
        let mut diagnostics = Diagnostics::default();
        for file in files {
            match read_vars_file(file) {
                Ok(map) => values.extend(map),
                Err(d) => diagnostics.push(d),
            }
        }
        for (name, value) in cli {
            values.insert(name.clone(), Value::String(value.clone()));
        }
        diagnostics.into_result(ExternalVars {
            values,
            secrets: HashSet::new(),
        })
    }

    /// Adds `--secret NAME=VALUE` values: as `--var`, and always redacted.
    pub fn add_secrets(&mut self, secrets: &[(String, String)]) {
        for (name, value) in secrets {
            self.values
                .insert(name.clone(), Value::String(value.clone()));
            self.secrets.insert(name.clone());
        }
    }

    pub fn names(&self) -> HashSet<String> {
        self.values.keys().cloned().collect()
    }
}

fn read_vars_file(file: &Path) -> Result<HashMap<String, Value>, Diagnostic> {
    let text = crate::yaml::read(file)?;
    let value = crate::yaml::value_from_str(file, &text)?;
    match value {
        Value::Object(map) => Ok(map.into_iter().collect()),
        Value::Null => Ok(HashMap::new()),
        _ => Err(Diagnostic::new(
            file,
            Pos { line: 1, column: 1 },
            "a vars file must be a mapping of name: value",
        )),
    }
}

/// Parses `NAME=VALUE`.
pub fn parse_assignment(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_string(), value.to_string()))
        }
        _ => Err(format!("`{s}` is not NAME=VALUE")),
    }
}

pub use crate::redact::is_secret_name;

/// The suite's variables with external values applied, in definition
/// order (a default may use variables defined before it).
pub fn resolve_globals(
    suite: &Suite,
    external: &ExternalVars,
) -> Result<HashMap<String, Value>, RenderError> {
    let mut globals = external.values.clone();
    for (name, template) in &suite.variables {
        if external.values.contains_key(name) {
            continue;
        }
        let value = template.render(&globals)?;
        globals.insert(name.clone(), value);
    }
    Ok(globals)
}

/// Redaction lives in [`crate::redact`]; re-exported for existing callers.
pub use crate::redact::{REDACTED, Redactor};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names() {
        for name in [
            "pets_token",
            "CLIENT_SECRET",
            "db_password",
            "api_key",
            "apikey",
            "access-key",
            "KEY",
        ] {
            assert!(is_secret_name(name), "{name}");
        }
        for name in ["pet_name", "keyword", "keys", "tag"] {
            assert!(!is_secret_name(name), "{name}");
        }
    }

    #[test]
    fn assignments() {
        assert_eq!(parse_assignment("a=b=c"), Ok(("a".into(), "b=c".into())));
        assert!(parse_assignment("=x").is_err());
        assert!(parse_assignment("novalue").is_err());
    }
}
