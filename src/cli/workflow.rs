//! The daily-loop options of `run`: baselines (`--baseline`,
//! `--write-baseline`, `--strict-baseline`), `--rerun-failed` and the
//! next-command hint. A reporter in front of all the others applies the
//! baseline to each finished case, so every report format shows `known`
//! and `fixed`, and records what failed for the next `--rerun-failed`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use sha2::Digest;

use super::args::RunArgs;
use super::common::{default_paths, input_error, out, usage_error};
use super::{EXIT_FAILED, EXIT_OK};
use crate::baseline::{Baseline, Entry};
use crate::event::{Event, Fanout, Reporter};
use crate::result::{Status, Totals};

/// Where `--rerun-failed` state lives (relative to the current directory;
/// `.gitignore` ignores it).
pub const STATE_DIR: &str = ".apiconform/last-run";

/// What the run left for the CLI to act on after it finished.
#[derive(Default)]
pub struct Outcome {
    /// Totals after the baseline (known failures do not count as failed).
    pub totals: Totals,
    /// Every failure as it happened (before the baseline), for `--write-baseline`.
    pub current: Vec<crate::result::CaseResult>,
    pub fixed: Vec<Entry>,
    pub expired: Vec<Entry>,
    pub known: usize,
    /// `(suite, case)` of every failed, interrupted or known case.
    pub failed: BTreeSet<(String, String)>,
    pub finished: bool,
}

/// The reporter in front of every other one.
pub struct Workflow {
    pub inner: Fanout,
    pub baseline: Option<Baseline>,
    pub today: String,
    pub outcome: Arc<Mutex<Outcome>>,
}

impl Reporter for Workflow {
    fn wants_steps(&self) -> bool {
        self.inner.wants_steps()
    }

    fn event(&mut self, event: &Event) -> std::io::Result<()> {
        let Ok(mut out) = self.outcome.lock() else {
            return self.inner.event(event);
        };
        match event {
            Event::CaseFinished(case) => {
                let mut case = case.clone();
                if case.status == Status::Failed || case.status == Status::Interrupted {
                    out.current.push((*case).clone());
                }
                if let Some(b) = &self.baseline {
                    let applied = b.apply(&mut case, &self.today);
                    out.known += applied.known;
                    out.fixed.extend(applied.fixed);
                    out.expired.extend(applied.expired);
                }
                // A known failure still fails: after a fix, rerun it too.
                if case.status.is_failure() || case.status == Status::Known {
                    out.failed
                        .insert((case.suite_name.to_string(), case.name.to_string()));
                }
                out.totals.add(case.status);
                drop(out);
                self.inner.event(&Event::CaseFinished(case))
            }
            Event::RunFinished(summary) => {
                let mut summary = summary.clone();
                summary.totals = out.totals;
                out.finished = true;
                drop(out);
                self.inner.event(&Event::RunFinished(summary))
            }
            other => {
                drop(out);
                self.inner.event(other)
            }
        }
    }
}

/// Puts the workflow reporter in front of `reporters`; loads `--baseline`
/// (a bad file is an input error, exit 2).
pub fn front(args: &RunArgs, reporters: Fanout) -> Result<(Fanout, Arc<Mutex<Outcome>>), u8> {
    let baseline = match &args.baseline {
        Some(path) => Some(Baseline::load(path).map_err(|d| input_error(&d.into()))?),
        None => None,
    };
    let outcome = Arc::new(Mutex::new(Outcome::default()));
    let mut front = Fanout::default();
    front.add(Box::new(Workflow {
        inner: reporters,
        baseline,
        today: crate::baseline::today(),
        outcome: outcome.clone(),
    }));
    Ok((front, outcome))
}

/// After the run: the exit code as the baseline sees it, expired and fixed
/// entries, `--write-baseline`, the rerun state and the next-command hint.
pub fn finish(args: &RunArgs, outcome: &Mutex<Outcome>, code: u8, to_stdout: bool) -> u8 {
    let say = |line: &str| {
        if to_stdout {
            eprintln!("{line}");
        } else {
            out(line);
        }
    };
    let Ok(o) = outcome.lock() else {
        return code;
    };
    if !o.finished {
        return code;
    }
    // The runner counted known failures as failed; the baseline decides.
    let mut code = if code == EXIT_FAILED && o.totals.failed == 0 {
        EXIT_OK
    } else {
        code
    };
    if args.baseline.is_some() && (o.known > 0 || !o.fixed.is_empty()) {
        say(&format!(
            "baseline: {} known failure{}, {} fixed",
            o.known,
            if o.known == 1 { "" } else { "s" },
            o.fixed.len()
        ));
    }
    for e in &o.expired {
        say(&format!(
            "baseline entry expired on {}: {} › {} step {} {} ({})",
            e.expires.as_deref().unwrap_or(""),
            e.suite,
            e.case,
            e.step,
            e.check,
            e.reason
        ));
        code = EXIT_FAILED;
    }
    for e in &o.fixed {
        say(&format!(
            "baseline entry fixed (remove it): {} › {} step {} {}{}",
            e.suite,
            e.case,
            e.step,
            e.check,
            e.at.as_deref()
                .map(|a| format!(" at {a}"))
                .unwrap_or_default()
        ));
    }
    if args.strict_baseline && !o.fixed.is_empty() {
        say("--strict-baseline: fixed entries fail the run; remove them from the baseline");
        code = EXIT_FAILED;
    }
    if let Some(path) = &args.write_baseline {
        let b = Baseline::from_results(&o.current);
        if let Err(e) = crate::report::write_file(path, b.to_yaml().as_bytes()) {
            return usage_error(&format!("cannot write {}: {e}", path.display()));
        }
        say(&format!(
            "wrote {} baseline entr{} to {}",
            b.known.len(),
            if b.known.len() == 1 { "y" } else { "ies" },
            path.display()
        ));
    }
    let paths = default_paths(&args.select.paths);
    if let Err(e) = save_failed(&paths, &o.failed) {
        eprintln!("warning: cannot record the failed cases for --rerun-failed: {e}");
    }
    if code == EXIT_FAILED && !o.failed.is_empty() {
        say(&hint(&paths, args.verbose));
    }
    code
}

