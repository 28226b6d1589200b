//! What generation alone catches: `apiconform fuzz` with zero hand-written
//! cases (the bundled specs, the development token, mycloud's shipped
//! `ownerId` pin, EnableNow's second app as `--other-header` (as
//! cases/generated/enablenow.yaml ships it: [E3] an app sees only its own
//! shares), 25 examples per operation and phase, seed 0, default safety:
//! no PUT/PATCH/DELETE outside chains) against each fault of the reference
//! servers, started in-process on 127.0.0.1:0. The table below is the
//! record; the test fails when a fault is caught or missed differently, so
//! it stays true. Faults no generated phase can see are business rules
//! (filters, sort order, defaults, access rules of public and private
//! shares) or webhooks (no listener in a fuzz run): they need a
//! hand-written case, which the bundled suites have
//! (tests/suite_strength.rs).
//!
//! | fault | API | caught by generation | checks that fail |
//! |---|---|---|---|
//! | create-returns-201 | enablenow | yes | status_conformance |
//! | create-data-object | enablenow | yes | response_schema_conformance |
//! | create-accepts-no-ids | enablenow | yes | negative_data_rejection |
//! | no-default-expiration | enablenow | no (business rule) | |
//! | list-ignores-isexpired | enablenow | no (business rule) | |
//! | list-wrong-totalpages | enablenow | no (business rule) | |
//! | list-size-not-echoed | enablenow | yes | response_schema_conformance |
//! | list-sorted-newest-first | enablenow | no (business rule) | |
//! | list-tenant-leak | enablenow | yes | resource_isolation |
//! | get-tenant-leak | enablenow | yes | resource_isolation |
//! | get-malformed-id-400 | enablenow | yes | status_conformance |
//! | update-lost | enablenow | yes | stored_values |
//! | delete-noop | enablenow | yes | use_after_free |
//! | reference-omitted-when-null | enablenow | yes | response_schema_conformance |
//! | expiration-not-utc | enablenow | yes | response_schema_conformance |
//! | empty-ids-as-null | enablenow | yes | response_schema_conformance |
//! | missing-auth-accepted | enablenow | yes | ignored_auth |
//! | validation-error-plain-json | enablenow | yes | content_type_conformance |
//! | webhook-not-sent | enablenow | no (webhook) | |
//! | webhook-wrong-event | enablenow | no (webhook) | |
//! | create-returns-200 | mycloud | yes | status_conformance |
//! | create-error-not-null | mycloud | yes | response_schema_conformance |
//! | missing-shareid-in-create | mycloud | yes | response_schema_conformance |
//! | owner-mismatch-accepted | mycloud | no (business rule) | |
//! | empty-fileids-accepted | mycloud | yes | negative_data_rejection, response_schema_conformance |
//! | wrong-label-missing-param | mycloud | yes | response_schema_conformance |
//! | use-cache-ignored | mycloud | yes | stored_values |
//! | private-share-public | mycloud | no (access rule) | |
//! | private-share-other-user-403 | mycloud | no (access rule) | |
//! | no-token-private-404 | mycloud | no (access rule) | |
//! | unknown-share-500 | mycloud | yes | not_a_server_error, status_conformance |
//! | times-as-iso-strings | mycloud | yes | response_schema_conformance |
//! | correlation-id-not-echoed | mycloud | no (header echo) | |
//! | public-share-needs-token | mycloud | no (access rule) | |
//! | put-allowed | mycloud | yes (PUT on the share the chain created) | unsupported_method |
//! | method-not-allowed-no-allow-header | mycloud | yes | unsupported_method |
//! | error-envelope-missing-data | mycloud | yes | response_schema_conformance |
//!
//! 25 of 37 faults caught with zero cases. Schemathesis 4.32.5 on the same
//! servers, specs and example count catches 18 of 37
//! (benches/schemathesis/faults.sh; the table with both columns is in
//! tests/generate_strength.md).

mod common;

use std::collections::BTreeSet;

use apiconform::serve::{self, Api, ServeConfig};
use common::{apiconform, stdout};

