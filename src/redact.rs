//! Secret redaction, by value and in every form the tool itself produces
//! or a target may echo back: the value, `user:password`, their base64
//! (standard and URL-safe, padded or not), percent-encoded
//! (`%40` or `%2f`, and form `+`) and JSON-escaped forms (as serde_json,
//! PHP, Python, Go and .NET write them). Userinfo in any URL shown
//! (`http://alice:PASS@host`) is replaced whatever its length.
//!
//! Values shorter than [`MIN_LEN`] characters are not replaced in free text
//! (redacting `1` or `ab` everywhere would make reports unreadable and
//! would itself reveal the value); they are hidden only where they stand as
//! credentials: URL userinfo, credential headers (`Authorization`,
//! `Cookie`, API-key headers), and the `user:password` pair and its base64.
//!
//! Secrets come from variables named like secrets, a suite's `secrets:`,
//! `--secret NAME=VALUE`, rendered credentials, the base URL's userinfo and
//! `secret: true` captures.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::{LazyLock, OnceLock};

use aho_corasick::AhoCorasick;
use base64::Engine as _;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;

/// What a secret is replaced with.
pub const REDACTED: &str = "[redacted]";

/// Shortest value replaced in free text.
pub const MIN_LEN: usize = 4;

/// Headers whose values are credentials: always shown as [`REDACTED`].
const CREDENTIAL_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
    "api-key",
    "x-auth-token",
];

/// `scheme://userinfo@`: the userinfo part of a URL in any text.
static USERINFO: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r#"(?i)\b([a-z][a-z0-9+.\-]*://)[^/?#\s@"'<>\\]+@"#)
        .expect("a constant, valid regex")
});

/// Replaces every secret value, in each of its forms, with `[redacted]`.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    /// Every form of every secret, longest first (so a secret containing
    /// another is hidden whole).
    forms: Vec<String>,
    /// One automaton over every form, built on first use after the last
    /// change: whether a text holds any secret is then one pass over it,
    /// not one substring search per form (`None` if it cannot be built).
    finder: OnceLock<Option<AhoCorasick>>,
    /// The `$NAME` a form stands for in a reproduction (`curl` command):
    /// the variable or capture it came from, upper-cased.
    names: HashMap<String, String>,
}

/// Whether a header carries a credential.
pub fn is_credential_header(name: &str) -> bool {
    CREDENTIAL_HEADERS
        .iter()
        .any(|h| h.eq_ignore_ascii_case(name))
}

/// A URL's user name and password, percent-decoded (the user name is
/// empty when there is no userinfo).
pub fn userinfo(url: &url::Url) -> (String, Option<String>) {
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    (decode(url.username()), url.password().map(decode))
}

/// A URL with its userinfo (`user:password@`) replaced.
pub fn strip_userinfo(text: &str) -> Cow<'_, str> {
    if !text.contains('@') {
        return Cow::Borrowed(text);
    }
    USERINFO.replace_all(text, format!("${{1}}{REDACTED}@"))
}

/// The encoded forms of one value that the tool or a target may show.
fn forms_of(value: &str) -> Vec<String> {
    let b64 = [
        base64::engine::general_purpose::STANDARD.encode(value),
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(value),
        base64::engine::general_purpose::URL_SAFE.encode(value),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value),
    ];
    let percent = utf8_percent_encode(value, NON_ALPHANUMERIC).to_string();
    // Unreserved characters stay as they are in most encoders.
    let percent_light = utf8_percent_encode(value, USERINFO_SET).to_string();
    let mut out = vec![value.to_string(), percent.clone(), percent_light.clone()];
    // JSON-escaped, and escaped again (a JSON body echoed inside a JSON
    // string, as many echo and error endpoints do).
    let mut escaped = value.to_string();
    for _ in 0..3 {
        escaped = json_escape(&escaped);
        out.push(escaped.clone());
    }
    out.extend(other_json_escapes(value));
    out.push(percent.replace("%20", "+"));
    out.push(percent_light.replace("%20", "+"));
    // Hex digits in lower case (`%2f`): allowed, and some encoders use it.
    out.push(lower_hex_escapes(&percent));
    out.push(lower_hex_escapes(&percent_light));
    out.extend(b64);
    out
}

