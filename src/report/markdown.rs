//! `--markdown FILE`: a pull-request comment. Summary line and table,
//! failures (folded, with details in code blocks), flaky cases, coverage.
//! GitHub renders HTML in Markdown, so run values are escaped, and the
//! text stays under the 65,536-character limit of a comment.

use std::fmt::Write as _;

use super::RenderError;
use super::console::format_ms;
use super::model::RunReport;
use crate::coverage::{Coverage, PairState};
use crate::result::CaseStatus;

/// GitHub rejects longer comments; keep room for a header added by CI.
const MAX_CHARS: usize = 60_000;

/// Text for a table cell or a line: no HTML, no table breaks, no newlines.
pub fn cell(text: &str) -> String {
    super::html::esc(text)
        .replace('|', "\\|")
        .replace('`', "&#96;")
        .replace(['\n', '\r'], " ")
}

/// Cases that verified nothing (skipped, not verified, interrupted), each
/// with its reason, within the size budget.
fn unverified(m: &mut String, report: &RunReport) {
    let rows: Vec<String> = report
        .cases
        .iter()
        .filter(|c| {
            matches!(
                c.status,
                CaseStatus::Skipped | CaseStatus::NotVerified | CaseStatus::Interrupted
            )
        })
        .map(|c| {
            let why = c.skip_reason.as_deref().unwrap_or(c.status.name());
            format!("{} ({})", cell(&c.full_name()), cell(why))
        })
        .collect();
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(m, "### Not verified\n");
    for (i, row) in rows.iter().enumerate() {
        if m.len() + row.len() > MAX_CHARS - 4000 {
            let _ = writeln!(m, "- …and {} more; see the full report.", rows.len() - i);
            break;
        }
        let _ = writeln!(m, "- {row}");
    }
    m.push('\n');
}

/// A fenced code block whose fence is longer than any backtick run inside.
pub fn code_block(text: &str) -> String {
    let text = crate::diag::strip_ansi(text);
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    format!("{fence}text\n{}\n{fence}\n", text.trim_end())
}

