//! End-to-end throughput: a generated create-then-get suite (capture,
//! interpolation, every automatic check and assertions on) against a fast
//! local EnableNow target, then the same requests through a bare client
//! loop with the same client settings and concurrency, then once against
//! the real reference server (SQLite). Also time to first request.
//!
//!     cargo bench --bench throughput -- --steps 20000 --jobs 8
//!
//! All traffic goes to 127.0.0.1; every loop is bounded by `--steps`.

#[global_allocator]
static GLOBAL: apiconform::alloc::MiMalloc = apiconform::alloc::MiMalloc;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use apiconform::report::{Event, Reporter, RunInfo};
use apiconform::run::{self, Filters, Record, RunConfig, Runner, Target};
use apiconform::suite::vars::ExternalVars;
use apiconform::suite::{LoadOptions, load_paths};
use axum::Router;
use axum::extract::Path as UrlPath;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use clap::Parser;

#[derive(Parser, Debug)]
struct Args {
    /// Steps in the generated suite (two per case: create, then get).
    #[arg(long, default_value_t = 20_000)]
    steps: usize,
    /// Concurrent cases (and concurrent bare-loop workers).
    #[arg(long, default_value_t = 8)]
    jobs: usize,
    /// Steps for the run against the real reference server.
    #[arg(long, default_value_t = 4_000)]
    reference_steps: usize,
    /// Distinct steps in the generated suite; it is repeated up to --steps.
    #[arg(long, default_value_t = 10_000)]
    suite_steps: usize,
    /// Run only this phase: `harness`, `bare`, `reference` or `first` (for profiling).
    #[arg(long)]
    only: Option<String>,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

const SHARE_ID: &str = "3f2c1a9e-7b4d-4c1e-9a8b-2d6f0e5c4b3a";

/// The fast target: valid EnableNow answers with no storage.
fn fast_target() -> (String, Arc<OnceLock<Instant>>) {
    let first = Arc::new(OnceLock::new());
    let seen = first.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let create_seen = seen.clone();
            let app = Router::new()
                .route(
                    "/shares",
                    post(move || {
                        let _ = create_seen.set(Instant::now());
                        async { ([(header::CONTENT_TYPE, "application/json")], format!("{{\"data\":\"{SHARE_ID}\"}}")) }
                    }),
                )
                .route(
                    "/shares/{id}",
                    get(move |UrlPath(id): UrlPath<String>| {
                        let _ = seen.set(Instant::now());
                        async move {
                            (
                                [(header::CONTENT_TYPE, "application/json")],
                                format!(
                                    "{{\"data\":{{\"id\":\"{id}\",\"clientId\":\"en-app-ref-002\",\"reference\":null,\
                                     \"expirationDateUtc\":\"2099-04-30T12:00:00Z\",\"consentIds\":[\"{SHARE_ID}\"],\
                                     \"accountIds\":[],\"analysisIds\":[]}}}}"
                                ),
                            )
                                .into_response()
                        }
                    }),
                );
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
            let _ = tx.send(listener.local_addr().expect("addr"));
            let _ = axum::serve(listener, app).await;
        });
    });
    let addr = rx.recv().expect("target address");
    (format!("http://{addr}"), first)
}

/// Writes the generated suite as files of 500 cases each.
fn generate_suite(dir: &Path, steps: usize) -> PathBuf {
    let spec = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("specs/enablenow-sharing-v1.yaml");
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).expect("suite dir");
    let cases = steps.div_ceil(2);
    for (file_no, start) in (0..cases).step_by(500).enumerate() {
        let mut yaml = format!(
            "spec: {}\nname: throughput-{file_no}\nvariables:\n  enablenow_token: enablenow-dev-token\n\
             credentials:\n  app: {{bearer: \"{{{{ enablenow_token }}}}\"}}\ndefault_credential: app\ncases:\n",
            spec.display()
        );
        for i in start..(start + 500).min(cases) {
            yaml.push_str(&format!(
                "  - name: case {i}\n    steps:\n      - operation: createShare\n        body: {{clientId: en-app-ref-002, consentIds: [\"{SHARE_ID}\"]}}\n        expect: {{status: 200, body: {{$.data: {{uuid: true}}}}}}\n        capture: {{share_id: {{body: $.data}}}}\n      - operation: getShare\n        path: {{shareId: \"{{{{ share_id }}}}\"}}\n        expect: {{status: 200, body: {{$.data.id: {{equals: \"{{{{ share_id }}}}\"}}}}}}\n"
            ));
        }
        std::fs::write(dir.join(format!("part-{file_no:03}.yaml")), yaml).expect("write suite");
    }
    dir.to_path_buf()
}

