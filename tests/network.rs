//! TLS and proxies, driving the real binary: certificates made here with
//! rcgen, an HTTPS server on 127.0.0.1 (one that requires a client
//! certificate too), and a forward/CONNECT proxy on 127.0.0.1 that counts
//! what it forwards. Proxy variables are set on the child process only.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use common::{fixture, stderr, stdout};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::rustls;

const PROXY_VARS: [&str; 8] = [
    "http_proxy",
    "HTTP_PROXY",
    "https_proxy",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "no_proxy",
    "NO_PROXY",
];

/// Runs the binary with every proxy variable removed, then `env` set, on
/// the child only.
fn run_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_apiconform"));
    cmd.args(args)
        .env("NO_COLOR", "1")
        .env_remove("APICONFORM_BASE_URL")
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    for v in PROXY_VARS {
        cmd.env_remove(v);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run apiconform")
}

fn all_output(o: &Output) -> String {
    format!("{}{}", stdout(o), stderr(o))
}

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("apiconform-net-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).expect("dir");
    d
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime")
}

/// A CA, a server certificate for 127.0.0.1/localhost signed by it, and
/// a client certificate signed by a second CA, written as PEM files.
struct Pki {
    ca: PathBuf,
    server_chain: Vec<rustls::pki_types::CertificateDer<'static>>,
    server_key: rustls::pki_types::PrivateKeyDer<'static>,
    client_ca: rustls::pki_types::CertificateDer<'static>,
    client_cert: PathBuf,
    client_key: PathBuf,
}

fn ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    CertifiedIssuer::self_signed(params, KeyPair::generate().expect("key")).expect("ca")
}

fn pki(d: &Path) -> Pki {
    let server_ca = ca("apiconform test server CA");
    let key = KeyPair::generate().expect("key");
    let params = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
        .expect("params");
    let server = params.signed_by(&key, &server_ca).expect("server cert");
    let client_ca = ca("apiconform test client CA");
    let ckey = KeyPair::generate().expect("key");
    let mut cparams = CertificateParams::new(Vec::<String>::new()).expect("params");
    cparams
        .distinguished_name
        .push(DnType::CommonName, "apiconform test client");
    let client = cparams.signed_by(&ckey, &client_ca).expect("client cert");
    let write = |name: &str, text: String| {
        let p = d.join(name);
        std::fs::write(&p, text).expect("write");
        p
    };
    Pki {
        ca: write("ca.pem", server_ca.pem()),
        server_chain: vec![server.der().clone()],
        server_key: rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        client_ca: client_ca.der().clone(),
        client_cert: write("client.pem", client.pem()),
        client_key: write("client-key.pem", ckey.serialize_pem()),
    }
}

/// Reads an HTTP request head (up to the blank line).
async fn read_head<S: AsyncReadExt + Unpin>(s: &mut S) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = s.read(&mut chunk).await.ok()?;
        if n == 0 || buf.len() > 64 * 1024 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Some(buf)
}

const LIST_BODY: &str = r#"{"items":[],"total":0}"#;

/// Answers every request on a stream with an empty pet list, then closes.
async fn answer<S: AsyncReadExt + AsyncWriteExt + Unpin>(mut s: S, served: &AtomicUsize) {
    if read_head(&mut s).await.is_none() {
        return;
    }
    served.fetch_add(1, Ordering::SeqCst);
    let reply = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{LIST_BODY}",
        LIST_BODY.len()
    );
    let _ = s.write_all(reply.as_bytes()).await;
    let _ = s.shutdown().await;
}

/// An HTTPS (or plain HTTP) server on 127.0.0.1 counting the requests it
/// answered.
struct Server {
    url: String,
    served: Arc<AtomicUsize>,
    _rt: tokio::runtime::Runtime,
}

fn https_server(p: &Pki, require_client_cert: bool) -> Server {
    let builder = rustls::ServerConfig::builder();
    let builder = if require_client_cert {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(p.client_ca.clone()).expect("client CA");
        let verifier = rustls::server::WebPkiClientVerifier::builder(Arc::new(roots))
            .build()
            .expect("verifier");
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    };
    let config = builder
        .with_single_cert(p.server_chain.clone(), p.server_key.clone_key())
        .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    serve(move |tcp, served| {
        let acceptor = acceptor.clone();
        async move {
            if let Ok(tls) = acceptor.accept(tcp).await {
                answer(tls, &served).await;
            }
        }
    })
    .with_scheme("https")
}

fn http_server() -> Server {
    serve(|tcp, served| async move { answer(tcp, &served).await })
}

