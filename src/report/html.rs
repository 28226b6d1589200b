//! `--html FILE`: one self-contained page (inline CSS and a small inline
//! script for search and filters, no external assets) that opens offline
//! from a CI artifact or an e-mail. Summary with a pass-rate bar, then the
//! cases, failures first, each a `<details>` row that opens to its steps,
//! checks, reproduction and response excerpts, then the coverage table.
//! Every value from the run is HTML-escaped; without the script (blocked
//! by a mail client) the page is whole, only the filters do nothing.

use std::fmt::Write as _;

use super::RenderError;
use super::console::format_ms;
use super::model::{RunReport, human_time};
use crate::coverage::{Coverage, PairState};
use crate::result::{CaseResult, CaseStatus, CheckOutcome, StepOutcome, StepResult};

/// Escapes text for HTML element content and quoted attribute values
/// (terminal escape sequences from a target's body dropped).
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in crate::diag::strip_ansi(text).chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Shared page style; the certificate page uses it too.
pub const STYLE: &str = r#"
:root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#fff;--soft:#f6f8fa;
--pass:#1a7f37;--pass-bg:#dafbe1;--fail:#cf222e;--fail-bg:#ffebe9;--flaky:#9a6700;--flaky-bg:#fff8c5;--skip:#6e7781;--skip-bg:#eaeef2}
*{box-sizing:border-box}
body{margin:0;background:var(--soft);color:var(--fg);font:14px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1180px;margin:0 auto;padding:24px}
header{display:flex;align-items:center;gap:16px;flex-wrap:wrap;margin-bottom:4px}
h1{font-size:22px;margin:0}
h2{font-size:17px;margin:28px 0 10px}
.meta{color:var(--muted);margin:0 0 18px}
.meta code{font-size:12px}
.verdict{font-weight:700;font-size:13px;padding:3px 12px;border-radius:999px;letter-spacing:.04em}
.verdict.ok{background:var(--pass-bg);color:var(--pass)}
.verdict.bad{background:var(--fail-bg);color:var(--fail)}
.banner.interrupted{background:var(--fail-bg);color:var(--fail);border-radius:8px;padding:10px 16px;margin:0 0 18px}
.verdict.incomplete{background:var(--skip-bg);color:var(--skip)}
.cards{display:grid;grid-template-columns:repeat(5,1fr);gap:12px}
.card{background:var(--bg);border:1px solid var(--line);border-radius:8px;padding:12px 16px}
.card .n{font-size:26px;font-weight:700;line-height:1.2}
.card .l{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.05em}
.card.passed .n{color:var(--pass)} .card.failed .n{color:var(--fail)} .card.flaky .n{color:var(--flaky)} .card.skipped .n{color:var(--skip)}
.rate{background:var(--bg);border:1px solid var(--line);border-radius:8px;padding:12px 16px;margin-top:12px}
.rate .top{display:flex;justify-content:space-between;margin-bottom:6px}
.bar{display:flex;height:14px;border-radius:7px;overflow:hidden;background:var(--skip-bg)}
.bar span{display:block;height:100%}
.bar .passed{background:var(--pass)} .bar .flaky{background:#d4a72c} .bar .failed{background:var(--fail)} .bar .skipped{background:#afb8c1}
.legend{display:flex;gap:16px;color:var(--muted);font-size:12px;margin-top:6px}
.legend i{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:4px;vertical-align:-1px}
table{width:100%;border-collapse:collapse;background:var(--bg);border:1px solid var(--line);border-radius:8px;overflow:hidden}
th,td{text-align:left;padding:6px 10px;border-bottom:1px solid var(--line);vertical-align:top}
th{background:var(--soft);font-weight:600;font-size:12px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
tr:last-child td{border-bottom:0}
td.num{text-align:right;font-variant-numeric:tabular-nums}
code,pre{font-family:ui-monospace,SFMono-Regular,"SF Mono",Menlo,Consolas,monospace;font-size:12px}
pre{background:var(--soft);border:1px solid var(--line);border-radius:6px;padding:8px 10px;overflow:auto;max-height:360px;margin:6px 0;white-space:pre-wrap;word-break:break-word}
.pill{display:inline-block;min-width:52px;text-align:center;font-size:11px;font-weight:700;padding:1px 8px;border-radius:999px}
.pill.passed,.pill.covered{background:var(--pass-bg);color:var(--pass)}
.pill.failed,.pill.missing{background:var(--fail-bg);color:var(--fail)}
.pill.flaky{background:var(--flaky-bg);color:var(--flaky)}
.pill.skipped,.pill.excluded{background:var(--skip-bg);color:var(--skip)}
.cases details.case{background:var(--bg);border:1px solid var(--line);border-radius:8px;margin-bottom:6px}
.cases details.case.failed{border-left:4px solid var(--fail)}
.cases details.case.flaky{border-left:4px solid #d4a72c}
details.case>summary{display:flex;gap:10px;align-items:center;padding:8px 12px;cursor:pointer;list-style:none}
details.case>summary::-webkit-details-marker{display:none}
details.case>summary::before{content:"\25B8";color:var(--muted);width:10px}
details.case[open]>summary::before{content:"\25BE"}
summary .name{font-weight:600;flex:1;min-width:0;overflow-wrap:anywhere}
summary .suite,summary .time,summary .req{color:var(--muted);font-size:12px;white-space:nowrap}
summary .why{color:var(--fail);font-size:12px;flex:2;min-width:0;overflow-wrap:anywhere}
.filters{display:flex;flex-wrap:wrap;gap:8px;align-items:center;margin:0 0 10px}
.filters input[type=search]{flex:1;min-width:220px;padding:6px 10px;border:1px solid var(--line);border-radius:6px;font:inherit}
.filters label{font-size:12px;color:var(--muted);white-space:nowrap}
.filters select{padding:5px 8px;border:1px solid var(--line);border-radius:6px;font:inherit;font-size:12px}
.filters .count{font-size:12px;color:var(--muted)}
.curl pre{max-height:160px}
.body{padding:4px 16px 12px 32px;border-top:1px solid var(--line)}
.body .info{color:var(--muted);font-size:12px;margin:8px 0}
.step{border-top:1px dashed var(--line);padding:8px 0}
.step:first-of-type{border-top:0}
.step h4{margin:0 0 4px;font-size:13px;display:flex;gap:8px;align-items:center}
.step .req{font-size:12px;color:var(--muted)}
summary .req.advisory{color:#b45309}
ul.checks{list-style:none;margin:4px 0;padding:0}
ul.checks li{padding:1px 0}
ul.checks .mark{display:inline-block;width:16px;font-weight:700}
ul.checks .passed .mark{color:var(--pass)} ul.checks .failed .mark{color:var(--fail)} ul.checks .skipped .mark{color:var(--skip)}
ul.checks .failed>code{color:var(--fail)}
.loc{color:var(--muted);font-size:12px}
ul.checks .msg{color:var(--fg)}
ul.findings{margin:2px 0 2px 20px;color:var(--fg)}
.err{color:var(--fail);font-weight:600}
details.raw>summary{cursor:pointer;color:var(--muted);font-size:12px}
.pct{font-weight:700}
.covbar{display:inline-block;width:120px;height:8px;background:var(--fail-bg);border-radius:4px;overflow:hidden;vertical-align:middle;margin-left:8px}
.covbar span{display:block;height:100%;background:var(--pass)}
footer{color:var(--muted);font-size:12px;margin:28px 0 8px;text-align:center}
@media (max-width:800px){.cards{grid-template-columns:repeat(2,1fr)}}
"#;

/// The whole page.
pub fn render(report: &RunReport) -> Result<String, RenderError> {
    let t = &report.totals;
    let ok = t.failed == 0;
    let mut h = String::with_capacity(64 * 1024);
    let title = format!("apiconform report: {}", t.closing_line());
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head><body><main>\n",
        esc(&title)
    );
    let _ = writeln!(
        h,
        "<header><h1>API conformance report</h1><span class=\"verdict {}\">{}</span></header>",
        if ok { "ok" } else { "bad" },
        if ok { "PASSED" } else { "FAILED" }
    );
    let partitions = if report.partitions.is_empty() {
        String::new()
    } else {
        format!(" · shards {}", esc(&report.partitions.join(", ")))
    };
    let _ = writeln!(
        h,
        "<p class=\"meta\">Target <code>{}</code> · started {} · took {} · apiconform {}{partitions}{}</p>",
        esc(&report.targets().join(", ")),
        esc(&human_time(&report.started)),
        esc(&format_ms(report.duration_ms)),
        esc(&report.tool.version),
        if report.stopped_early {
            " · <b>stopped early (--fail-fast)</b>"
        } else {
            ""
        }
    );
    if report.interrupted {
        h.push_str("<div class=\"banner interrupted\" role=\"alert\"><b>Interrupted</b>: a signal stopped this run. Cases that had not started are not in this report; every started case ran its cleanup.</div>\n");
    }
    summary(&mut h, report);
    suites(&mut h, report);
    cases(&mut h, report);
    coverage(&mut h, &report.coverage);
    let _ = write!(
        h,
        "<footer>apiconform {} · report schema v{} · secrets are redacted</footer>\n</main></body></html>\n",
        esc(&report.tool.version),
        report.schema_version
    );
    Ok(h)
}

/// The version-2 counters that are not zero, for a card each.
fn extra_counters(t: &crate::report::model::TotalsRecord) -> Vec<(&'static str, usize)> {
    [
        ("not verified", t.not_verified),
        ("interrupted", t.interrupted),
        ("known", t.known),
        ("fixed", t.fixed),
        ("advisory", t.advisory),
    ]
    .into_iter()
    .filter(|(_, n)| *n > 0)
    .collect()
}

fn summary(h: &mut String, report: &RunReport) {
    let t = &report.totals;
    h.push_str("<section class=\"cards\">");
    for (class, label, n) in [
        ("total", "cases", t.total),
        ("passed", "passed", t.passed),
        ("failed", "failed", t.failed),
        ("flaky", "flaky", t.flaky),
        ("skipped", "skipped", t.skipped),
    ]
    .into_iter()
    .chain(
        extra_counters(t)
            .into_iter()
            .map(|(l, n)| ("skipped", l, n)),
    ) {
        let _ = write!(
            h,
            "<div class=\"card {class}\"><div class=\"n\">{n}</div><div class=\"l\">{label}</div></div>"
        );
    }
    h.push_str("</section>\n");
    let pct = |n: usize| {
        if t.total == 0 {
            0.0
        } else {
            n as f64 * 100.0 / t.total as f64
        }
    };
    let _ = write!(
        h,
        "<section class=\"rate\"><div class=\"top\"><span>Pass rate</span><span class=\"pct\">{:.1}%</span></div><div class=\"bar\" role=\"img\" aria-label=\"{}\">",
        t.pass_rate(),
        esc(&t.closing_line())
    );
    for (class, n) in [
        ("passed", t.passed),
        ("flaky", t.flaky),
        ("failed", t.failed),
        ("skipped", t.skipped),
    ] {
        if n > 0 {
            let _ = write!(
                h,
                "<span class=\"{class}\" style=\"width:{:.3}%\" title=\"{n} {class}\"></span>",
                pct(n)
            );
        }
    }
    h.push_str("</div><div class=\"legend\">");
    for (colour, label) in [
        ("var(--pass)", "passed"),
        ("#d4a72c", "flaky (passed on retry)"),
        ("var(--fail)", "failed"),
        ("#afb8c1", "skipped"),
    ] {
        let _ = write!(
            h,
            "<span><i style=\"background:{colour}\"></i>{label}</span>"
        );
    }
    h.push_str("</div></section>\n");
}

fn suites(h: &mut String, report: &RunReport) {
    h.push_str("<h2>What was tested</h2><table><thead><tr><th>Suite</th><th>File</th><th>Spec</th><th>SHA-256 (suite / spec)</th><th>Target</th></tr></thead><tbody>\n");
    for s in &report.suites {
        let spec = report.specs.iter().find(|x| x.file == s.spec_file);
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td><code>{}</code></td><td>{} <span class=\"suite\">{}</span><br><code>{}</code></td><td><code title=\"{}\">{}…</code><br><code title=\"{}\">{}…</code></td><td><code>{}</code>{}</td></tr>",
            esc(&s.name),
            esc(&s.file),
            esc(spec.map_or("", |x| x.title.as_str())),
            esc(spec.map_or("", |x| x.version.as_str())),
            esc(&s.spec_file),
            esc(&s.sha256),
            esc(short(&s.sha256)),
            esc(spec.map_or("", |x| x.sha256.as_str())),
            esc(short(spec.map_or("", |x| x.sha256.as_str()))),
            esc(&s.base_url),
            s.target_note
                .as_ref()
                .map(|n| format!("<br>{}", esc(n)))
                .unwrap_or_default()
        );
    }
    h.push_str("</tbody></table>\n");
}

fn short(hash: &str) -> &str {
    &hash[..hash.len().min(12)]
}

fn status_class(s: CaseStatus) -> &'static str {
    s.name()
}

fn cases(h: &mut String, report: &RunReport) {
    let _ = writeln!(
        h,
        "<h2>Cases <span class=\"suite\">({}, failures first)</span></h2><section class=\"cases\">",
        report.cases.len()
    );
    filters(h, report);
    // Open failures by default while there are few enough to read.
    let open_failures = report.totals.failed <= 5;
    for c in report.cases_failures_first() {
        case(h, c, open_failures && c.status == CaseStatus::Failed);
    }
    h.push_str("</section>\n");
}

/// What the search box matches: name, suite, requirement, tags, location
/// and the first failure, lower-cased.
fn search_text(c: &CaseResult) -> String {
    let mut parts = vec![
        c.name.to_string(),
        c.suite_name.to_string(),
        c.location.to_string(),
    ];
    if let Some(r) = &c.requirement {
        parts.push(r.id.clone());
        parts.push(r.text.clone());
    }
    parts.extend(c.tags.iter().cloned());
    if let Some(why) = c.failure_summary() {
        parts.push(why);
    }
    parts.join(" ").to_lowercase()
}

/// The search box, a status filter and a tag filter over the case rows.
fn filters(h: &mut String, report: &RunReport) {
    let mut statuses: Vec<&str> = Vec::new();
    let mut tags: Vec<&str> = Vec::new();
    for c in &report.cases {
        let s = status_class(c.status);
        if !statuses.contains(&s) {
            statuses.push(s);
        }
        for t in &c.tags {
            if !tags.contains(&t.as_str()) {
                tags.push(t);
            }
        }
    }
    tags.sort_unstable();
    h.push_str("<div class=\"filters\" role=\"search\"><input type=\"search\" id=\"q\" placeholder=\"Search cases, requirements, failures…\" aria-label=\"Search cases\">");
    h.push_str("<label>status <select id=\"fs\"><option value=\"\">all</option>");
    for s in statuses {
        let _ = write!(h, "<option>{}</option>", esc(s));
    }
    h.push_str("</select></label><label>tag <select id=\"ft\"><option value=\"\">all</option>");
    for t in tags {
        let _ = write!(h, "<option>{}</option>", esc(t));
    }
    h.push_str("</select></label><span class=\"count\" id=\"fc\"></span></div>\n");
    h.push_str(FILTER_SCRIPT);
}

/// Hides the case rows that do not match the search text, status and tag.
/// It waits for DOMContentLoaded, so it may sit above the rows; it loads
/// nothing, so the page works offline.
const FILTER_SCRIPT: &str = r#"<script>
document.addEventListener("DOMContentLoaded",function(){
var q=document.getElementById("q"),fs=document.getElementById("fs"),ft=document.getElementById("ft"),fc=document.getElementById("fc");
var rows=Array.prototype.slice.call(document.querySelectorAll("details.case"));
function apply(){var t=q.value.trim().toLowerCase(),s=fs.value,g=ft.value,n=0;
rows.forEach(function(r){var ok=(!t||r.getAttribute("data-text").indexOf(t)>=0)&&(!s||r.getAttribute("data-status")===s)&&(!g||(" "+r.getAttribute("data-tags")+" ").indexOf(" "+g+" ")>=0);r.hidden=!ok;if(ok)n++;});
fc.textContent=n+" of "+rows.length+" cases";}
q.addEventListener("input",apply);fs.addEventListener("change",apply);ft.addEventListener("change",apply);apply();});
</script>
"#;

fn case(h: &mut String, c: &CaseResult, open: bool) {
    let class = status_class(c.status);
    let _ = write!(
        h,
        "<details class=\"case {class}\" data-status=\"{class}\" data-tags=\"{}\" data-text=\"{}\"{}><summary><span class=\"pill {class}\">{}</span><span class=\"name\">{}</span>",
        esc(&c.tags.join(" ")),
        esc(&search_text(c)),
        if open { " open" } else { "" },
        c.status.label(),
        esc(&c.name)
    );
    if c.status == CaseStatus::Failed
        && let Some(why) = c.failure_summary()
    {
        let _ = write!(
            h,
            "<span class=\"why\" title=\"{}\">{}</span>",
            esc(&why),
            esc(&why)
        );
    }
    if let Some(r) = &c.requirement {
        let _ = write!(
            h,
            "<span class=\"req\" title=\"{}\">{}</span>",
            esc(&r.text),
            esc(&r.id)
        );
        if let Some(note) = r.advisory_label() {
            let _ = write!(h, "<span class=\"req advisory\">{}</span>", esc(&note));
        }
    }
    let _ = write!(
        h,
        "<span class=\"suite\">{}</span><span class=\"time\">{}</span></summary><div class=\"body\">",
        esc(&c.suite_name),
        if c.status == CaseStatus::Skipped {
            String::new()
        } else {
            esc(&format_ms(c.duration_ms))
        }
    );
    let mut info = vec![format!("<code>{}</code>", esc(&c.location))];
    if !c.tags.is_empty() {
        info.push(format!("tags: {}", esc(&c.tags.join(", "))));
    }
    if c.attempts > 1 {
        info.push(format!("{} attempts", c.attempts));
    }
    let _ = write!(h, "<div class=\"info\">{}</div>", info.join(" · "));
    if let Some(r) = &c.requirement {
        let _ = write!(
            h,
            "<div class=\"info\"><b>{}</b> ({}{}): {}</div>",
            esc(&r.id),
            r.level().name(),
            r.source
                .as_deref()
                .map(|s| format!(", {}", esc(s)))
                .unwrap_or_default(),
            esc(&r.text)
        );
    }
    if let Some(reason) = &c.skip_reason {
        let _ = write!(h, "<div class=\"info\">skipped: {}</div>", esc(reason));
    }
    for (i, a) in c.earlier_attempts.iter().enumerate() {
        let _ = write!(
            h,
            "<div class=\"info\">attempt {} failed: {}</div>",
            i + 1,
            esc(&a.failure)
        );
    }
    for s in &c.steps {
        step(h, s);
    }
    h.push_str("</div></details>\n");
}

fn step(h: &mut String, s: &StepResult) {
    let class = s.outcome.name();
    let status = s
        .status()
        .map(|c| format!(" → <b>{c}</b>"))
        .unwrap_or_default();
    let _ = write!(
        h,
        "<div class=\"step\"><h4><span class=\"pill {class}\">{class}</span>{} <span class=\"req\">{}{}</span> <span class=\"time\">{}</span></h4>",
        esc(&s.name),
        esc(&s.operation),
        if s.phase == crate::result::Phase::Cleanup {
            " · cleanup"
        } else {
            ""
        },
        esc(&format_ms(s.duration_ms))
    );
    if let Some(req) = &s.request {
        let with = req
            .credential
            .as_ref()
            .map(|c| format!(" · credential <code>{}</code>", esc(c)))
            .unwrap_or_default();
        let _ = write!(
            h,
            "<div class=\"req\"><code>{} {}</code>{status}{with}</div>",
            esc(&req.method),
            esc(&req.url)
        );
    }
    for note in &s.notes {
        let _ = write!(h, "<div class=\"info\">{}</div>", esc(note));
    }
    if let Some(e) = &s.error {
        let class = if s.outcome == StepOutcome::Skipped {
            "info"
        } else {
            "err"
        };
        let _ = write!(h, "<div class=\"{class}\">{}</div>", esc(e));
    }
    checks(h, s);
    if !s.captures.is_empty() {
        let caps: Vec<String> = s
            .captures
            .iter()
            .map(|(k, v)| format!("{k} = {}", compact(v)))
            .collect();
        let _ = write!(
            h,
            "<div class=\"info\">captured: <code>{}</code></div>",
            esc(&caps.join(", "))
        );
    }
    exchange(h, s);
    if let Some(curl) = s.request.as_ref().and_then(|r| r.curl.as_ref()) {
        let _ = write!(
            h,
            "<div class=\"curl\"><span class=\"loc\">reproduce (secrets are <code>${{NAME}}</code> environment variables):</span><pre>{}</pre></div>",
            esc(curl)
        );
    }
    h.push_str("</div>");
}

/// Failed and skipped checks in full; passed ones on one line, with
/// counts for repeated expectations (`expect.body ×4`).
fn checks(h: &mut String, s: &StepResult) {
    if s.checks.is_empty() {
        return;
    }
    h.push_str("<ul class=\"checks\">");
    for c in s
        .checks
        .iter()
        .filter(|c| c.outcome != CheckOutcome::Passed && !not_applicable(c))
    {
        let (cls, mark) = if c.outcome == CheckOutcome::Failed {
            ("failed", "✗")
        } else {
            ("skipped", "–")
        };
        let _ = write!(
            h,
            "<li class=\"{cls}\"><span class=\"mark\">{mark}</span><code>{}</code>",
            esc(&c.name)
        );
        if let Some(m) = &c.message {
            let _ = write!(h, " <span class=\"msg\">{}</span>", esc(m));
        }
        if let Some(l) = &c.location {
            let _ = write!(h, " <span class=\"loc\">{}</span>", esc(l));
        }
        let detailed = c
            .findings
            .iter()
            .any(|f| f.rule.is_some() || f.excerpt.is_some());
        if c.findings.len() > 1 || detailed {
            h.push_str("<ul class=\"findings\">");
            for f in &c.findings {
                let _ = write!(h, "<li>{}", esc(&f.message));
                if let Some(r) = &f.rule {
                    let _ = write!(h, " <span class=\"loc\">rule: {}</span>", esc(r));
                }
                h.push_str("</li>");
            }
            h.push_str("</ul>");
            // Several findings usually point into the same object: show
            // each distinct excerpt once.
            let mut shown: Vec<&str> = Vec::new();
            for x in c.findings.iter().filter_map(|f| f.excerpt.as_deref()) {
                if !shown.contains(&x) {
                    let _ = write!(h, "<pre>{}</pre>", esc(x));
                    shown.push(x);
                }
            }
        }
        h.push_str("</li>");
    }
    let mut passed: Vec<(&str, usize)> = Vec::new();
    for c in s
        .checks
        .iter()
        .filter(|c| c.outcome == CheckOutcome::Passed)
    {
        match passed.iter_mut().find(|(n, _)| *n == c.name) {
            Some((_, k)) => *k += 1,
            None => passed.push((&c.name, 1)),
        }
    }
    let idle: Vec<String> = s
        .checks
        .iter()
        .filter(|c| not_applicable(c))
        .map(|c| {
            format!(
                "<code>{}</code> ({})",
                esc(&c.name),
                esc(c.message.as_deref().unwrap_or("nothing to check"))
            )
        })
        .collect();
    if !idle.is_empty() {
        let _ = write!(
            h,
            "<li class=\"skipped\"><span class=\"mark\">–</span>not applicable: <span class=\"loc\">{}</span></li>",
            idle.join(", ")
        );
    }
    if !passed.is_empty() {
        let names: Vec<String> = passed
            .iter()
            .map(|(n, k)| {
                if *k > 1 {
                    format!("<code>{}</code> ×{k}", esc(n))
                } else {
                    format!("<code>{}</code>", esc(n))
                }
            })
            .collect();
        let total: usize = passed.iter().map(|(_, k)| k).sum();
        let _ = write!(
            h,
            "<li class=\"passed\"><span class=\"mark\">✓</span>{total} passed: <span class=\"loc\">{}</span></li>",
            names.join(", ")
        );
    }
    h.push_str("</ul>");
}

/// An automatic check that had nothing to look at in this step (no
/// headers documented, no schema for the status): one line for all of
/// them, not a line each.
fn not_applicable(c: &crate::result::CheckResult) -> bool {
    c.outcome == CheckOutcome::Skipped && crate::check::index_of(&c.name).is_some()
}

fn compact(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Request and response dumps, folded: they are long.
fn exchange(h: &mut String, s: &StepResult) {
    let mut text = String::new();
    if let Some(req) = &s.request {
        let _ = writeln!(text, "> {} {}", req.method, req.url);
        for (k, v) in &req.headers {
            let _ = writeln!(text, "> {k}: {v}");
        }
        if let Some(b) = &req.body {
            let _ = writeln!(text, ">\n{b}");
        }
    }
    if let Some(resp) = &s.response {
        if !text.is_empty() {
            text.push('\n');
        }
        let _ = writeln!(text, "< {} ({} bytes)", resp.status, resp.size);
        for (k, v) in &resp.headers {
            let _ = writeln!(text, "< {k}: {v}");
        }
        if let Some(b) = &resp.body {
            let _ = writeln!(text, "<\n{b}");
        }
    }
    let has_detail = s
        .request
        .as_ref()
        .is_some_and(|r| !r.headers.is_empty() || r.body.is_some())
        || s.response
            .as_ref()
            .is_some_and(|r| !r.headers.is_empty() || r.body.is_some());
    if has_detail {
        let _ = write!(
            h,
            "<details class=\"raw\"{}><summary>request and response</summary><pre>{}</pre></details>",
            if s.outcome == StepOutcome::Failed {
                " open"
            } else {
                ""
            },
            esc(text.trim_end())
        );
    }
}

/// The coverage section; also used by the certificate.
pub fn coverage(h: &mut String, c: &Coverage) {
    for spec in &c.specs {
        let _ = writeln!(
            h,
            "<h2>Coverage of {} <span class=\"suite\"><code>{}</code></span></h2>\
             <p class=\"meta\"><span class=\"pct\">{:.0}%</span> of documented operation × status pairs exercised ({}/{})\
             <span class=\"covbar\"><span style=\"width:{:.1}%\"></span></span></p>\
             <table><thead><tr><th>Operation</th><th>Method and path</th><th>Status</th><th>State</th><th class=\"num\">Hits</th></tr></thead><tbody>",
            esc(&spec.title),
            esc(&spec.spec_file),
            spec.percent,
            spec.covered,
            spec.coverable,
            spec.percent
        );
        for r in &spec.rows {
            let (class, label) = match r.state {
                PairState::Covered => ("covered", "covered"),
                PairState::Missing => ("missing", "missing"),
                PairState::Excluded => ("excluded", "excluded"),
            };
            let _ = writeln!(
                h,
                "<tr><td><code>{}</code></td><td><code>{}</code></td><td>{}</td><td><span class=\"pill {class}\">{label}</span>{}</td><td class=\"num\">{}</td></tr>",
                esc(&r.operation),
                esc(&r.method_path),
                esc(&r.status),
                r.reason
                    .as_ref()
                    .map(|x| format!(" <span class=\"suite\">{}</span>", esc(x)))
                    .unwrap_or_default(),
                r.hits
            );
        }
        h.push_str("</tbody></table>\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            esc(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
    }
}
