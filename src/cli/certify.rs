//! `apiconform certify`: a full run with every automatic check on, turned
//! into `certificate.json`, `.html` and `.md`; and `certify --verify`.

use std::sync::{Arc, Mutex};

use super::args::{CertifyAction, CertifyArgs, SelectArgs};
use super::common::{Shared, parse_timeout, select, session_error, usage_error};
use super::{EXIT_FAILED, EXIT_INPUT, EXIT_OK};
use crate::check::CheckSet;
use crate::report::certificate::{self, Certificate, FileState, Seal, Verdict};
use crate::report::console::{Console, Verbosity};
use crate::report::model::{ReportBuilder, RunReport};
use crate::report::signing;
use crate::report::{Event, Fanout, Reporter, write_file};
use crate::run::session::{self, TargetOptions};
use crate::run::{self, Record, RunConfig};

pub(super) fn certify_command(args: CertifyArgs) -> u8 {
    if let Some(CertifyAction::Keygen { out }) = &args.action {
        return keygen_command(out);
    }
    match &args.verify {
        Some(path) => verify_command(path, args.root.as_deref(), args.public_key.as_deref()),
        None => certify(args),
    }
}

fn keygen_command(out: &std::path::Path) -> u8 {
    match signing::keygen(out) {
        Ok((private, public)) => {
            println!(
                "private key: {} (PKCS#8 PEM; keep it secret, pass it to --sign-key)",
                private.display()
            );
            println!(
                "public key:  {} (hand it to customers for --verify --public-key)",
                public.display()
            );
            EXIT_OK
        }
        Err(e) => usage_error(&e.to_string()),
    }
}

/// Keeps the finished report for the caller.
struct Keep {
    builder: ReportBuilder,
    report: Option<RunReport>,
}

impl Reporter for Keep {
    fn event(&mut self, event: &Event) -> std::io::Result<()> {
        if let Some(r) = self.builder.observe(event) {
            self.report = Some(r);
        }
        Ok(())
    }
}

fn certify(args: CertifyArgs) -> u8 {
    let Some(out) = args.out.clone() else {
        return usage_error("--out DIR is required");
    };
    // Read the key first: a bad key fails before any request.
    let key = match args.sign_key.as_deref().map(signing::read_signing_key) {
        Some(Ok(k)) => Some(k),
        Some(Err(e)) => return usage_error(&e.to_string()),
        None => None,
    };
    // The whole suite: no filters, no partition.
    let mut sel = match select(
        &SelectArgs {
            paths: args.paths.clone(),
            name: Vec::new(),
            name_regex: None,
            tag: Vec::new(),
            exclude_tag: Vec::new(),
            partition: None,
            var: args.var.clone(),
            vars_file: args.vars_file.clone(),
            secret: args.secret.clone(),
            profile: args.profile.clone(),
        },
        false,
    ) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let generated = sel
        .plan
        .iter()
        .filter(|pc| pc.case().is_generated())
        .count();
    if args.generate && generated == 0 {
        return usage_error(
            "--generate: none of the suites has a generate: section (add one, or certify cases/generated/ beside the suite)",
        );
    }
    if !args.generate && generated > 0 {
        sel.plan.retain(|pc| !pc.case().is_generated());
        println!(
            "{generated} generated cases left out of the certificate (include them with --generate)"
        );
    }
    if sel.plan.is_empty() {
        return usage_error("no cases to certify");
    }
    let broken = super::common::broken_refs_in_plan(&sel.plan);
    if !broken.is_empty() {
        return super::common::input_error(&broken);
    }
    let timeout = match parse_timeout(&args.timeout) {
        Ok(t) => t,
        Err(e) => return usage_error(&format!("--timeout: {e}")),
    };
    let network = match super::net::network(&args.net) {
        Ok(n) => n,
        Err(e) => return usage_error(&e),
    };
    if let Err(e) = std::fs::create_dir_all(&out) {
        return usage_error(&format!("cannot create {}: {e}", out.display()));
    }
    let config = RunConfig {
        jobs: args.jobs.unwrap_or_else(run::default_jobs).max(1),
        timeout,
        // A certificate states what the target does on the first try.
        retries: 0,
        fail_fast: false,
        check_mask: CheckSet::with_generated(),
        record: Record::Everything,
        network,
        ..RunConfig::default()
    };
    let keep = Arc::new(Mutex::new(Keep {
        builder: ReportBuilder::new(&sel.suites),
        report: None,
    }));
    let mut reporters = Fanout::default();
    reporters.add(Box::new(Console::stdout(Verbosity::Normal, true)));
    reporters.add(Box::new(Shared(keep.clone())));
    let opts = TargetOptions {
        base_url: args.base_url.clone(),
        webhook_listen: args.webhook_listen.clone(),
        profile: args.profile.applied.clone(),
    };
    let runtime = match run::runtime() {
        Ok(r) => r,
        Err(e) => return usage_error(&e.to_string()),
    };
    run::interrupt::install(&runtime);
    let result = runtime.block_on(session::execute(
        &sel.suites,
        sel.plan,
        None,
        &sel.external,
        &opts,
        config,
        reporters,
    ));
    if let Err(e) = result {
        return session_error(e);
    }
    let report = match keep.lock() {
        Ok(mut k) => k.report.take(),
        Err(_) => None,
    };
    let Some(report) = report else {
        return usage_error("the run finished without a report");
    };
    let mut cert = Certificate::from_report(&report);
    let root = std::env::current_dir().and_then(std::fs::canonicalize).ok();
    if let Err(e) = cert.seal(root.as_deref(), key.as_ref()) {
        return usage_error(&e.to_string());
    }
    let json = match cert.to_json() {
        Ok(j) => j,
        Err(e) => return usage_error(&e.to_string()),
    };
    for (name, text) in [
        ("certificate.json", json),
        ("certificate.html", cert.to_html()),
        ("certificate.md", cert.to_markdown()),
    ] {
        if let Err(e) = write_file(&out.join(name), text.as_bytes()) {
            return usage_error(&format!("cannot write certificate: {e}"));
        }
    }
    let (must, should): (Vec<_>, Vec<_>) = cert.requirements.iter().partition(|r| r.binding());
    let met = |rows: &[&certificate::RequirementRow]| {
        rows.iter()
            .filter(|r| r.result == certificate::RequirementResult::Met)
            .count()
    };
    for r in should
        .iter()
        .filter(|r| r.result == certificate::RequirementResult::NotMet)
    {
        println!(
            "advisory: should requirement {} not met ({})",
            r.id,
            r.source.as_deref().unwrap_or("no source")
        );
    }
    print_unverified(&cert);
    println!(
        "{}: {}/{} must requirements met · {}/{} should (advisory) met · certificate written to {}",
        cert.verdict.label(),
        met(&must),
        must.len(),
        met(&should),
        should.len(),
        out.display()
    );
    if let Some(signal) = run::interrupt::signal() {
        println!(
            "interrupted by {}: the certificate says INCOMPLETE at best",
            run::interrupt::name(signal)
        );
        return run::interrupt::exit_code(signal);
    }
    if cert.verdict == Verdict::Conformant {
        EXIT_OK
    } else {
        EXIT_FAILED
    }
}