/// Accepts connections on 127.0.0.1:0, each handled by `handle`.
fn serve<F, Fut>(handle: F) -> Server
where
    F: Fn(TcpStream, Arc<AtomicUsize>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let rt = runtime();
    let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).expect("bind");
    let addr = listener.local_addr().expect("addr");
    let served = Arc::new(AtomicUsize::new(0));
    let counter = served.clone();
    rt.spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(handle(tcp, counter.clone()));
        }
    });
    Server {
        url: format!("http://{addr}"),
        served,
        _rt: rt,
    }
}

impl Server {
    fn with_scheme(mut self, scheme: &str) -> Server {
        self.url = self.url.replacen("http", scheme, 1);
        self
    }

    fn served(&self) -> usize {
        self.served.load(Ordering::SeqCst)
    }
}

/// A forward (absolute-form) and CONNECT proxy on 127.0.0.1 that counts
/// the requests it forwards and keeps each request head it saw.
struct Proxy {
    url: String,
    forwarded: Arc<AtomicUsize>,
    heads: Arc<Mutex<Vec<String>>>,
    _rt: tokio::runtime::Runtime,
}

impl Proxy {
    fn forwarded(&self) -> usize {
        self.forwarded.load(Ordering::SeqCst)
    }

    fn heads(&self) -> String {
        self.heads.lock().expect("heads").join("\n")
    }
}

fn proxy() -> Proxy {
    let rt = runtime();
    let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).expect("bind");
    let addr = listener.local_addr().expect("addr");
    let forwarded = Arc::new(AtomicUsize::new(0));
    let heads = Arc::new(Mutex::new(Vec::new()));
    let (f, h) = (forwarded.clone(), heads.clone());
    rt.spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(relay(tcp, f.clone(), h.clone()));
        }
    });
    Proxy {
        url: format!("http://{addr}"),
        forwarded,
        heads,
        _rt: rt,
    }
}

