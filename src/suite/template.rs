//! `{{ ... }}` templates in case files, parsed once at load time so a step
//! is rendered without re-parsing.
//!
//! Expressions: a variable (`{{ share_id }}`), an environment variable
//! (`{{ env.HOME }}`), or a built-in: `{{ uuid() }}`, `{{ now() }}`,
//! `{{ now(+1d) }}`, `{{ now(-90m) }}`, `{{ now_ms(-1h) }}` (epoch
//! milliseconds), `{{ random(12) }}`,
//! `{{ random_int(1, 100) }}`. A string that is exactly one expression keeps
//! the value's JSON type (a captured number stays a number).

use std::collections::HashMap;
use std::fmt::Write as _;

use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// One parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Var(String),
    Env(String),
    Uuid,
    /// Now plus an offset in seconds, as RFC 3339 UTC.
    Now(i64),
    /// Now plus an offset in seconds, as integer epoch milliseconds.
    NowMs(i64),
    Random(usize),
    RandomInt(i64, i64),
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Lit(String),
    Expr(Expr),
}

/// A parsed template string.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    parts: Vec<Part>,
}

/// A template that failed to parse; `offset` is the byte offset in the string.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct TemplateError {
    pub message: String,
    pub offset: usize,
}

/// A value that could not be rendered.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RenderError {
    #[error("undefined variable `{0}`")]
    Undefined(String),
    #[error("environment variable `{0}` is not set")]
    UndefinedEnv(String),
}

/// Where template variables come from.
pub trait Scope {
    fn get(&self, name: &str) -> Option<&Value>;
}

impl Scope for HashMap<String, Value> {
    fn get(&self, name: &str) -> Option<&Value> {
        HashMap::get(self, name)
    }
}

/// A case-local layer (captures, case variables) over shared variables.
pub struct Layered<'a> {
    pub local: &'a rustc_hash::FxHashMap<String, Value>,
    pub shared: &'a HashMap<String, Value>,
}

impl Scope for Layered<'_> {
    fn get(&self, name: &str) -> Option<&Value> {
        self.local.get(name).or_else(|| self.shared.get(name))
    }
}

impl Template {
    /// The empty string (stands in for a template that failed to parse).
    pub fn empty() -> Template {
        Template { parts: Vec::new() }
    }

    /// Parses a string; text without `{{` is a single literal.
    pub fn parse(s: &str) -> Result<Template, TemplateError> {
        let mut parts = Vec::new();
        let mut rest = s;
        let mut consumed = 0;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                parts.push(Part::Lit(rest[..open].to_string()));
            }
            let after = &rest[open + 2..];
            let Some(close) = after.find("}}") else {
                return Err(TemplateError {
                    message: "unclosed `{{`".into(),
                    offset: consumed + open,
                });
            };
            let expr = parse_expr(after[..close].trim()).map_err(|message| TemplateError {
                message,
                offset: consumed + open,
            })?;
            parts.push(Part::Expr(expr));
            let advance = open + 2 + close + 2;
            consumed += advance;
            rest = &rest[advance..];
        }
        if !rest.is_empty() {
            parts.push(Part::Lit(rest.to_string()));
        }
        Ok(Template { parts })
    }

    /// Whether the string has any expression.
    pub fn is_static(&self) -> bool {
        self.parts.iter().all(|p| matches!(p, Part::Lit(_)))
    }

    /// Variables referenced (not env, not built-ins).
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Expr(Expr::Var(name)) => Some(name.as_str()),
            _ => None,
        })
    }

    /// The variable when the whole template is `{{ name }}`.
    pub fn lone_variable(&self) -> Option<&str> {
        match self.parts.as_slice() {
            [Part::Expr(Expr::Var(name))] => Some(name),
            _ => None,
        }
    }

    /// Renders to a JSON value: a lone expression keeps its type.
    pub fn render_value(&self, scope: &dyn Scope) -> Result<Value, RenderError> {
        if let [Part::Expr(expr)] = self.parts.as_slice() {
            return eval(expr, scope);
        }
        let mut out = String::new();
        self.render_into(scope, &mut out)?;
        Ok(Value::String(out))
    }

    /// Renders to text (non-string values in their JSON form).
    pub fn render_string(&self, scope: &dyn Scope) -> Result<String, RenderError> {
        if let [Part::Lit(s)] = self.parts.as_slice() {
            return Ok(s.clone());
        }
        let mut out = String::new();
        self.render_into(scope, &mut out)?;
        Ok(out)
    }

    fn render_into(&self, scope: &dyn Scope, out: &mut String) -> Result<(), RenderError> {
        for part in &self.parts {
            match part {
                Part::Lit(s) => out.push_str(s),
                Part::Expr(e) => match eval(e, scope)? {
                    Value::String(s) => out.push_str(&s),
                    other => {
                        let _ = write!(out, "{other}");
                    }
                },
            }
        }
        Ok(())
    }
}