/// How other JSON encoders escape a string that serde_json leaves as it
/// is: PHP escapes `/` as `\/`; PHP and Python escape non-ASCII as
/// `\u00e9`; Go escapes `<`, `>` and `&` as `\u003c`; .NET also `'`, `+`,
/// `"` and `` ` ``, and non-ASCII, in upper-case hex. Each combination is
/// one form; the caller drops those equal to another (for a usual ASCII
/// token every one equals the plain value).
fn other_json_escapes(value: &str) -> Vec<String> {
    // Every combination of the four choices: 2 x 3 x 2 x 2 styles.
    (0..24u8)
        .map(|i| EscapeStyle {
            slash: i & 1 != 0,
            non_ascii: i & 2 != 0,
            upper: i & 4 != 0,
            html: match i / 8 {
                0 => Html::None,
                1 => Html::Go,
                _ => Html::DotNet,
            },
        })
        .map(|style| style.escape(value))
        .collect()
}

/// Which HTML-sensitive characters an encoder writes as `\uXXXX`.
#[derive(Clone, Copy, PartialEq)]
enum Html {
    None,
    /// `<`, `>`, `&` (Go's encoding/json).
    Go,
    /// Those and `'`, `+`, `"`, `` ` `` (.NET's System.Text.Json).
    DotNet,
}

#[derive(Clone, Copy)]
struct EscapeStyle {
    slash: bool,
    html: Html,
    non_ascii: bool,
    upper: bool,
}

impl EscapeStyle {
    /// The inside of the JSON string literal this encoder writes.
    fn escape(self, value: &str) -> String {
        let mut text = String::with_capacity(value.len());
        for c in value.chars() {
            let html = match self.html {
                Html::None => false,
                Html::Go => matches!(c, '<' | '>' | '&'),
                Html::DotNet => matches!(c, '<' | '>' | '&' | '\'' | '+' | '"' | '`'),
            };
            if html || (self.non_ascii && !c.is_ascii()) {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    text.push_str(&if self.upper {
                        format!("\\u{unit:04X}")
                    } else {
                        format!("\\u{unit:04x}")
                    });
                }
            } else if self.slash && c == '/' {
                text.push_str("\\/");
            } else if c == '"' || c == '\\' || c.is_control() {
                // As JSON has them (`\"`, `\\`, `\n`, `\u0001`).
                text.push_str(&json_escape(c.encode_utf8(&mut [0u8; 4])));
            } else {
                text.push(c);
            }
        }
        text
    }
}

/// `%2F` -> `%2f`: the hex digits after each `%` in lower case.
fn lower_hex_escapes(percent: &str) -> String {
    let mut out = String::with_capacity(percent.len());
    let mut hex_left = 0;
    for c in percent.chars() {
        if hex_left > 0 {
            out.push(c.to_ascii_lowercase());
            hex_left -= 1;
        } else {
            if c == '%' {
                hex_left = 2;
            }
            out.push(c);
        }
    }
    out
}

/// The inside of a JSON string literal for `s`.
fn json_escape(s: &str) -> String {
    let json = serde_json::to_string(s).unwrap_or_default();
    json.strip_prefix('"')
        .and_then(|j| j.strip_suffix('"'))
        .unwrap_or(&json)
        .to_string()
}

/// Characters percent-encoded by URL userinfo and form encoders: all but
/// unreserved `A-Z a-z 0-9 - . _ ~`.
const USERINFO_SET: &percent_encoding::AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

impl Redactor {
    /// The redactor of one suite: secret-named and listed variables
    /// (`secrets:` and `--secret`), and the base URL's userinfo.
    pub fn for_suite(
        globals: &HashMap<String, Value>,
        secret_names: &HashSet<String>,
        external_secrets: &HashSet<String>,
        external_values: &HashMap<String, Value>,
        base_url: &str,
    ) -> Redactor {
        let mut r = Redactor::new(globals, secret_names);
        for name in external_secrets {
            if let Some(v) = globals.get(name).or_else(|| external_values.get(name)) {
                r.add_value_named(name, v);
            }
        }
        r.add_url_userinfo(base_url);
        r
    }