/// (fault, failing checks when generation catches it; empty when it does not).
const TABLE: &[(&str, &[&str])] = &[
    ("create-returns-201", &["status_conformance"]),
    ("create-data-object", &["response_schema_conformance"]),
    ("create-accepts-no-ids", &["negative_data_rejection"]),
    ("no-default-expiration", &[]),
    ("list-ignores-isexpired", &[]),
    ("list-wrong-totalpages", &[]),
    ("list-size-not-echoed", &["response_schema_conformance"]),
    ("list-sorted-newest-first", &[]),
    ("list-tenant-leak", &["resource_isolation"]),
    ("get-tenant-leak", &["resource_isolation"]),
    ("get-malformed-id-400", &["status_conformance"]),
    ("update-lost", &["stored_values"]),
    ("delete-noop", &["use_after_free"]),
    (
        "reference-omitted-when-null",
        &["response_schema_conformance"],
    ),
    ("expiration-not-utc", &["response_schema_conformance"]),
    ("empty-ids-as-null", &["response_schema_conformance"]),
    ("missing-auth-accepted", &["ignored_auth"]),
    ("validation-error-plain-json", &["content_type_conformance"]),
    ("webhook-not-sent", &[]),
    ("webhook-wrong-event", &[]),
    ("create-returns-200", &["status_conformance"]),
    ("create-error-not-null", &["response_schema_conformance"]),
    (
        "missing-shareid-in-create",
        &["response_schema_conformance"],
    ),
    ("owner-mismatch-accepted", &[]),
    (
        "empty-fileids-accepted",
        &["negative_data_rejection", "response_schema_conformance"],
    ),
    (
        "wrong-label-missing-param",
        &["response_schema_conformance"],
    ),
    ("use-cache-ignored", &["stored_values"]),
    ("private-share-public", &[]),
    ("private-share-other-user-403", &[]),
    ("no-token-private-404", &[]),
    (
        "unknown-share-500",
        &["not_a_server_error", "status_conformance"],
    ),
    ("times-as-iso-strings", &["response_schema_conformance"]),
    ("correlation-id-not-echoed", &[]),
    ("public-share-needs-token", &[]),
    ("put-allowed", &["unsupported_method"]),
    (
        "method-not-allowed-no-allow-header",
        &["unsupported_method"],
    ),
    (
        "error-envelope-missing-data",
        &["response_schema_conformance"],
    ),
];

/// The checks that failed in a fuzz run against `api` with `fault` on.
fn failing_checks(
    runtime: &tokio::runtime::Runtime,
    api: Api,
    fault: Option<&str>,
) -> BTreeSet<String> {
    let mut config = ServeConfig::new(api);
    config.addr = "127.0.0.1:0".parse().expect("addr");
    config.fault = fault.map(str::to_string);
    let server = runtime
        .block_on(serve::start(config))
        .expect("server starts");
    let url = server.base_url();
    let (spec, token, pins): (&str, &str, &[&str]) = match api {
        Api::EnableNow => (
            "specs/enablenow-sharing-v1.yaml",
            "enablenow-dev-token",
            &[
                "--other-header",
                "Authorization: Bearer enablenow-other-token",
            ],
        ),
        _ => (
            "specs/mycloud-shares-v1.yaml",
            "mycloud-dev-token",
            &["--set", "body.ownerId=user-1001"],
        ),
    };
    let auth = format!("Authorization: Bearer {token}");
    let mut args = vec![
        "fuzz",
        "--spec",
        spec,
        "--base-url",
        &url,
        "-H",
        &auth,
        "--max-examples",
        "25",
        "--seed",
        "0",
        "--no-progress",
        "-q",
    ];
    args.extend_from_slice(pins);
    let out = apiconform(&args);
    let _ = runtime.block_on(server.shutdown());
    let text = stdout(&out);
    assert!(
        out.status.code().is_some_and(|c| c < 2),
        "{fault:?}: {text}"
    );
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("✗ "))
        .map(|c| c.split_whitespace().next().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn generation_alone_catches_the_faults_in_the_table() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let listed: BTreeSet<&str> = serve::faults().iter().map(|f| f.name).collect();
    let tabled: BTreeSet<&str> = TABLE.iter().map(|(f, _)| *f).collect();
    assert_eq!(listed, tabled, "every fault has a row in the table");
    for api in [Api::EnableNow, Api::MyCloud] {
        assert!(
            failing_checks(&runtime, api, None).is_empty(),
            "the correct {api:?} server passes"
        );
    }
    let mut differences = Vec::new();
    for fault in serve::faults() {
        let got = failing_checks(&runtime, fault.api, Some(fault.name));
        let want: BTreeSet<String> = TABLE
            .iter()
            .find(|(f, _)| *f == fault.name)
            .map(|(_, c)| c.iter().map(|s| s.to_string()).collect())
            .unwrap_or_default();
        if got != want {
            differences.push(format!("{}: table {want:?}, run {got:?}", fault.name));
        }
    }
    assert!(differences.is_empty(), "{differences:#?}");
    let caught = TABLE.iter().filter(|(_, c)| !c.is_empty()).count();
    assert_eq!(caught, 25, "the count in the doc comment");
}