/// Names every requirement the run could not verify, and why (a
/// skipped step, an interrupted run), so INCOMPLETE says what is missing.
fn print_unverified(cert: &Certificate) {
    for r in cert
        .requirements
        .iter()
        .filter(|r| r.result == certificate::RequirementResult::NotVerified)
    {
        let why: Vec<String> = r
            .cases
            .iter()
            .filter(|c| !c.status.is_success())
            .map(|c| format!("{}: {}", c.name, certificate::unverified_reason(c)))
            .collect();
        println!(
            "not verified: {} requirement {} ({})",
            r.level_label(),
            r.id,
            why.join("; ")
        );
    }
}

/// Prints what the seal check found; `true` when it passes.
fn print_seal(seal: &Seal) -> bool {
    match seal {
        Seal::NoDigest => {
            println!("content  no digest (a certificate from before digests): content not checked")
        }
        Seal::DigestMismatch => println!(
            "TAMPERED the certificate's content does not match its digest: it was edited after it was issued"
        ),
        Seal::Unsigned => println!(
            "content  matches its digest (integrity only, unsigned: anyone could have written it)"
        ),
        Seal::SignedUnchecked { key_id } => println!(
            "content  matches its digest; signed by key {key_id}, not checked (pass --public-key to check it)"
        ),
        Seal::SignatureValid { key_id } => {
            println!("content  matches its digest; signature valid (key {key_id})")
        }
        Seal::SignatureInvalid { key_id } => println!(
            "BAD SIGNATURE the signature (key {key_id}) does not verify with the given public key: edited, or signed by someone else"
        ),
        Seal::UnsignedButKeyGiven => {
            println!("UNSIGNED the certificate carries no signature, but --public-key asks for one")
        }
    }
    seal.ok()
}

fn verify_command(
    path: &std::path::Path,
    root: Option<&std::path::Path>,
    public_key: Option<&std::path::Path>,
) -> u8 {
    let (cert, content) = match certificate::read_with_content(path) {
        Ok(c) => c,
        Err(e) => return usage_error(&e.to_string()),
    };
    let key = match public_key.map(signing::read_verifying_key) {
        Some(Ok(k)) => Some(k),
        Some(Err(e)) => return usage_error(&e.to_string()),
        None => None,
    };
    let sealed = print_seal(&certificate::check_seal(&cert, &content, key.as_ref()));
    // Relative paths: --root, else the recorded project root, else (an
    // older certificate) the current folder.
    let root = root
        .map(std::path::Path::to_path_buf)
        .or_else(|| cert.project_root.as_ref().map(std::path::PathBuf::from))
        .unwrap_or_else(|| std::path::PathBuf::from("."));
    let checks = certificate::verify(&cert, &root);
    let mut changed = 0;
    let mut missing = 0;
    for c in &checks {
        match &c.state {
            FileState::Matches => println!("ok       {}", c.file),
            FileState::Changed { actual } => {
                changed += 1;
                println!(
                    "CHANGED  {}  (certified {}, now {actual})",
                    c.file, c.expected
                );
            }
            FileState::Missing { error } => {
                missing += 1;
                println!("MISSING  {}  ({error})", c.file);
            }
        }
    }
    println!(
        "certificate of {} ({}, apiconform {}): verdict {}",
        cert.finished,
        cert.targets.join(", "),
        cert.tool.version,
        cert.verdict.label()
    );
    if missing > 0 {
        eprintln!(
            "error: {missing} file{} named in the certificate not found under {}; pass --root DIR (the folder certify ran in)",
            if missing == 1 { "" } else { "s" },
            root.display()
        );
        return if sealed { EXIT_INPUT } else { EXIT_FAILED };
    }
    if !sealed {
        println!("NOT VERIFIED: the certificate itself cannot be trusted as issued");
        return EXIT_FAILED;
    }
    if changed > 0 {
        println!(
            "MISMATCH: {changed} of {} files differ from the certified ones",
            checks.len()
        );
        return EXIT_FAILED;
    }
    println!("MATCH: all {} files are the certified ones", checks.len());
    EXIT_OK
}