    /// Secrets: variables that are named like secrets or listed as secret.
    pub fn new(globals: &HashMap<String, Value>, secret_names: &HashSet<String>) -> Redactor {
        let mut r = Redactor::default();
        for (name, value) in globals {
            if is_secret_name(name) || secret_names.contains(name) {
                r.add_value_named(name, value);
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

    /// A secret value known by a name (a variable or capture): redacted
    /// like any other, and shown as `$NAME` in reproductions.
    pub fn add_value_named(&mut self, name: &str, value: &Value) {
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Null => return,
            other => other.to_string(),
        };
        self.add(&text);
        if text.chars().count() < MIN_LEN {
            return;
        }
        let placeholder = placeholder(name);
        for f in forms_of(&text) {
            self.names.entry(f).or_insert_with(|| placeholder.clone());
        }
    }

    /// Adds a secret in all its forms; values under [`MIN_LEN`] are kept
    /// only in credential positions (see the module doc).
    pub fn add(&mut self, secret: &str) {
        if secret.chars().count() < MIN_LEN {
            return;
        }
        for f in forms_of(secret) {
            self.push_form(f);
        }
    }

    /// A `user:password` pair (Basic credentials, URL userinfo): the pair
    /// and its encodings whatever the length, and the password alone.
    pub fn add_pair(&mut self, user: &str, password: &str) {
        let pair = format!("{user}:{password}");
        for f in forms_of(&pair) {
            self.push_form(f);
        }
        // `alice:%50ASS` as written in a URL.
        let encoded = format!(
            "{}:{}",
            utf8_percent_encode(user, USERINFO_SET),
            utf8_percent_encode(password, USERINFO_SET)
        );
        self.push_form(encoded);
        self.add(password);
    }

    /// The secrets of a rendered credential header value: a Basic pair, a
    /// Bearer token, or the whole value.
    pub fn add_credential_header(&mut self, value: &str) {
        let (scheme, rest) = value.split_once(' ').unwrap_or(("", value));
        if scheme.eq_ignore_ascii_case("basic") {
            self.push_form(rest.trim().to_string());
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(rest.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok());
            if let Some((user, password)) = decoded.as_deref().and_then(|d| d.split_once(':')) {
                self.add_pair(user, password);
            }
        } else if scheme.eq_ignore_ascii_case("bearer") {
            self.add(rest.trim());
        } else {
            self.add(value);
        }
    }

    /// The password (and pair) in a URL's userinfo, decoded.
    pub fn add_url_userinfo(&mut self, url: &str) {
        let Ok(u) = url::Url::parse(url) else {
            return;
        };
        let (user, password) = userinfo(&u);
        match password {
            Some(p) => self.add_pair(&user, &p),
            // `https://TOKEN@host`: the user name is the credential.
            None if !user.is_empty() => {
                self.add_pair(&user, "");
                self.add(&user);
            }
            None => {}
        }
    }

    fn push_form(&mut self, form: String) {
        if form.is_empty() || self.forms.contains(&form) {
            return;
        }
        self.forms.push(form);
        self.forms.sort_by_key(|s| std::cmp::Reverse(s.len()));
        self.finder = OnceLock::new();
    }

    pub fn merge(&mut self, other: &Redactor) {
        for f in &other.forms {
            self.push_form(f.clone());
        }
        for (form, name) in &other.names {
            self.names
                .entry(form.clone())
                .or_insert_with(|| name.clone());
        }
    }

    pub fn is_empty(&self) -> bool {
        self.forms.is_empty()
    }

    /// Whether any form of any secret occurs in `text`.
    pub fn has_secret(&self, text: &str) -> bool {
        if self.forms.is_empty() {
            return false;
        }
        match self
            .finder
            .get_or_init(|| AhoCorasick::new(&self.forms).ok())
        {
            Some(finder) => finder.is_match(text),
            None => self.forms.iter().any(|f| text.contains(f.as_str())),
        }
    }

    /// Text with every secret form and every URL userinfo replaced.
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let stripped = strip_userinfo(text);
        if !self.has_secret(&stripped) {
            return stripped;
        }
        let mut out = stripped.into_owned();
        for s in &self.forms {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), REDACTED);
            }
        }
        Cow::Owned(out)
    }

    pub fn redact_in_place(&self, text: &mut String) {
        if let Cow::Owned(r) = self.redact(text) {
            *text = r;
        }
    }

    /// [`Redactor::redact_in_place`] for a text that may be a fixed one.
    /// A borrowed text is a literal of this program (nothing here leaks
    /// a string to make one), so it holds no secret and is left as it is;
    /// an owned one is copied only when something in it is replaced.
    pub fn redact_cow(&self, text: &mut Cow<'static, str>) {
        if let Cow::Owned(owned) = text
            && let Cow::Owned(r) = self.redact(owned)
        {
            *owned = r;
        }
    }

    /// Redacts every string inside a JSON value.
    pub fn redact_value(&self, value: &mut Value) {
        match value {
            Value::String(s) => self.redact_in_place(s),
            Value::Array(items) => items.iter_mut().for_each(|i| self.redact_value(i)),
            Value::Object(map) => map.values_mut().for_each(|v| self.redact_value(v)),
            _ => {}
        }
    }

    /// A header value as recorded: credential headers whole, others by value.
    pub fn redact_header(&self, name: &str, value: &mut String) {
        if is_credential_header(name) {
            if value != REDACTED {
                *value = REDACTED.to_string();
            }
        } else {
            self.redact_in_place(value);
        }
    }
}