pub fn render(report: &RunReport) -> Result<String, RenderError> {
    let t = &report.totals;
    let mut m = String::new();
    let icon = if t.failed == 0 { "✅" } else { "❌" };
    let _ = writeln!(
        m,
        "## {icon} API conformance: {}\n",
        cell(&t.closing_line())
    );
    let _ = writeln!(
        m,
        "| Passed | Failed | Flaky | Skipped | Pass rate | Duration |"
    );
    let _ = writeln!(m, "|---:|---:|---:|---:|---:|---:|");
    let _ = writeln!(
        m,
        "| {} | {} | {} | {} | {:.1}% | {} |\n",
        t.passed,
        t.failed,
        t.flaky,
        t.skipped,
        t.pass_rate(),
        format_ms(report.duration_ms)
    );
    let extra: Vec<String> = [
        (t.not_verified, "not verified"),
        (t.interrupted, "interrupted"),
        (t.known, "known failures"),
        (t.fixed, "fixed"),
        (t.advisory, "advisory"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect();
    if !extra.is_empty() {
        let _ = writeln!(m, "Also: {}.\n", extra.join(", "));
    }
    let mut meta = vec![format!("target {}", cell(&report.targets().join(", ")))];
    for s in &report.specs {
        meta.push(format!(
            "spec {} {} (`{}`)",
            cell(&s.title),
            cell(&s.version),
            &s.sha256[..s.sha256.len().min(12)]
        ));
    }
    if !report.partitions.is_empty() {
        meta.push(format!("shards {}", cell(&report.partitions.join(", "))));
    }
    meta.push(format!("apiconform {}", cell(&report.tool.version)));
    let _ = writeln!(m, "{}\n", meta.join(" · "));
    if report.interrupted {
        let _ = writeln!(
            m,
            "**Interrupted** by a signal: cases that had not started are not in this report; started cases ran their cleanup.\n"
        );
    }
    if report.stopped_early {
        let _ = writeln!(
            m,
            "**Stopped early** (`--fail-fast`): some cases did not run.\n"
        );
    }

    let failed: Vec<_> = report
        .cases_failures_first()
        .into_iter()
        .filter(|c| c.status == CaseStatus::Failed)
        .collect();
    if !failed.is_empty() {
        let _ = writeln!(m, "### Failures\n");
        let mut shown = 0;
        for c in &failed {
            let mut entry = String::new();
            let mut why = c.failure_summary().unwrap_or_default();
            if let Some(note) = c.requirement.as_ref().and_then(|r| r.advisory_label()) {
                why = format!("[{note}] {why}");
            }
            let _ = writeln!(
                entry,
                "<details><summary><b>{}</b> › {}: {}</summary>\n\n{}\n</details>\n",
                cell(&c.suite_name),
                cell(&c.name),
                cell(&why),
                code_block(&super::failure_text(c))
            );
            // Leave room for the coverage summary.
            if m.len() + entry.len() > MAX_CHARS - 4000 {
                break;
            }
            m.push_str(&entry);
            shown += 1;
        }
        if shown < failed.len() {
            let _ = writeln!(
                m,
                "…and {} more failures; see the full report.\n",
                failed.len() - shown
            );
        }
    }
    for (status, title) in [
        (CaseStatus::Known, "Known failures (baseline)"),
        (CaseStatus::Fixed, "Fixed since the baseline"),
    ] {
        let names: Vec<String> = report
            .cases
            .iter()
            .filter(|c| c.status == status)
            .map(|c| cell(&c.full_name()))
            .collect();
        if !names.is_empty() {
            let _ = writeln!(m, "**{title}:** {}\n", names.join(", "));
        }
    }
    let flaky: Vec<String> = report
        .cases
        .iter()
        .filter(|c| c.status == CaseStatus::Flaky)
        .map(|c| format!("{} ({} attempts)", cell(&c.full_name()), c.attempts))
        .collect();
    if !flaky.is_empty() {
        let _ = writeln!(
            m,
            "### Flaky (passed on retry)\n\n- {}\n",
            flaky.join("\n- ")
        );
    }
    unverified(&mut m, report);
    coverage(&mut m, &report.coverage, MAX_CHARS);
    Ok(m)
}

/// Coverage summary and the pairs not covered; also used by the certificate.
pub fn coverage(m: &mut String, c: &Coverage, budget: usize) {
    if c.specs.is_empty() {
        return;
    }
    let _ = writeln!(m, "### Coverage\n");
    let _ = writeln!(m, "| Spec | Covered pairs | Coverage |");
    let _ = writeln!(m, "|---|---:|---:|");
    for s in &c.specs {
        let _ = writeln!(
            m,
            "| {} | {}/{} | {:.0}% |",
            cell(&s.title),
            s.covered,
            s.coverable,
            s.percent
        );
    }
    m.push('\n');
    for s in &c.specs {
        let missing: Vec<_> = s
            .rows
            .iter()
            .filter(|r| r.state == PairState::Missing)
            .collect();
        if missing.is_empty() {
            continue;
        }
        let mut block = format!(
            "<details><summary>{} pairs of {} not exercised</summary>\n\n| Operation | Method and path | Status |\n|---|---|---|\n",
            missing.len(),
            cell(&s.title)
        );
        for r in missing {
            let _ = writeln!(
                block,
                "| {} | {} | {} |",
                cell(&r.operation),
                cell(&r.method_path),
                cell(&r.status)
            );
        }
        block.push_str("\n</details>\n\n");
        if m.len() + block.len() < budget {
            m.push_str(&block);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_escapes_from_a_body_do_not_reach_the_markdown() {
        let body = "\u{1b}[31merror\u{1b}[0m: \u{1b}]8;;http://x\u{7}link";
        assert_eq!(cell(body), "error: link");
        assert_eq!(code_block(body), "```text\nerror: link\n```\n");
        assert_eq!(crate::report::html::esc(body), "error: link");
    }

    #[test]
    fn cells_cannot_break_tables_or_inject_html() {
        assert_eq!(
            cell("a|b\n<img src=x>`c`"),
            "a\\|b &lt;img src=x&gt;&#96;c&#96;"
        );
    }

    #[test]
    fn code_fences_outgrow_backtick_runs() {
        let b = code_block("x ```` y");
        assert!(b.starts_with("`````text\n"), "{b}");
        assert!(b.ends_with("\n`````\n"), "{b}");
    }
}