/// Collects step latencies from events.
#[derive(Default)]
struct Latencies(Arc<Mutex<Vec<f64>>>, Arc<AtomicU64>);

impl Reporter for Latencies {
    fn event(&mut self, event: &Event) -> std::io::Result<()> {
        if let Event::CaseFinished(case) = event {
            for step in &case.steps {
                if let Ok(mut v) = self.0.lock() {
                    v.push(step.duration_ms);
                }
                if step.outcome != apiconform::result::StepOutcome::Passed {
                    self.1.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        Ok(())
    }
}

/// User + system CPU time of this process so far (from /proc/self/stat).
fn cpu_time() -> Duration {
    let ticks = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let after = s.rsplit_once(')')?.1.to_string();
            let fields: Vec<&str> = after.split_whitespace().collect();
            // utime and stime are fields 14 and 15 (1-based) of the whole line.
            Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
        })
        .unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

struct Figures {
    cpu: Duration,
    steps: usize,
    wall: Duration,
    latencies: Vec<f64>,
    peak_rss_kb: u64,
    failed: u64,
}

impl Figures {
    fn per_sec(&self) -> f64 {
        self.steps as f64 / self.wall.as_secs_f64()
    }

    fn percentile(&self, p: f64) -> f64 {
        if self.latencies.is_empty() {
            return 0.0;
        }
        let mut v = self.latencies.clone();
        v.sort_by(|a, b| a.total_cmp(b));
        let i = ((v.len() as f64 - 1.0) * p).round() as usize;
        v[i]
    }

    fn print(&self, label: &str) {
        println!(
            "{label:<34} {:>7} steps  {:>8.3}s  {:>9.0} steps/s  p50 {:>6.3} ms  p99 {:>6.3} ms  CPU {:>5.1} µs/step  peak RSS {:>6.1} MB{}",
            self.steps,
            self.wall.as_secs_f64(),
            self.per_sec(),
            self.percentile(0.50),
            self.percentile(0.99),
            self.cpu.as_secs_f64() * 1e6 / self.steps as f64,
            self.peak_rss_kb as f64 / 1024.0,
            if self.failed > 0 {
                format!("  ({} FAILED steps)", self.failed)
            } else {
                String::new()
            }
        );
    }
}

/// Peak resident set size of this process, in kB (VmHWM).
fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        })
        .unwrap_or(0)
}

/// Resets the peak RSS counter (Linux: write 5 to clear_refs).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Runs the suite in `dir` (repeated until `total_steps` are reached).
fn run_harness(
    rt: &tokio::runtime::Runtime,
    dir: &Path,
    base_url: &str,
    jobs: usize,
    total_steps: usize,
) -> Figures {
    reset_peak_rss();
    let suites =
        load_paths(&[dir.to_path_buf()], &LoadOptions::default()).expect("generated suite loads");
    let plan = run::plan(&suites, &Filters::default(), None);
    // As `apiconform run` does: compile the validators the plan uses.
    run::focus_validators(&plan);
    let plan_steps: usize = plan.iter().map(|p| p.case().steps.len()).sum();
    let plan = run::repeat(plan, total_steps.div_ceil(plan_steps.max(1)));
    let steps: usize = plan.iter().map(|p| p.case().steps.len()).sum();
    let targets: HashMap<PathBuf, Target> = suites
        .iter()
        .map(|s| {
            (
                s.file.clone(),
                Target {
                    base_url: base_url.to_string(),
                    note: None,
                },
            )
        })
        .collect();
    let config = RunConfig {
        check_mask: if std::env::var("BENCH_NO_CHECKS").is_ok() {
            apiconform::check::CheckSet::none()
        } else {
            apiconform::check::CheckSet::all()
        },
        jobs,
        record: Record::Failures,
        // As `apiconform run` sets it without `-v` or a JSON stream: no
        // reporter here asks for per-step events (`Reporter::wants_steps`).
        step_events: false,
        ..RunConfig::default()
    };
    let runner = Arc::new(
        Runner::new(&suites, &targets, &ExternalVars::default(), config, None).expect("runner"),
    );
    let info = RunInfo {
        tool_version: env!("CARGO_PKG_VERSION"),
        started: std::time::SystemTime::now(),
        suites: Vec::new(),
        case_count: plan.len(),
        partition: None,
        network: Default::default(),
        profile: None,
    };
    let latencies = Latencies::default();
    let (lat, failed) = (latencies.0.clone(), latencies.1.clone());
    let (tx, rx) = std::sync::mpsc::channel::<Event>();
    let consumer = std::thread::spawn(move || apiconform::report::consume(rx, latencies));
    let started = Instant::now();
    let cpu0 = cpu_time();
    rt.block_on(runner.run(plan, info, tx));
    let wall = started.elapsed();
    let cpu = cpu_time() - cpu0;
    let _ = consumer.join();
    let latencies = lat.lock().map(|v| v.clone()).unwrap_or_default();
    Figures {
        cpu,
        steps,
        wall,
        latencies,
        peak_rss_kb: peak_rss_kb(),
        failed: failed.load(Ordering::Relaxed),
    }
}