/// `db_password` -> `DB_PASSWORD`: a name as an environment variable.
pub fn placeholder(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// Single-quotes a word for a POSIX shell.
pub fn shell_quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

impl Redactor {
    /// `text` as one POSIX shell word for a reproduction: literal parts
    /// single-quoted, each secret form as `"${NAME}"` (its variable, or
    /// `SECRET` when it has none) and URL userinfo as `"${USERINFO}"`, so
    /// the command runs with the values taken from the environment and
    /// never shows them.
    pub fn shell_word(&self, text: &str) -> String {
        let mut secrets: Vec<(usize, usize, String)> = USERINFO
            .captures_iter(text)
            .filter_map(|c| {
                let scheme = c.get(1)?;
                let whole = c.get(0)?;
                Some((scheme.end(), whole.end() - 1, "USERINFO".to_string()))
            })
            .collect();
        let mut at = 0;
        while at < text.len() {
            if let Some(&(_, end, _)) = secrets.iter().find(|(s, _, _)| *s == at) {
                at = end;
                continue;
            }
            let rest = &text[at..];
            match self.forms.iter().find(|f| rest.starts_with(f.as_str())) {
                Some(form) => {
                    let name = self.names.get(form).map_or("SECRET", String::as_str);
                    secrets.push((at, at + form.len(), name.to_string()));
                    at += form.len();
                }
                None => at += rest.chars().next().map_or(1, char::len_utf8),
            }
        }
        secrets.sort();
        let mut out = String::new();
        let mut last = 0;
        for (start, end, name) in secrets {
            if start < last {
                continue;
            }
            if start > last {
                out.push_str(&shell_quote(&text[last..start]));
            }
            out.push_str(&format!("\"${{{name}}}\""));
            last = end;
        }
        if last < text.len() || out.is_empty() {
            out.push_str(&shell_quote(&text[last..]));
        }
        out
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
    fn every_encoding_of_a_secret() {
        let mut r = Redactor::default();
        let secret = "p@ss w/\"rd\\1";
        r.add(secret);
        let json = serde_json::to_string(secret).unwrap();
        let json = &json[1..json.len() - 1];
        let b64 = base64::engine::general_purpose::STANDARD.encode(secret);
        let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret);
        let pct = utf8_percent_encode(secret, NON_ALPHANUMERIC).to_string();
        let form = utf8_percent_encode(secret, USERINFO_SET)
            .to_string()
            .replace("%20", "+");
        let twice = json_escape(&json_escape(secret));
        for form in [secret, json, &twice, &b64, &b64url, &pct, &form] {
            let text = format!("<{form}>");
            assert_eq!(r.redact(&text), "<[redacted]>", "{form}");
        }
    }

    #[test]
    fn a_secret_echoed_by_other_json_encoders_or_lower_case_percent_escapes_is_redacted() {
        let mut r = Redactor::default();
        let secret = "ab/c<d>&e+f'g\"é😀";
        r.add(secret);
        for form in [
            // PHP json_encode: `\/`, and non-ASCII as lower-case \u escapes
            // (an astral character as a surrogate pair).
            r#"ab\/c<d>&e+f'g\"\u00e9\ud83d\ude00"#,
            // PHP with JSON_UNESCAPED_UNICODE.
            r#"ab\/c<d>&e+f'g\"é😀"#,
            // Python json.dumps.
            r#"ab/c<d>&e+f'g\"\u00e9\ud83d\ude00"#,
            // Go encoding/json.
            r#"ab/c\u003cd\u003e\u0026e+f'g\"é😀"#,
            // .NET System.Text.Json.
            r#"ab/c\u003Cd\u003E\u0026e\u002Bf\u0027g\u0022\u00E9\uD83D\uDE00"#,
            // Percent-encoded with lower-case hex digits.
            "ab%2fc%3cd%3e%26e%2bf%27g%22%c3%a9%f0%9f%98%80",
        ] {
            let text = format!("[{form}]");
            assert_eq!(r.redact(&text), "[[redacted]]", "{form}");
        }
        // A usual token gains no forms: every other escape equals it.
        let token = "tok_ABC-123.xyz";
        assert!(other_json_escapes(token).iter().all(|f| f == token));
    }

    #[test]
    fn basic_pairs_and_short_passwords() {
        let mut r = Redactor::default();
        let header = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("alice:pw")
        );
        r.add_credential_header(&header);
        assert_eq!(r.redact(&header), "Basic [redacted]");
        assert_eq!(r.redact("user alice:pw"), "user [redacted]");
        // `pw` alone is too short for free text, by design.
        assert_eq!(r.redact("pw is short"), "pw is short");
        let mut v = "Basic anything".to_string();
        r.redact_header("Authorization", &mut v);
        assert_eq!(v, REDACTED);
    }

    #[test]
    fn url_userinfo_whatever_its_length() {
        let mut r = Redactor::default();
        r.add_url_userinfo("http://alice:P%40SSword@127.0.0.1:9/v1");
        assert_eq!(
            r.redact("GET http://alice:P%40SSword@127.0.0.1:9/v1/pets"),
            "GET http://[redacted]@127.0.0.1:9/v1/pets"
        );
        assert_eq!(r.redact("echo P@SSword"), "echo [redacted]");
        let b64 = base64::engine::general_purpose::STANDARD.encode("alice:P@SSword");
        assert_eq!(r.redact(&b64), REDACTED);
        assert_eq!(
            strip_userinfo("see https://a:b@x.test and ftp://u@y"),
            "see https://[redacted]@x.test and ftp://[redacted]@y"
        );
        assert_eq!(strip_userinfo("mail me@example.com"), "mail me@example.com");
        let mut token = Redactor::default();
        token.add_url_userinfo("https://ghp_tokenvalue@api.test");
        assert_eq!(token.redact("ghp_tokenvalue"), REDACTED);
    }
    #[test]
    fn a_secret_added_after_first_use_is_still_found() {
        // The one-pass finder is cached; a secret learnt mid-case (a
        // captured token) must invalidate it, or it would leak.
        let mut r = Redactor::default();
        r.add("first-secret-value");
        assert!(r.has_secret("x first-secret-value y"));
        assert!(!r.has_secret("captured-token-42"));
        r.add("captured-token-42");
        assert!(r.has_secret("captured-token-42"));
        assert_eq!(r.redact("a captured-token-42 b"), "a [redacted] b");
        let mut merged = Redactor::default();
        assert!(!merged.has_secret("first-secret-value"));
        merged.merge(&r);
        assert!(merged.has_secret("first-secret-value"));
    }

    #[test]
    fn a_message_is_redacted_when_built_at_run_time_and_kept_when_a_literal() {
        let mut r = Redactor::default();
        r.add("s3cret-token");
        let mut built: Cow<'static, str> = Cow::Owned(format!("echoed {}", "s3cret-token"));
        r.redact_cow(&mut built);
        assert_eq!(built, "echoed [redacted]");
        let mut literal: Cow<'static, str> = Cow::Borrowed("skipped: no JSON body");
        r.redact_cow(&mut literal);
        assert!(matches!(literal, Cow::Borrowed("skipped: no JSON body")));
    }
}