fn eval(expr: &Expr, scope: &dyn Scope) -> Result<Value, RenderError> {
    Ok(match expr {
        Expr::Var(name) => scope
            .get(name)
            .cloned()
            .ok_or_else(|| RenderError::Undefined(name.clone()))?,
        Expr::Env(name) => {
            Value::String(std::env::var(name).map_err(|_| RenderError::UndefinedEnv(name.clone()))?)
        }
        Expr::Uuid => Value::String(uuid::Uuid::new_v4().to_string()),
        Expr::Now(offset) => Value::String(now_rfc3339(*offset)),
        Expr::NowMs(offset) => {
            let t = now_plus(*offset);
            Value::from(i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX))
        }
        Expr::Random(len) => Value::String(
            std::iter::repeat_with(fastrand::alphanumeric)
                .take(*len)
                .collect(),
        ),
        Expr::RandomInt(lo, hi) => Value::from(fastrand::i64(*lo..=*hi)),
    })
}

/// Now plus `offset` seconds, RFC 3339 in UTC with whole seconds.
pub fn now_rfc3339(offset: i64) -> String {
    let t = now_plus(offset);
    let t = t.replace_nanosecond(0).unwrap_or(t);
    t.format(&Rfc3339).unwrap_or_default()
}

fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

fn parse_expr(src: &str) -> Result<Expr, String> {
    if let Some(open) = src.find('(') {
        let name = src[..open].trim();
        let Some(args) = src[open + 1..].strip_suffix(')') else {
            return Err(format!("`{src}`: missing `)`"));
        };
        let args: Vec<&str> = args
            .split(',')
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .collect();
        return match (name, args.as_slice()) {
            ("uuid", []) => Ok(Expr::Uuid),
            ("now", []) => Ok(Expr::Now(0)),
            ("now", [offset]) => date_offset(name, offset).map(Expr::Now),
            ("now_ms", []) => Ok(Expr::NowMs(0)),
            ("now_ms", [offset]) => date_offset(name, offset).map(Expr::NowMs),
            ("random", []) => Ok(Expr::Random(16)),
            ("random", [n]) => n
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=4096).contains(n))
                .map(Expr::Random)
                .ok_or_else(|| format!("random({n}): length must be 1 to 4096")),
            ("random_int", [lo, hi]) => match (lo.parse::<i64>(), hi.parse::<i64>()) {
                (Ok(lo), Ok(hi)) if lo <= hi => Ok(Expr::RandomInt(lo, hi)),
                _ => Err(format!(
                    "random_int({lo}, {hi}): need two integers, low <= high"
                )),
            },
            _ => Err(format!(
                "unknown function `{src}` (known: uuid(), now(), now(+1d), now_ms(), now_ms(-1h), random(N), random_int(LO, HI))"
            )),
        };
    }
    if let Some(var) = src.strip_prefix("env.") {
        if var.is_empty() {
            return Err("`env.` needs a variable name".into());
        }
        return Ok(Expr::Env(var.to_string()));
    }
    if is_ident(src) {
        return Ok(Expr::Var(src.to_string()));
    }
    Err(format!("`{src}` is not a variable name or function call"))
}

/// The largest offset `now()` and `now_ms()` take: 100 years either way
/// (dates stay well inside the years 1 to 9999 that can be written).
pub const MAX_DATE_OFFSET_DAYS: i64 = 36_525;

/// A `now()`/`now_ms()` offset, refused when the date would be out of range.
fn date_offset(function: &str, src: &str) -> Result<i64, String> {
    let seconds = parse_duration(src)?;
    if seconds.unsigned_abs() > (MAX_DATE_OFFSET_DAYS * 86_400).unsigned_abs() {
        return Err(format!(
            "{function}({src}): the date is out of range; an offset can be at most {MAX_DATE_OFFSET_DAYS}d (100 years) either way"
        ));
    }
    Ok(seconds)
}