/// One proxied connection: CONNECT host:port tunnels; `GET http://...`
/// is sent on to that host as it came (servers accept the absolute form).
async fn relay(mut client: TcpStream, forwarded: Arc<AtomicUsize>, heads: Arc<Mutex<Vec<String>>>) {
    let Some(head) = read_head(&mut client).await else {
        return;
    };
    let text = String::from_utf8_lossy(&head).into_owned();
    heads.lock().expect("heads").push(text.clone());
    let mut words = text.split_whitespace();
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let authority = if method == "CONNECT" {
        target.to_string()
    } else {
        let rest = target.strip_prefix("http://").unwrap_or(target);
        rest.split('/').next().unwrap_or("").to_string()
    };
    // Only ever to this machine.
    if !authority.starts_with("127.0.0.1:") {
        let _ = client
            .write_all(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n")
            .await;
        return;
    }
    let Ok(mut upstream) = TcpStream::connect(&authority).await else {
        let _ = client
            .write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n")
            .await;
        return;
    };
    forwarded.fetch_add(1, Ordering::SeqCst);
    if method == "CONNECT" {
        let _ = client
            .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
            .await;
    } else if upstream.write_all(&head).await.is_err() {
        return;
    }
    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
}

/// A suite of one case listing pets, with the given credentials block.
fn suite(d: &Path, credentials: &str) -> PathBuf {
    let f = d.join("suite.yaml");
    let text = format!(
        "spec: {}\nname: net\ncredentials:\n{credentials}default_credential: owner\ncases:\n  - name: list pets\n    steps:\n      - operation: listPets\n        expect: {{status: 200}}\n",
        fixture("pets-api.yaml").display()
    );
    std::fs::write(&f, text).expect("write");
    f
}

const BEARER: &str = "  owner: {bearer: test-token}\n";

/// `run FILE --base-url URL --no-progress --json REPORT` plus `extra`;
/// returns the output and the JSON report's text.
fn run(file: &Path, url: &str, extra: &[&str], env: &[(&str, &str)]) -> (Output, String) {
    let json = file.with_extension("json");
    let _ = std::fs::remove_file(&json);
    let (f, j) = (file.display().to_string(), json.display().to_string());
    let mut args = vec!["run", &f, "--base-url", url, "--no-progress", "--json", &j];
    args.extend_from_slice(extra);
    let out = run_env(&args, env);
    (out, std::fs::read_to_string(&json).unwrap_or_default())
}

fn report(json: &str) -> serde_json::Value {
    serde_json::from_str(json).unwrap_or_else(|e| panic!("report: {e}: {json}"))
}

#[test]
fn without_cacert_each_step_fails_with_a_certificate_error() {
    let d = dir("no-ca");
    let p = pki(&d);
    let server = https_server(&p, false);
    let (out, json) = run(&suite(&d, BEARER), &server.url, &[], &[]);
    let text = all_output(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(!text.contains("panicked"), "{text}");
    assert!(
        text.contains("--cacert"),
        "the error says what to do: {text}"
    );
    let r = report(&json);
    let error = r["cases"][0]["steps"][0]["error"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(error.contains("certificate"), "{error}");
    assert_eq!(server.served(), 0);
}

#[test]
fn with_cacert_the_run_passes() {
    let d = dir("ca");
    let p = pki(&d);
    let server = https_server(&p, false);
    let ca = p.ca.display().to_string();
    let (out, json) = run(&suite(&d, BEARER), &server.url, &["--cacert", &ca], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    assert_eq!(server.served(), 1);
    assert_eq!(report(&json)["insecure"], false);
    assert!(!stdout(&out).contains("insecure"), "{}", stdout(&out));
}

#[test]
fn insecure_passes_and_every_header_line_says_so() {
    let d = dir("insecure");
    let p = pki(&d);
    let server = https_server(&p, false);
    let (out, json) = run(&suite(&d, BEARER), &server.url, &["--insecure"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    let header = stdout(&out).lines().next().unwrap_or_default().to_string();
    assert!(header.starts_with("apiconform "), "{header}");
    assert!(
        header.contains("insecure: server certificates not verified"),
        "{header}"
    );
    assert_eq!(report(&json)["insecure"], true);
    // Quiet runs print no header line, but still say it.
    let (out, _) = run(&suite(&d, BEARER), &server.url, &["-k", "-q"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    assert!(stdout(&out).contains("insecure"), "{}", stdout(&out));
}

#[test]
fn a_bad_or_missing_cacert_is_exit_2_naming_the_file() {
    let d = dir("bad-ca");
    let file = suite(&d, BEARER);
    let junk = d.join("junk.pem");
    std::fs::write(&junk, "not a certificate").expect("write");
    let missing = d.join("missing.pem");
    for bad in [&junk, &missing] {
        let b = bad.display().to_string();
        let (out, _) = run(&file, "https://127.0.0.1:9", &["--cacert", &b], &[]);
        assert_eq!(out.status.code(), Some(2), "{}", all_output(&out));
        assert!(stderr(&out).contains(&b), "{}", stderr(&out));
        assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    }
}

#[test]
fn mtls_needs_a_client_certificate_and_accepts_cert_and_key() {
    let d = dir("mtls");
    let p = pki(&d);
    let server = https_server(&p, true);
    let file = suite(&d, BEARER);
    let ca = p.ca.display().to_string();
    let (out, json) = run(&file, &server.url, &["--cacert", &ca], &[]);
    let text = all_output(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("client certificate"), "{text}");
    assert_eq!(server.served(), 0);
    // The reproduction trusts the same CA.
    let curl = report(&json)["cases"][0]["steps"][0]["request"]["curl"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        curl.starts_with(&format!("curl -i --cacert '{ca}' -X GET")),
        "{curl}"
    );
    let (cert, key) = (
        p.client_cert.display().to_string(),
        p.client_key.display().to_string(),
    );
    let (out, _) = run(
        &file,
        &server.url,
        &["--cacert", &ca, "--cert", &cert, "--key", &key],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    assert_eq!(server.served(), 1);
}

#[test]
fn cert_without_key_is_exit_2() {
    let d = dir("half");
    let p = pki(&d);
    let file = suite(&d, BEARER);
    let cert = p.client_cert.display().to_string();
    let (out, _) = run(&file, "https://127.0.0.1:9", &["--cert", &cert], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", all_output(&out));
    assert!(stderr(&out).contains("--key"), "{}", stderr(&out));
    // A key that is not a key.
    let (out, _) = run(
        &file,
        "https://127.0.0.1:9",
        &["--cert", &cert, "--key", &cert],
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{}", all_output(&out));
    assert!(stderr(&out).contains(&cert), "{}", stderr(&out));
    // A key, but not the certificate's.
    let other = d.join("other-key.pem");
    std::fs::write(&other, KeyPair::generate().expect("key").serialize_pem()).expect("write");
    let o = other.display().to_string();
    let (out, _) = run(
        &file,
        "https://127.0.0.1:9",
        &["--cert", &cert, "--key", &o],
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{}", all_output(&out));
    assert!(stderr(&out).contains(&o), "{}", stderr(&out));
}

#[test]
fn a_credential_with_its_own_certificate_passes_where_others_fail() {
    let d = dir("cred-cert");
    let p = pki(&d);
    let server = https_server(&p, true);
    // Paths relative to the suite file.
    let creds = "  owner: {bearer: test-token, tls: {cert: client.pem, key: client-key.pem}}\n  plain: {bearer: test-token}\n  cert_only: {tls: {cert: client.pem, key: client-key.pem}}\n";
    let f = d.join("suite.yaml");
    let text = format!(
        "spec: {}\nname: net\ncredentials:\n{creds}default_credential: owner\ncases:\n  - name: with its certificate\n    steps:\n      - operation: listPets\n        expect: {{status: 200}}\n  - name: with only a certificate\n    steps:\n      - operation: listPets\n        credential: cert_only\n        expect: {{status: 200}}\n  - name: without one\n    steps:\n      - operation: listPets\n        credential: plain\n        expect: {{status: 200}}\n",
        fixture("pets-api.yaml").display()
    );
    std::fs::write(&f, text).expect("write");
    let ca = p.ca.display().to_string();
    let (out, json) = run(&f, &server.url, &["--cacert", &ca, "-j", "1"], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    let r = report(&json);
    let status = |i: usize| r["cases"][i]["status"].as_str().unwrap_or("").to_string();
    assert_eq!(status(0), "passed", "{json}");
    assert_eq!(status(1), "passed", "{json}");
    assert_eq!(status(2), "failed", "{json}");
    assert_eq!(server.served(), 2);
    // The private key never reaches the report.
    let key = std::fs::read_to_string(&p.client_key).expect("key");
    let body = key.lines().nth(1).unwrap_or("-");
    assert!(!json.contains(body));
    // Nor is a report ever written over the credential's key.
    let key_path = p.client_key.display().to_string();
    let (out, _) = run(
        &f,
        &server.url,
        &["--cacert", &ca, "--junit", &key_path],
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{}", all_output(&out));
    assert!(stderr(&out).contains("--junit"), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&p.client_key).expect("key"), key);
}

#[test]
fn a_bad_credential_certificate_points_at_its_line() {
    let d = dir("cred-bad");
    let _ = pki(&d);
    let creds = "  owner:\n    bearer: test-token\n    tls:\n      cert: client.pem\n      key: nowhere.pem\n";
    let file = suite(&d, creds);
    let (out, _) = run(&file, "https://127.0.0.1:9", &[], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", all_output(&out));
    let e = stderr(&out);
    assert!(e.contains("suite.yaml:8:12"), "{e}");
    assert!(e.contains("nowhere.pem"), "{e}");
}

#[test]
fn an_environment_proxy_skips_loopback_targets() {
    let d = dir("env-proxy");
    let target = http_server();
    let proxy = proxy();
    let env = [
        ("HTTP_PROXY", proxy.url.as_str()),
        ("http_proxy", proxy.url.as_str()),
        ("ALL_PROXY", proxy.url.as_str()),
    ];
    let (out, _) = run(&suite(&d, BEARER), &target.url, &[], &env);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    assert_eq!(proxy.forwarded(), 0);
    assert_eq!(target.served(), 1);
}

#[test]
fn an_explicit_proxy_carries_loopback_traffic_and_hides_its_password() {
    let d = dir("flag-proxy");
    let target = http_server();
    let proxy = proxy();
    let with_auth = proxy.url.replace("http://", "http://tester:s3cret-pw@");
    let (out, json) = run(
        &suite(&d, BEARER),
        &target.url,
        &["--proxy", &with_auth],
        &[],
    );
    let text = all_output(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(proxy.forwarded() > 0);
    assert_eq!(target.served(), 1);
    // The proxy got the credentials; nothing shown has them.
    assert!(
        proxy
            .heads()
            .to_ascii_lowercase()
            .contains("proxy-authorization: basic"),
        "{}",
        proxy.heads()
    );
    let header = stdout(&out).lines().next().unwrap_or_default().to_string();
    assert!(
        header.contains(&format!("proxy {} (--proxy)", proxy.url)),
        "{header}"
    );
    for shown in [&text, &json] {
        assert!(!shown.contains("s3cret-pw"), "{shown}");
        assert!(!shown.contains("tester:"), "{shown}");
    }
    assert_eq!(report(&json)["proxy"], format!("{} (--proxy)", proxy.url));
}

#[test]
fn no_proxy_excludes_hosts_from_an_explicit_proxy() {
    let d = dir("no-proxy");
    let target = http_server();
    let proxy = proxy();
    let file = suite(&d, BEARER);
    let (out, _) = run(
        &file,
        &target.url,
        &["--proxy", &proxy.url],
        &[("NO_PROXY", "example.com,127.0.0.1")],
    );
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    let (out, _) = run(
        &file,
        &target.url,
        &["--proxy", &proxy.url, "--no-proxy", "127.0.0.0/8"],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    assert_eq!(proxy.forwarded(), 0);
    assert_eq!(target.served(), 2);
}

#[test]
fn https_goes_through_the_proxy_with_connect() {
    let d = dir("connect");
    let p = pki(&d);
    let server = https_server(&p, false);
    let proxy = proxy();
    let ca = p.ca.display().to_string();
    let (out, _) = run(
        &suite(&d, BEARER),
        &server.url,
        &["--cacert", &ca, "--proxy", &proxy.url],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    assert_eq!(proxy.forwarded(), 1);
    assert!(
        proxy.heads().starts_with("CONNECT 127.0.0.1:"),
        "{}",
        proxy.heads()
    );
    assert_eq!(server.served(), 1);
}

#[test]
fn embedded_reference_servers_are_never_proxied() {
    let proxy = proxy();
    let out = run_env(
        &[
            "run",
            "cases/mycloud/create.yaml",
            "--name",
            "create a public share",
            "--no-progress",
            "--proxy",
            &proxy.url,
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
    assert_eq!(proxy.forwarded(), 0);
    // Nor is a proxy shown for them.
    assert!(!stdout(&out).contains("proxy"), "{}", stdout(&out));
}

#[test]
fn a_bad_proxy_is_exit_2_without_echoing_it() {
    let d = dir("bad-proxy");
    let file = suite(&d, BEARER);
    let (out, _) = run(
        &file,
        "http://127.0.0.1:9",
        &["--proxy", "socks5://u:hidden-pw@127.0.0.1:1"],
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{}", all_output(&out));
    assert!(stderr(&out).contains("--proxy"), "{}", stderr(&out));
    assert!(!all_output(&out).contains("hidden-pw"));
    let (out, _) = run(
        &file,
        "http://127.0.0.1:9",
        &[],
        &[("HTTPS_PROXY", "http://[broken")],
    );
    assert_eq!(out.status.code(), Some(2), "{}", all_output(&out));
    assert!(stderr(&out).contains("HTTPS_PROXY"), "{}", stderr(&out));
}

#[test]
fn the_flags_work_for_fuzz_and_certify_too() {
    let d = dir("other-commands");
    let p = pki(&d);
    let server = https_server(&p, true);
    let (ca, cert, key) = (
        p.ca.display().to_string(),
        p.client_cert.display().to_string(),
        p.client_key.display().to_string(),
    );
    let spec = fixture("pets-api.yaml").display().to_string();
    let out = run_env(
        &[
            "fuzz",
            "--spec",
            &spec,
            "--base-url",
            &server.url,
            "--phases",
            "positive",
            "--include",
            "listPets",
            "--max-examples",
            "1",
            "--no-progress",
            "--cacert",
            &ca,
            "--cert",
            &cert,
            "--key",
            &key,
            "-H",
            "Authorization: Bearer t",
        ],
        &[],
    );
    assert!(server.served() > 0, "{}", all_output(&out));
    assert!(
        !all_output(&out).contains("certificate"),
        "{}",
        all_output(&out)
    );
    let served = server.served();
    let out_dir = d.join("cert-out").display().to_string();
    let file = suite(&d, BEARER).display().to_string();
    let out = run_env(
        &[
            "certify",
            &file,
            "--base-url",
            &server.url,
            "--out",
            &out_dir,
            "--cacert",
            &ca,
            "--cert",
            &cert,
            "--key",
            &key,
        ],
        &[],
    );
    assert!(server.served() > served, "{}", all_output(&out));
    let out = run_env(&["certify", &file, "--out", &out_dir, "--cert", &cert], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", all_output(&out));
}

#[test]
fn a_proxy_that_is_down_is_named_without_its_password() {
    let d = dir("proxy-down");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let proxy = format!("http://bob:down-pw-123@127.0.0.1:{port}");
    let (out, json) = run(
        &suite(&d, BEARER),
        "http://127.0.0.1:9",
        &["--proxy", &proxy, "--timeout", "2s"],
        &[],
    );
    let text = all_output(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&format!("(through proxy http://127.0.0.1:{port})")),
        "{text}"
    );
    assert!(!text.contains("down-pw-123") && !json.contains("down-pw-123"));
    // The reproduction goes the same way, the proxy's user a placeholder.
    let curl = report(&json)["cases"][0]["steps"][0]["request"]["curl"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        curl.contains(&format!(
            "--proxy 'http://127.0.0.1:{port}' --proxy-user \"${{PROXY_USER}}:${{PROXY_PASSWORD}}\""
        )),
        "{curl}"
    );
    assert!(!curl.contains("bob"), "{curl}");
}