/// The `--rerun-failed` record of one set of paths.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct RerunState {
    pub paths: Vec<String>,
    pub failed: Vec<(String, String)>,
}

/// The state file for these suite paths (one per distinct path list, so
/// runs of different folders do not overwrite each other).
pub fn state_file(paths: &[PathBuf]) -> PathBuf {
    let key = paths_key(paths).join("\n");
    let digest = sha2::Sha256::digest(key.as_bytes());
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    Path::new(STATE_DIR).join(format!("{hex}.json"))
}

fn paths_key(paths: &[PathBuf]) -> Vec<String> {
    paths
        .iter()
        .map(|p| {
            std::fs::canonicalize(p)
                .unwrap_or_else(|_| p.clone())
                .display()
                .to_string()
        })
        .collect()
}

/// Reads the failed cases of the previous run of these paths.
pub fn load_failed(paths: &[PathBuf]) -> Result<BTreeSet<(String, String)>, String> {
    let file = state_file(paths);
    let text = std::fs::read_to_string(&file).map_err(|_| {
        format!(
            "--rerun-failed: no earlier run of these paths is recorded ({} is missing); run once without it",
            file.display()
        )
    })?;
    let state: RerunState = serde_json::from_str(&text).map_err(|e| {
        format!(
            "--rerun-failed: {} is damaged ({e}); delete it",
            file.display()
        )
    })?;
    Ok(state.failed.into_iter().collect())
}

/// Records the failed cases of this run for the next `--rerun-failed`.
pub fn save_failed(paths: &[PathBuf], failed: &BTreeSet<(String, String)>) -> Result<(), String> {
    let file = state_file(paths);
    let state = RerunState {
        paths: paths_key(paths),
        failed: failed.iter().cloned().collect(),
    };
    write_state(&file, &state)
}

/// Writes the state by replacing the file (temporary file, then rename), so
/// a run reading it at the same moment sees the old record or the new one,
/// never a half-written file.
fn write_state(file: &Path, state: &RerunState) -> Result<(), String> {
    let json = serde_json::to_string_pretty(state).map_err(|e| e.to_string())?;
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    crate::report::write_file(file, (json + "\n").as_bytes()).map_err(|e| e.to_string())
}

/// The one-line hint printed after a failed run.
pub fn hint(paths: &[PathBuf], verbose: bool) -> String {
    let shown: Vec<String> = paths
        .iter()
        .map(|p| shell_word(&p.display().to_string()))
        .collect();
    let mut line = format!("next: apiconform run {} --rerun-failed", shown.join(" "));
    if !verbose {
        line.push_str(" -v   (with this run's other flags: only what failed, every request shown)");
    } else {
        line.push_str("   (with this run's other flags: only what failed)");
    }
    line
}

fn shell_word(s: &str) -> String {
    if s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"/._-+:=@".contains(&b))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_quote_paths_and_state_files_differ_per_path_list() {
        let h = hint(&[PathBuf::from("cases/my suite")], false);
        assert!(h.contains("'cases/my suite' --rerun-failed -v"), "{h}");
        assert_ne!(
            state_file(&[PathBuf::from("a")]),
            state_file(&[PathBuf::from("b")])
        );
    }

    #[test]
    fn the_state_is_replaced_whole_so_a_reader_never_sees_half_a_file() {
        let dir = std::env::temp_dir().join(format!("apiconform-state-{}", uuid::Uuid::new_v4()));
        let file = dir.join("last-run").join("state.json");
        let state = |case: &str| RerunState {
            paths: vec!["cases".into()],
            failed: vec![("suite".into(), case.into())],
        };
        write_state(&file, &state("first")).unwrap();
        // A reader that opened the old record keeps reading the old record:
        // the new one arrives as a new file, not by truncating this one.
        let mut reader = std::fs::File::open(&file).unwrap();
        write_state(&file, &state("second")).unwrap();
        let mut old = String::new();
        std::io::Read::read_to_string(&mut reader, &mut old).unwrap();
        assert!(old.contains("first"), "{old}");
        let new = std::fs::read_to_string(&file).unwrap();
        assert!(new.contains("second"), "{new}");
        let left: Vec<_> = std::fs::read_dir(file.parent().unwrap())
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.file_name())
            .collect();
        assert_eq!(left.len(), 1, "no temporary file is left: {left:?}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