/// Now plus `offset` seconds; now itself if that is not a representable date.
fn now_plus(offset: i64) -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.checked_add(time::Duration::seconds(offset))
        .unwrap_or(now)
}

/// `+1d`, `-90m`, `1h30m`, `45s` -> seconds.
pub fn parse_duration(src: &str) -> Result<i64, String> {
    let bad = || format!("`{src}` is not a duration like +1d, -2h30m or 90s");
    let (sign, body) = match src.as_bytes().first() {
        Some(b'-') => (-1, &src[1..]),
        Some(b'+') => (1, &src[1..]),
        _ => (1, src),
    };
    if body.is_empty() {
        return Err(bad());
    }
    let mut total: i64 = 0;
    let mut number = String::new();
    for c in body.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let n: i64 = number.parse().map_err(|_| bad())?;
        number.clear();
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 604_800,
            _ => return Err(bad()),
        };
        total = total
            .checked_add(n.checked_mul(unit).ok_or_else(bad)?)
            .ok_or_else(bad)?;
    }
    if !number.is_empty() {
        return Err(bad());
    }
    Ok(sign * total)
}

/// A JSON value with templates inside; static subtrees are pre-built.
#[derive(Debug, Clone, PartialEq)]
pub enum ValueTemplate {
    Static(Value),
    Text(Template),
    Array(Vec<ValueTemplate>),
    Object(Vec<(String, ValueTemplate)>),
}

impl ValueTemplate {
    pub fn render(&self, scope: &dyn Scope) -> Result<Value, RenderError> {
        match self {
            ValueTemplate::Static(v) => Ok(v.clone()),
            ValueTemplate::Text(t) => t.render_value(scope),
            ValueTemplate::Array(items) => items
                .iter()
                .map(|i| i.render(scope))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            ValueTemplate::Object(entries) => {
                let mut map = serde_json::Map::with_capacity(entries.len());
                for (k, v) in entries {
                    map.insert(k.clone(), v.render(scope)?);
                }
                Ok(Value::Object(map))
            }
        }
    }

    /// Renders to a string (for headers, query and path values).
    pub fn render_string(&self, scope: &dyn Scope) -> Result<String, RenderError> {
        match self {
            ValueTemplate::Text(t) => t.render_string(scope),
            ValueTemplate::Static(Value::String(s)) => Ok(s.clone()),
            other => Ok(match other.render(scope)? {
                Value::String(s) => s,
                v => v.to_string(),
            }),
        }
    }

    /// Every variable referenced anywhere inside.
    pub fn variables(&self, out: &mut Vec<String>) {
        match self {
            ValueTemplate::Static(_) => {}
            ValueTemplate::Text(t) => out.extend(t.variables().map(str::to_string)),
            ValueTemplate::Array(items) => items.iter().for_each(|i| i.variables(out)),
            ValueTemplate::Object(entries) => entries.iter().for_each(|(_, v)| v.variables(out)),
        }
    }

    pub fn is_static(&self) -> bool {
        matches!(self, ValueTemplate::Static(_))
    }

