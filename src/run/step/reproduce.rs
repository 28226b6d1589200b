//! Reproductions of failed request steps: a `curl` command that sends the
//! same request, each secret shown as a `"${NAME}"` placeholder (the form
//! the findings of generated checks use), never its value. Built from the
//! rendered request before redaction, so every secret is recognised by the
//! case's redactor and named after the variable it came from.

use std::path::PathBuf;

use crate::redact::{is_credential_header, placeholder, shell_quote};
use crate::run::proxy::ProxyUrl;
use crate::suite::Credential;
use crate::suite::template::Template;
use crate::suite::vars::Redactor;
use crate::tls::ClientCert;

use super::render::RenderedRequest;

/// Longest body written into a reproduction; a longer one is cut and said so.
const MAX_BODY: usize = 64 * 1024;

/// How the step reached the target, so the command goes the same way:
/// `--insecure`, `--cacert` files, the client certificate and the proxy.
#[derive(Default)]
pub(super) struct Transport<'a> {
    pub insecure: bool,
    pub cacerts: &'a [PathBuf],
    /// The credential's `tls:` certificate, else the run's `--cert`.
    pub client_cert: Option<&'a ClientCert>,
    /// The proxy this URL was sent through (its user and password become
    /// placeholders).
    pub proxy: Option<&'a ProxyUrl>,
}

impl Transport<'_> {
    fn words(&self) -> Vec<String> {
        let mut words = Vec::new();
        if self.insecure {
            // The run did not verify the server's certificate either.
            words.push("-k".into());
        }
        for file in self.cacerts {
            words.push("--cacert".into());
            words.push(shell_quote(&file.display().to_string()));
        }
        if let Some(cert) = self.client_cert {
            words.push("--cert".into());
            words.push(shell_quote(&cert.cert.display().to_string()));
            words.push("--key".into());
            words.push(shell_quote(&cert.key.display().to_string()));
        }
        if let Some(proxy) = self.proxy {
            words.push("--proxy".into());
            words.push(shell_quote(&proxy.shown()));
            if !proxy.url.username().is_empty() || proxy.url.password().is_some() {
                words.push("--proxy-user".into());
                words.push("\"${PROXY_USER}:${PROXY_PASSWORD}\"".into());
            }
        }
        words
    }
}

/// The curl command for a rendered request and its credential (by name).
pub(super) fn curl(
    method: &reqwest::Method,
    rendered: &RenderedRequest<'_>,
    credential: Option<(&str, &Credential)>,
    redactor: &Redactor,
    transport: &Transport<'_>,
) -> String {
    let (url, secret_query) = split_query(&rendered.url, redactor);
    let mut words = vec!["curl".to_string(), "-i".into()];
    words.extend(transport.words());
    words.extend(["-X".into(), method.to_string(), redactor.shell_word(&url)]);
    for pair in secret_query {
        words.push("--url-query".into());
        words.push(redactor.shell_word(&pair));
    }
    for (name, value) in &rendered.headers {
        words.push("-H".into());
        if is_credential_header(name.as_str()) {
            words.push(format!("\"{name}: ${{{}}}\"", placeholder(name.as_str())));
        } else {
            words.push(redactor.shell_word(&format!("{name}: {value}")));
        }
    }
    if let Some((name, cred)) = credential {
        words.extend(credential_words(name, cred));
    }
    if let Some((bytes, content_type)) = &rendered.body {
        words.push("-H".into());
        words.push(shell_quote(&format!("Content-Type: {content_type}")));
        words.extend(body_words(bytes, redactor));
    }
    words.join(" ")
}

/// The URL without the query parameters that hold a secret, and those
/// parameters decoded (`name=value`): a placeholder stands for the plain
/// value, so curl's `--url-query` encodes it as the step did.
fn split_query(url: &str, redactor: &Redactor) -> (String, Vec<String>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_string(), Vec::new());
    };
    let mut kept = Vec::new();
    let mut moved = Vec::new();
    for raw in query.split('&') {
        let decoded = percent_encoding::percent_decode_str(&raw.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned();
        if redactor.has_secret(&decoded) {
            moved.push(decoded);
        } else {
            kept.push(raw);
        }
    }
    let url = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    (url, moved)
}

/// `-H "Authorization: Bearer ${TOKEN}"`, `-u "${USER}:${PASSWORD}"` or
/// `-H "X-Api-Key: ${API_KEY}"`: the variable the credential is written
/// with, or one named after the credential (an OAuth2 credential's token:
/// `${NAME_ACCESS_TOKEN}`, fetched by whoever runs the command).
fn credential_words(name: &str, cred: &Credential) -> Vec<String> {
    let var = |t: &Template, suffix: &str| {
        t.lone_variable()
            .map(placeholder)
            .unwrap_or_else(|| placeholder(&format!("{name}_{suffix}")))
    };
    match cred {
        Credential::Bearer(t) => vec![
            "-H".into(),
            format!("\"Authorization: Bearer ${{{}}}\"", var(t, "token")),
        ],
        Credential::Basic(u, p) => vec![
            "-u".into(),
            format!("\"${{{}}}:${{{}}}\"", var(u, "user"), var(p, "password")),
        ],
        Credential::Header(header, t) => vec![
            "-H".into(),
            format!("\"{header}: ${{{}}}\"", var(t, "value")),
        ],
        // A token the run fetched: the reader fetches their own.
        Credential::OAuth2(_) => vec![
            "-H".into(),
            format!(
                "\"Authorization: Bearer ${{{}}}\"",
                placeholder(&format!("{name}_access_token"))
            ),
        ],
    }
}