/// The same requests with no harness: create, parse the id, get.
fn run_bare(rt: &tokio::runtime::Runtime, base_url: &str, steps: usize, jobs: usize) -> Figures {
    reset_peak_rss();
    // The harness's own transport (`Clients::send`), so the ratio measures
    // the harness, not a difference of client stacks.
    let clients = run::http::Clients::build(
        jobs,
        Duration::from_secs(10),
        &run::http::Network::default(),
        None,
    )
    .expect("client");
    let timeout = Duration::from_secs(10);
    let max_body = RunConfig::default().max_body_size;
    let cases = steps.div_ceil(2);
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let cpu0 = cpu_time();
    let latencies: Vec<f64> =
        rt.block_on(async {
            let mut tasks = Vec::new();
            for _ in 0..jobs {
                let clients = clients.clone();
                let next = next.clone();
                let auth = header::HeaderValue::from_static("Bearer enablenow-dev-token");
                let json = header::HeaderValue::from_static("application/json");
                let base = base_url.to_string();
                tasks.push(tokio::spawn(async move {
                let mut lat = Vec::new();
                while next.fetch_add(1, Ordering::Relaxed) < cases as u64 {
                    let t = Instant::now();
                    let body =
                        serde_json::json!({"clientId": "en-app-ref-002", "consentIds": [SHARE_ID]});
                    let Ok(mut request) =
                        run::http::new_request(reqwest::Method::POST, &format!("{base}/shares"))
                    else {
                        continue;
                    };
                    let headers = request.headers_mut();
                    headers.insert(header::AUTHORIZATION, auth.clone());
                    headers.insert(header::CONTENT_TYPE, json.clone());
                    *request.body_mut() = serde_json::to_vec(&body).ok().map(Into::into);
                    let Ok(resp) = clients.send(request, timeout, max_body).await.response else {
                        continue;
                    };
                    let v: serde_json::Value =
                        serde_json::from_slice(&resp.body).unwrap_or_default();
                    lat.push(t.elapsed().as_secs_f64() * 1000.0);
                    let id = v["data"].as_str().unwrap_or_default().to_string();
                    let t = Instant::now();
                    if let Ok(mut request) =
                        run::http::new_request(reqwest::Method::GET, &format!("{base}/shares/{id}"))
                    {
                        request.headers_mut().insert(header::AUTHORIZATION, auth.clone());
                        let _ = clients.send(request, timeout, max_body).await;
                    }
                    lat.push(t.elapsed().as_secs_f64() * 1000.0);
                }
                lat
            }));
            }
            let mut all = Vec::new();
            for t in tasks {
                all.extend(t.await.unwrap_or_default());
            }
            all
        });
    Figures {
        cpu: cpu_time() - cpu0,
        steps: cases * 2,
        wall: started.elapsed(),
        latencies,
        peak_rss_kb: peak_rss_kb(),
        failed: 0,
    }
}

/// From spawning the binary on the bundled EnableNow suite to its first request.
fn time_to_first_request(base_url: &str, first: &OnceLock<Instant>) -> Option<Duration> {
    let exe = env!("CARGO_BIN_EXE_apiconform");
    let started = Instant::now();
    let mut child = std::process::Command::new(exe)
        .args([
            "run",
            "cases/enablenow",
            "--base-url",
            base_url,
            "--no-progress",
            "-q",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while first.get().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_micros(200));
    }
    let _ = child.kill();
    let _ = child.wait();
    first.get().map(|t| t.duration_since(started))
}

