//! Variables from outside the suite (`--var`, `--vars-file`,
//! `APICONFORM_VAR_<name>`), their precedence, and secret redaction.

use std::borrow::Cow;
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
        diagnostics.into_result(ExternalVars { values })
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

/// Whether a variable name marks a secret by convention: it contains
/// token, secret, password or credential, or the word `key` (`api_key`,
/// `apikey`, `access-key`; not `keyword` or `keys`).
pub fn is_secret_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let word = ["token", "secret", "password", "passwd", "credential"]
        .iter()
        .any(|w| lower.contains(w));
    let key = lower.match_indices("key").any(|(i, _)| {
        !lower[i + 3..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
    });
    word || key
}

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

/// Replaces every secret value in text with `[redacted]`.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    secrets: Vec<String>,
}

pub const REDACTED: &str = "[redacted]";

impl Redactor {
    /// Secrets: variables that are named like secrets or listed as secret.
    pub fn new(globals: &HashMap<String, Value>, secret_names: &HashSet<String>) -> Redactor {
        let mut r = Redactor::default();
        for (name, value) in globals {
            if is_secret_name(name) || secret_names.contains(name) {
                r.add_value(value);
            }
        }
        r
    }

    pub fn add_value(&mut self, value: &Value) {
        if let Some(s) = value.as_str() {
            self.add(s);
        } else if !value.is_null() {
            self.add(&value.to_string());
        }
    }

    /// Adds a secret (values under 4 characters are ignored: redacting "1"
    /// everywhere would make reports unreadable and hide nothing).
    pub fn add(&mut self, secret: &str) {
        if secret.len() >= 4 && !self.secrets.iter().any(|s| s == secret) {
            self.secrets.push(secret.to_string());
            // Longest first, so a secret containing another is fully hidden.
            self.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    pub fn merge(&mut self, other: &Redactor) {
        for s in &other.secrets {
            self.add(s);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if !self.secrets.iter().any(|s| text.contains(s.as_str())) {
            return Cow::Borrowed(text);
        }
        let mut out = text.to_string();
        for s in &self.secrets {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), REDACTED);
            }
        }
        Cow::Owned(out)
    }

    /// Redacts every string inside a JSON value.
    pub fn redact_value(&self, value: &mut Value) {
        if self.secrets.is_empty() {
            return;
        }
        match value {
            Value::String(s) => {
                if let Cow::Owned(r) = self.redact(s) {
                    *s = r;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|i| self.redact_value(i)),
            Value::Object(map) => map.values_mut().for_each(|v| self.redact_value(v)),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_by_name_and_by_list() {
        let globals = HashMap::from([
            ("enablenow_token".to_string(), json!("tok-123456")),
            ("client".to_string(), json!("en-app-ref-002")),
            ("pin".to_string(), json!("98765")),
        ]);
        let r = Redactor::new(&globals, &HashSet::from(["pin".to_string()]));
        assert_eq!(
            r.redact("Bearer tok-123456 for en-app-ref-002"),
            "Bearer [redacted] for en-app-ref-002"
        );
        assert_eq!(r.redact("pin 98765"), "pin [redacted]");
        let mut v = json!({"a": ["tok-123456"]});
        r.redact_value(&mut v);
        assert_eq!(v, json!({"a": ["[redacted]"]}));
    }

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