fn body_words(bytes: &[u8], redactor: &Redactor) -> Vec<String> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return vec![format!(
            "--data-binary @body.bin  # the body: {} bytes, not text",
            bytes.len()
        )];
    };
    if text.len() > MAX_BODY {
        let mut cut = MAX_BODY;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        return vec![
            "--data-raw".into(),
            redactor.shell_word(&text[..cut]),
            format!("# body cut at {MAX_BODY} of {} bytes", text.len()),
        ];
    }
    vec!["--data-raw".into(), redactor.shell_word(text)]
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use reqwest::header::HeaderName;
    use serde_json::{Value, json};

    use super::*;

    fn redactor() -> Redactor {
        let globals: HashMap<String, Value> = [
            ("db_password".to_string(), json!("hunter2-pass")),
            ("plain".to_string(), json!("visible-value")),
        ]
        .into_iter()
        .collect();
        Redactor::new(&globals, &HashSet::new())
    }

    fn request(url: &str, body: Option<&str>) -> RenderedRequest<'static> {
        RenderedRequest {
            url: url.into(),
            headers: vec![
                (HeaderName::from_static("x-trace"), "t-hunter2-pass".into()),
                (HeaderName::from_static("x-api-key"), "k".into()),
            ],
            json_body: None,
            body: body.map(|b| (bytes::Bytes::from(b.to_string()), "application/json")),
        }
    }

    #[test]
    fn secrets_become_named_placeholders_and_nothing_else_changes() {
        let r = request(
            "http://alice:pw@127.0.0.1:1/x?q=visible-value&p=hunter2-pass",
            Some(r#"{"password":"hunter2-pass","it's":"ok"}"#),
        );
        let cred = Credential::Bearer(Template::parse("{{ api_token }}").expect("template"));
        let line = curl(
            &reqwest::Method::POST,
            &r,
            Some(("owner", &cred)),
            &redactor(),
            &Transport::default(),
        );
        assert!(!line.contains("hunter2"), "{line}");
        assert!(!line.contains("alice:pw"), "{line}");
        assert!(
            line.contains(r#"--url-query 'p='"${DB_PASSWORD}""#),
            "{line}"
        );
        assert!(line.contains("/x?q=visible-value' "), "{line}");
        assert!(line.contains(r#""${USERINFO}""#), "{line}");
        assert!(line.contains("visible-value"), "{line}");
        assert!(
            line.contains(r#"-H "Authorization: Bearer ${API_TOKEN}""#),
            "{line}"
        );
        assert!(line.contains(r#"-H "x-api-key: ${X_API_KEY}""#), "{line}");
        assert!(line.contains(r"'\''s"), "single quotes escaped: {line}");
        assert!(line.starts_with("curl -i -X POST 'http://"), "{line}");
        let proxy = ProxyUrl {
            url: url::Url::parse("http://puser:ppass@127.0.0.1:3128").expect("url"),
            source_name: "--proxy".into(),
        };
        let cacerts = [PathBuf::from("/etc/ca dir/ca.pem")];
        let transport = Transport {
            insecure: true,
            cacerts: &cacerts,
            client_cert: None,
            proxy: Some(&proxy),
        };
        let line = curl(&reqwest::Method::GET, &r, None, &redactor(), &transport);
        assert!(
            line.starts_with(
                r#"curl -i -k --cacert '/etc/ca dir/ca.pem' --proxy 'http://127.0.0.1:3128' --proxy-user "${PROXY_USER}:${PROXY_PASSWORD}" -X GET "#
            ),
            "{line}"
        );
        assert!(!line.contains("ppass") && !line.contains("puser"), "{line}");
    }

    #[test]
    fn basic_and_header_credentials_name_their_variables_or_the_credential() {
        let basic = Credential::Basic(
            Template::parse("{{ user }}").expect("template"),
            Template::parse("pre-{{ pw }}").expect("template"),
        );
        let words = credential_words("admin", &basic);
        assert_eq!(words, ["-u", r#""${USER}:${ADMIN_PASSWORD}""#]);
        let header = Credential::Header(
            "X-Key".into(),
            Template::parse("{{ key }}").expect("template"),
        );
        assert_eq!(credential_words("k", &header), ["-H", r#""X-Key: ${KEY}""#]);
    }

    #[test]
    fn a_body_that_is_not_text_is_named_not_dumped() {
        let words = body_words(&[0xff, 0xfe, 0], &redactor());
        assert_eq!(words.len(), 1);
        assert!(words[0].contains("3 bytes"), "{words:?}");
    }
}