    /// The text written literally (outside `{{ }}`), for checks that can
    /// be made before a run (a line break in a header value).
    pub fn literal_text(&self) -> String {
        match self {
            ValueTemplate::Static(Value::String(s)) => s.clone(),
            ValueTemplate::Static(_) => String::new(),
            ValueTemplate::Text(t) => t
                .parts
                .iter()
                .filter_map(|p| match p {
                    Part::Lit(s) => Some(s.as_str()),
                    Part::Expr(_) => None,
                })
                .collect(),
            ValueTemplate::Array(items) => items.iter().map(Self::literal_text).collect(),
            ValueTemplate::Object(entries) => {
                entries.iter().map(|(_, v)| v.literal_text()).collect()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn scope() -> HashMap<String, Value> {
        HashMap::from([
            ("id".to_string(), json!("abc")),
            ("n".to_string(), json!(42)),
            ("list".to_string(), json!([1, 2])),
        ])
    }

    #[test]
    fn lone_expression_keeps_type() {
        let s = scope();
        assert_eq!(
            Template::parse("{{ n }}")
                .unwrap()
                .render_value(&s)
                .unwrap(),
            json!(42)
        );
        assert_eq!(
            Template::parse("{{list}}")
                .unwrap()
                .render_value(&s)
                .unwrap(),
            json!([1, 2])
        );
        assert_eq!(
            Template::parse("/shares/{{ id }}?n={{n}}")
                .unwrap()
                .render_value(&s)
                .unwrap(),
            json!("/shares/abc?n=42")
        );
    }

    #[test]
    fn literals_and_single_braces_pass_through() {
        let t = Template::parse("/shares/{shareId}").unwrap();
        assert!(t.is_static());
        assert_eq!(t.render_string(&scope()).unwrap(), "/shares/{shareId}");
    }

    #[test]
    fn undefined_variables_and_env() {
        let s = scope();
        let t = Template::parse("x{{ missing }}").unwrap();
        assert_eq!(
            t.render_value(&s),
            Err(RenderError::Undefined("missing".into()))
        );
        assert_eq!(t.variables().collect::<Vec<_>>(), vec!["missing"]);
        let t = Template::parse("{{ env.APICONFORM_SURELY_UNSET_VAR }}").unwrap();
        assert!(matches!(
            t.render_value(&s),
            Err(RenderError::UndefinedEnv(_))
        ));
        let t = Template::parse("{{ env.PATH }}").unwrap();
        assert!(t.render_value(&s).is_ok());
    }

    #[test]
    fn builtins() {
        let s = scope();
        let u = Template::parse("{{ uuid() }}")
            .unwrap()
            .render_string(&s)
            .unwrap();
        assert!(uuid::Uuid::parse_str(&u).is_ok());
        let r = Template::parse("{{ random(8) }}")
            .unwrap()
            .render_string(&s)
            .unwrap();
        assert_eq!(r.len(), 8);
        let n = Template::parse("{{ random_int(3, 3) }}")
            .unwrap()
            .render_value(&s)
            .unwrap();
        assert_eq!(n, json!(3));
        let later = Template::parse("{{ now(+1d) }}")
            .unwrap()
            .render_string(&s)
            .unwrap();
        let parsed = OffsetDateTime::parse(&later, &Rfc3339).unwrap();
        let delta = parsed - OffsetDateTime::now_utc();
        assert!((delta.whole_seconds() - 86_400).abs() <= 2, "{later}");
        assert!(later.ends_with('Z'));
        let ms = Template::parse("{{ now_ms(-1s) }}")
            .unwrap()
            .render_value(&s)
            .unwrap();
        let now_ms = (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64;
        assert!(
            ms.as_i64()
                .is_some_and(|m| (now_ms - m - 1000).abs() < 2000),
            "{ms}"
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("+1d"), Ok(86_400));
        assert_eq!(parse_duration("-2h30m"), Ok(-9_000));
        assert_eq!(parse_duration("90s"), Ok(90));
        assert!(parse_duration("1x").is_err());
        assert!(parse_duration("12").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn parse_errors_carry_offsets() {
        let e = Template::parse("ab {{ oops").unwrap_err();
        assert_eq!(e.offset, 3);
        assert!(Template::parse("{{ now(+1y) }}").is_err());
        assert!(Template::parse("{{ what ever }}").is_err());
        assert!(
            Template::parse("{{ frob() }}")
                .unwrap_err()
                .message
                .contains("unknown function")
        );
    }

    #[test]
    fn value_templates_render_nested() {
        let vt = ValueTemplate::Object(vec![
            ("a".into(), ValueTemplate::Static(json!(1))),
            (
                "b".into(),
                ValueTemplate::Array(vec![ValueTemplate::Text(
                    Template::parse("{{ id }}").unwrap(),
                )]),
            ),
        ]);
        assert_eq!(vt.render(&scope()).unwrap(), json!({"a": 1, "b": ["abc"]}));
        let mut vars = Vec::new();
        vt.variables(&mut vars);
        assert_eq!(vars, vec!["id"]);
    }

    #[test]
    fn out_of_range_dates_are_parse_errors_not_panics() {
        for (src, function) in [
            ("{{ now(+3000000d) }}", "now(+3000000d)"),
            ("{{ now_ms(-99999999999999h) }}", "now_ms(-99999999999999h)"),
        ] {
            let err = Template::parse(src).expect_err(src);
            assert!(
                err.message
                    .starts_with(&format!("{function}: the date is out of range")),
                "{}",
                err.message
            );
        }
        let t = Template::parse("{{ now(+36525d) }}").expect("100 years is fine");
        assert!(
            t.render_string(&scope())
                .expect("renders")
                .starts_with("21")
        );
    }
}
