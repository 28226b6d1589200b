//! Which proxy a request goes through. The rule (README "TLS and proxies"):
//!
//! 1. The embedded reference servers are never proxied.
//! 2. A host matched by the no-proxy list (`--no-proxy`, else
//!    `NO_PROXY`/`no_proxy`) is never proxied; `*` matches every host.
//! 3. `--proxy URL` applies to every other request, loopback included
//!    (`--proxy ''` turns every proxy off, the environment's too).
//! 4. Without `--proxy`, the environment's proxy applies: `http_proxy`/
//!    `HTTP_PROXY` for http URLs, `https_proxy`/`HTTPS_PROXY` for https,
//!    else `all_proxy`/`ALL_PROXY` (lowercase first, as curl reads them),
//!    except to loopback hosts (localhost, 127.0.0.0/8, ::1): a proxy set
//!    for the machine cannot reach this machine's loopback.
//!
//! Proxy URLs may carry a user and password: they are secrets, so every
//! description of a proxy drops them.

use std::net::IpAddr;

use url::{Host, Url};

/// Why a proxy setting cannot be used. Never shows the value itself: a
/// proxy URL may carry a password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProxyError {
    #[error(
        "{source_name}: not a proxy URL like http://proxy.example:3128 ({why}; value not shown)"
    )]
    BadUrl { source_name: String, why: String },
    #[error(
        "{source_name}: proxy scheme `{scheme}` is not supported (use http:// or https://; value not shown)"
    )]
    Scheme { source_name: String, scheme: String },
}

/// One no-proxy entry.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Exclusion {
    /// `*`: every host.
    All,
    /// A host name: itself and its subdomains (`example.com`, `.example.com`).
    Domain(String),
    /// An IP address, or a network in CIDR form.
    Net(IpAddr, u8),
}

/// A no-proxy list as curl reads `NO_PROXY`: comma-separated host names
/// (matching subdomains too, a leading dot ignored), IP addresses, CIDR
/// networks, or `*`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NoProxy(Vec<Exclusion>);

impl NoProxy {
    pub fn parse(list: &str) -> NoProxy {
        let mut out = Vec::new();
        for raw in list.split([',', ' ']) {
            let entry = raw.trim().to_ascii_lowercase();
            if entry.is_empty() {
                continue;
            }
            if entry == "*" {
                out.push(Exclusion::All);
                continue;
            }
            if let Some((ip, bits)) = entry.split_once('/')
                && let (Ok(ip), Ok(bits)) = (ip.parse::<IpAddr>(), bits.parse::<u8>())
            {
                out.push(Exclusion::Net(ip, bits));
                continue;
            }
            let bare = entry.trim_start_matches('[').trim_end_matches(']');
            if let Ok(ip) = bare.parse::<IpAddr>() {
                let bits = if ip.is_ipv4() { 32 } else { 128 };
                out.push(Exclusion::Net(ip, bits));
                continue;
            }
            out.push(Exclusion::Domain(
                entry.trim_start_matches('.').trim_end_matches('.').into(),
            ));
        }
        NoProxy(out)
    }

    /// Whether requests to `host` skip the proxy.
    pub fn matches(&self, host: &Host<&str>) -> bool {
        self.0.iter().any(|e| match (e, host) {
            (Exclusion::All, _) => true,
            (Exclusion::Domain(d), Host::Domain(h)) => {
                let h = h.trim_end_matches('.').to_ascii_lowercase();
                h == *d || h.ends_with(&format!(".{d}"))
            }
            (Exclusion::Domain(_), _) => false,
            (Exclusion::Net(net, bits), Host::Ipv4(ip)) => in_net(IpAddr::V4(*ip), *net, *bits),
            (Exclusion::Net(net, bits), Host::Ipv6(ip)) => in_net(IpAddr::V6(*ip), *net, *bits),
            (Exclusion::Net(..), Host::Domain(_)) => false,
        })
    }
}

fn in_net(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let bits = u32::from(bits.min(32));
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let bits = u32::from(bits.min(128));
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// localhost (and `*.localhost`), 127.0.0.0/8 and ::1.
pub fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(d) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost")
        }
        Host::Ipv4(ip) => ip.is_loopback(),
        Host::Ipv6(ip) => ip.is_loopback(),
    }
}

/// A proxy and where its setting came from (`--proxy`, `HTTPS_PROXY`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyUrl {
    pub url: Url,
    pub source_name: String,
}

impl ProxyUrl {
    /// The proxy as it may be shown: user and password removed.
    pub fn shown(&self) -> String {
        let mut u = self.url.clone();
        let _ = u.set_username("");
        let _ = u.set_password(None);
        u.to_string().trim_end_matches('/').to_string()
    }
}