/// Runs one phase in this process and prints its figures.
fn run_phase(args: &Args, phase: &str) {
    // The runtime `apiconform run --jobs N` uses, for both loops.
    let rt = run::runtime_for(args.jobs).expect("runtime");
    let (base_url, first_request) = fast_target();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-throughput");
    match phase {
        "harness" => {
            // A suite of up to --suite-steps distinct steps, repeated to --steps:
            // memory must not grow with the steps run.
            let suite_dir = generate_suite(&dir.join("fast"), args.steps.min(args.suite_steps));
            // Warm up connections and the lazily compiled validators.
            let warm = generate_suite(&dir.join("warm"), 200);
            let _ = run_harness(&rt, &warm, &base_url, args.jobs, 200);
            let figures = run_harness(&rt, &suite_dir, &base_url, args.jobs, args.steps);
            figures.print("harness, fast target");
            println!("RESULT {}", figures.per_sec());
        }
        "bare" => {
            let _ = run_bare(&rt, &base_url, 200, args.jobs);
            let figures = run_bare(&rt, &base_url, args.steps, args.jobs);
            figures.print("bare client loop, fast target");
            println!("RESULT {}", figures.per_sec());
        }
        "reference" => {
            let config = apiconform::serve::ServeConfig::new(apiconform::serve::Api::EnableNow);
            match rt.block_on(apiconform::serve::start(config)) {
                Ok(server) => {
                    let ref_dir = generate_suite(&dir.join("reference"), args.reference_steps);
                    let figures = run_harness(
                        &rt,
                        &ref_dir,
                        &server.base_url(),
                        args.jobs,
                        args.reference_steps,
                    );
                    figures.print("harness, reference server (SQLite)");
                    let _ = rt.block_on(server.shutdown());
                }
                Err(e) => println!("reference server did not start: {e}"),
            }
        }
        "first" => match time_to_first_request(&base_url, &first_request) {
            Some(d) => println!(
                "time to first request (bundled EnableNow suite, process spawn to first request): {:.1} ms",
                d.as_secs_f64() * 1000.0
            ),
            None => println!("time to first request: no request arrived within 10 s"),
        },
        other => println!("unknown phase `{other}`"),
    }
}

fn main() {
    let args = Args::parse();
    if let Some(phase) = &args.only {
        run_phase(&args, phase);
        return;
    }
    println!(
        "machine: {} cores; jobs {}; all automatic checks on; each phase in its own process (peak RSS is per phase)",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        args.jobs
    );
    // Each phase runs in a fresh process so peak RSS is its own. The
    // harness and the bare loop alternate three times; the ratio compares
    // their medians (a 2-core machine is noisy).
    let exe = std::env::current_exe().expect("own path");
    let phase = |name: &str| -> (Vec<String>, f64) {
        let out = std::process::Command::new(&exe)
            .args([
                "--only",
                name,
                "--steps",
                &args.steps.to_string(),
                "--jobs",
                &args.jobs.to_string(),
            ])
            .args(["--reference-steps", &args.reference_steps.to_string()])
            .args(["--suite-steps", &args.suite_steps.to_string()])
            .output()
            .expect("run phase");
        let mut lines = Vec::new();
        let mut rate = 0.0;
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            match line.strip_prefix("RESULT ") {
                Some(r) => rate = r.parse().unwrap_or(0.0),
                None => lines.push(line.to_string()),
            }
        }
        (lines, rate)
    };
    let mut runs: HashMap<&str, Vec<(Vec<String>, f64)>> = HashMap::new();
    for _ in 0..3 {
        for name in ["harness", "bare"] {
            runs.entry(name).or_default().push(phase(name));
        }
    }
    let mut medians = HashMap::new();
    for name in ["harness", "bare"] {
        let mut v = runs.remove(name).unwrap_or_default();
        let rates: Vec<String> = v.iter().map(|(_, r)| format!("{r:.0}")).collect();
        v.sort_by(|a, b| a.1.total_cmp(&b.1));
        if let Some((lines, rate)) = v.get(v.len() / 2) {
            for l in lines {
                println!("{l}   (median of 3: {} steps/s)", rates.join(", "));
            }
            medians.insert(name, *rate);
        }
    }
    if let (Some(h), Some(b)) = (medians.get("harness"), medians.get("bare")) {
        println!("ratio harness/bare (medians): {:.2}", h / b);
    }
    for name in ["reference", "first"] {
        for l in phase(name).0 {
            println!("{l}");
        }
    }
}