/// The run's proxy settings, resolved once from the flags and the
/// environment (see the module docs for the rule).
#[derive(Debug, Clone, Default)]
pub struct ProxySettings {
    /// `--proxy URL`; `None` with `off` set is `--proxy ''`.
    pub explicit: Option<ProxyUrl>,
    /// `--proxy ''`: no proxy at all.
    pub off: bool,
    pub env_http: Option<ProxyUrl>,
    pub env_https: Option<ProxyUrl>,
    pub env_all: Option<ProxyUrl>,
    pub no_proxy: NoProxy,
    /// `host:port` of the embedded reference servers: never proxied.
    pub bypass: Vec<(String, u16)>,
}

/// Parses a proxy URL as curl takes one: no scheme means `http://`.
fn parse_proxy(value: &str, source_name: &str) -> Result<ProxyUrl, ProxyError> {
    let value = value.trim();
    let text = if value.contains("://") {
        value.to_string()
    } else {
        format!("http://{value}")
    };
    let url = Url::parse(&text).map_err(|e| ProxyError::BadUrl {
        source_name: source_name.into(),
        why: e.to_string(),
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ProxyError::Scheme {
            source_name: source_name.into(),
            scheme: url.scheme().into(),
        });
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(ProxyError::BadUrl {
            source_name: source_name.into(),
            why: "no host".into(),
        });
    }
    Ok(ProxyUrl {
        url,
        source_name: source_name.into(),
    })
}

impl ProxySettings {
    /// From `--proxy` / `--no-proxy` and the environment (read through
    /// `env`, so the CLI edge decides where variables come from). An
    /// empty variable counts as unset.
    pub fn resolve(
        proxy_flag: Option<&str>,
        no_proxy_flag: Option<&str>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<ProxySettings, ProxyError> {
        let var = |names: [&'static str; 2]| {
            names
                .into_iter()
                .find_map(|n| env(n).filter(|v| !v.trim().is_empty()).map(|v| (n, v)))
        };
        let from_env = |names| match var(names) {
            Some((name, value)) => parse_proxy(&value, name).map(Some),
            None => Ok(None),
        };
        let (explicit, off) = match proxy_flag {
            Some(p) if p.trim().is_empty() => (None, true),
            Some(p) => (Some(parse_proxy(p, "--proxy")?), false),
            None => (None, false),
        };
        let no_proxy = match no_proxy_flag {
            Some(list) => NoProxy::parse(list),
            None => var(["no_proxy", "NO_PROXY"])
                .map(|(_, v)| NoProxy::parse(&v))
                .unwrap_or_default(),
        };
        Ok(ProxySettings {
            explicit,
            off,
            env_http: from_env(["http_proxy", "HTTP_PROXY"])?,
            env_https: from_env(["https_proxy", "HTTPS_PROXY"])?,
            env_all: from_env(["all_proxy", "ALL_PROXY"])?,
            no_proxy,
            bypass: Vec::new(),
        })
    }

    /// Every proxy URL set, credentials and all (for the redactor).
    pub fn urls(&self) -> impl Iterator<Item = &ProxyUrl> {
        [
            &self.explicit,
            &self.env_http,
            &self.env_https,
            &self.env_all,
        ]
        .into_iter()
        .flatten()
    }

    /// Whether any request could be proxied (else the client needs none).
    pub fn any(&self) -> bool {
        !self.off
            && (self.explicit.is_some()
                || self.env_http.is_some()
                || self.env_https.is_some()
                || self.env_all.is_some())
    }

    /// The proxy for a request to `url`, or `None` to connect directly.
    pub fn route(&self, url: &Url) -> Option<&ProxyUrl> {
        if self.off {
            return None;
        }
        let host = url.host()?;
        let port = url.port_or_known_default().unwrap_or(0);
        let host_text = url.host_str().unwrap_or_default();
        if self
            .bypass
            .iter()
            .any(|(h, p)| *p == port && h.eq_ignore_ascii_case(host_text))
        {
            return None;
        }
        if self.no_proxy.matches(&host) {
            return None;
        }
        if let Some(p) = &self.explicit {
            return Some(p);
        }
        if is_loopback(&host) {
            return None;
        }
        let by_scheme = match url.scheme() {
            "http" => self.env_http.as_ref(),
            "https" => self.env_https.as_ref(),
            _ => None,
        };
        by_scheme.or(self.env_all.as_ref())
    }

    /// For the run's header line and report: the proxies in use, without
    /// credentials (`http://proxy:3128 (--proxy)`); `None` when none is.
    pub fn describe(&self) -> Option<String> {
        if self.off {
            return None;
        }
        let mut parts: Vec<String> = Vec::new();
        let candidates = [
            &self.explicit,
            &self.env_https,
            &self.env_http,
            &self.env_all,
        ];
        for p in candidates.into_iter().flatten() {
            let text = format!("{} ({})", p.shown(), p.source_name);
            if !parts.contains(&text) {
                parts.push(text);
            }
            if self.explicit.is_some() {
                break;
            }
        }
        (!parts.is_empty()).then(|| parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        }
    }

    fn route(s: &ProxySettings, url: &str) -> Option<String> {
        s.route(&Url::parse(url).expect("url")).map(|p| p.shown())
    }

    #[test]
    fn environment_proxies_skip_loopback_and_pick_by_scheme() {
        let s = ProxySettings::resolve(
            None,
            None,
            env(&[
                ("HTTP_PROXY", "http://plain:8080"),
                ("https_proxy", "secure:8443"),
            ]),
        )
        .expect("settings");
        assert_eq!(
            route(&s, "http://api.example.com/x").as_deref(),
            Some("http://plain:8080")
        );
        assert_eq!(
            route(&s, "https://api.example.com/").as_deref(),
            Some("http://secure:8443")
        );
        for local in [
            "http://127.0.0.1:9/",
            "http://127.8.0.1/",
            "http://localhost:1/",
            "http://[::1]:80/",
            "http://a.localhost/",
        ] {
            assert_eq!(route(&s, local), None, "{local}");
        }
    }

    #[test]
    fn lowercase_wins_and_all_proxy_is_the_fallback() {
        let s = ProxySettings::resolve(
            None,
            None,
            env(&[
                ("http_proxy", "http://lower:1"),
                ("HTTP_PROXY", "http://upper:2"),
                ("ALL_PROXY", "http://all:3"),
            ]),
        )
        .expect("settings");
        assert_eq!(
            route(&s, "http://x.example/").as_deref(),
            Some("http://lower:1")
        );
        assert_eq!(
            route(&s, "https://x.example/").as_deref(),
            Some("http://all:3")
        );
    }

    #[test]
    fn an_explicit_proxy_covers_loopback_unless_no_proxy_matches() {
        let s = ProxySettings::resolve(Some("http://u:pw@127.0.0.1:3128"), None, env(&[]))
            .expect("settings");
        assert_eq!(
            route(&s, "http://127.0.0.1:8080/").as_deref(),
            Some("http://127.0.0.1:3128")
        );
        let s = ProxySettings::resolve(
            Some("http://127.0.0.1:3128"),
            None,
            env(&[("NO_PROXY", "127.0.0.1")]),
        )
        .expect("settings");
        assert_eq!(route(&s, "http://127.0.0.1:8080/"), None);
        // --no-proxy replaces NO_PROXY.
        let s = ProxySettings::resolve(
            Some("http://127.0.0.1:3128"),
            Some("other.example"),
            env(&[("NO_PROXY", "127.0.0.1")]),
        )
        .expect("settings");
        assert!(route(&s, "http://127.0.0.1:8080/").is_some());
        assert_eq!(route(&s, "http://api.other.example/"), None);
    }

    #[test]
    fn embedded_servers_and_an_empty_proxy_flag_bypass_everything() {
        let mut s = ProxySettings::resolve(Some("http://p:1"), None, env(&[])).expect("settings");
        s.bypass.push(("127.0.0.1".into(), 4000));
        assert_eq!(route(&s, "http://127.0.0.1:4000/v1"), None);
        assert!(route(&s, "http://127.0.0.1:4001/v1").is_some());
        let s = ProxySettings::resolve(Some(""), None, env(&[("HTTPS_PROXY", "http://p:1")]))
            .expect("settings");
        assert!(!s.any());
        assert_eq!(route(&s, "https://api.example.com/"), None);
    }

    #[test]
    fn no_proxy_entries_as_curl_reads_them() {
        let n = NoProxy::parse(" .example.com, 10.0.0.0/8 ,192.168.1.5, [::1], corp");
        let m = |h: &str| {
            let url = Url::parse(&format!("http://{h}/")).expect("url");
            n.matches(&url.host().expect("host"))
        };
        assert!(m("example.com") && m("api.example.com"));
        assert!(!m("badexample.com"));
        assert!(m("10.20.30.40") && !m("11.0.0.1"));
        assert!(m("192.168.1.5") && !m("192.168.1.6"));
        assert!(m("[::1]"));
        assert!(m("corp") && m("x.corp") && !m("corporate"));
        assert!(NoProxy::parse("*").matches(&Host::Domain("anything")));
    }

    #[test]
    fn bad_proxy_urls_never_echo_the_value() {
        let e = ProxySettings::resolve(Some("socks5://u:secret@h:1"), None, env(&[]))
            .expect_err("socks");
        assert!(!e.to_string().contains("secret"), "{e}");
        assert!(e.to_string().contains("--proxy"), "{e}");
        let e = ProxySettings::resolve(None, None, env(&[("HTTPS_PROXY", "http://[bad")]))
            .expect_err("bad");
        assert!(e.to_string().contains("HTTPS_PROXY"), "{e}");
    }

    #[test]
    fn descriptions_drop_credentials() {
        let s = ProxySettings::resolve(Some("http://user:hunter2@proxy:3128"), None, env(&[]))
            .expect("settings");
        let d = s.describe().expect("described");
        assert_eq!(d, "http://proxy:3128 (--proxy)");
    }
}
