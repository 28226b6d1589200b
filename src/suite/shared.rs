//! `shared:` files: named step lists that case files include with
//! `use: NAME`, resolved at load time. Included steps keep their own file
//! and positions, so a diagnostic can name both the include and the step.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::model::{SharedFile, Step};
use super::node::Sp;
use crate::diag::{Diagnostic, Diagnostics, Pos};

/// The shared files of one suite file, read and parsed.
#[derive(Default)]
pub struct SharedFiles {
    files: Vec<(PathBuf, SharedFile)>,
}

/// One step to compile: the step, the file it is in, and the `use:` that
/// brought it in (name and position in the including file), if any.
pub struct Included<'s, 'm> {
    pub step: &'m Step,
    pub file: &'s Path,
    pub via: Option<(&'m str, Pos)>,
}

impl SharedFiles {
    /// Every step of every shared file (whether a case uses it or not).
    pub fn all_steps(&self) -> impl Iterator<Item = &Step> {
        self.files
            .iter()
            .flat_map(|(_, f)| f.steps.values())
            .flat_map(|steps| steps.value.iter())
    }

    /// The shared files' paths, as read.
    pub fn paths(&self) -> impl Iterator<Item = &Path> {
        self.files.iter().map(|(p, _)| p.as_path())
    }

    /// Reads every `shared:` path (relative to the suite file's folder).
    pub fn load(suite_file: &Path, paths: &[Sp<String>]) -> Result<SharedFiles, Diagnostics> {
        let dir = suite_file.parent().unwrap_or(Path::new("."));
        let mut out = SharedFiles::default();
        let mut diagnostics = Diagnostics::default();
        for p in paths {
            let path = dir.join(&p.value);
            let text = crate::input::read(&path)
                .map_err(|e| e.to_string())
                .and_then(|b| String::from_utf8(b).map_err(|_| "file is not UTF-8 text".into()));
            match text {
                Ok(text) => match crate::yaml::from_str::<SharedFile>(&path, &text) {
                    Ok(f) => out.files.push((path, f)),
                    Err(d) => diagnostics.push(d),
                },
                Err(e) => diagnostics.push(Diagnostic::new(
                    suite_file,
                    p.pos,
                    format!("cannot read shared file {}: {e}", path.display()),
                )),
            }
        }
        diagnostics.into_result(out)
    }

    /// Name -> (file, steps, position of the name), first definition wins;
    /// a name defined twice is a diagnostic.
    fn index(&self, diagnostics: &mut Diagnostics) -> HashMap<&str, (&Path, &[Step])> {
        let mut index: HashMap<&str, (&Path, &[Step])> = HashMap::new();
        let mut first: HashMap<&str, (&Path, Pos)> = HashMap::new();
        for (path, file) in &self.files {
            for (name, steps) in &file.steps {
                if let Some((other, pos)) = first.get(name.as_str()) {
                    diagnostics.push(Diagnostic::new(
                        path,
                        steps.pos,
                        format!(
                            "shared step list `{name}` is also defined at {}",
                            crate::diag::location(other, *pos)
                        ),
                    ));
                    continue;
                }
                first.insert(name, (path, steps.pos));
                index.insert(name, (path, &steps.value));
            }
        }
        index
    }

    /// Replaces every `use: NAME` in `steps` by the named list. An unknown
    /// name, a `use:` with other fields, and a `use:` inside a shared list
    /// (no nesting, so no cycles) are diagnostics.
    pub fn expand<'s: 'm, 'm>(
        &'s self,
        file: &'s Path,
        steps: &'m [Step],
        diagnostics: &mut Diagnostics,
    ) -> Vec<Included<'s, 'm>> {
        let index = self.index(&mut Diagnostics::default());
        let mut out = Vec::new();
        for step in steps {
            let Some(name) = &step.use_ else {
                out.push(Included {
                    step,
                    file,
                    via: None,
                });
                continue;
            };
            if !only_use(step) {
                diagnostics.push(Diagnostic::new(
                    file,
                    name.pos,
                    "`use:` stands alone: a step that includes a shared list has no other fields",
                ));
                continue;
            }
            let Some((shared_file, list)) = index.get(name.value.as_str()) else {
                let mut known: Vec<&str> = index.keys().copied().collect();
                known.sort_unstable();
                let hint = if known.is_empty() {
                    " (no `shared:` file defines any)".to_string()
                } else {
                    format!(" (known: {})", known.join(", "))
                };
                diagnostics.push(Diagnostic::new(
                    file,
                    name.pos,
                    format!("unknown shared step list `{}`{hint}", name.value),
                ));
                continue;
            };
            for inner in *list {
                if let Some(nested) = &inner.use_ {
                    diagnostics.push(
                        Diagnostic::new(
                            shared_file,
                            nested.pos,
                            "a shared step list cannot `use:` another one",
                        )
                        .with_detail(format!(
                            "included by `use: {}` at {}",
                            name.value,
                            crate::diag::location(file, name.pos)
                        )),
                    );
                    continue;
                }
                out.push(Included {
                    step: inner,
                    file: shared_file,
                    via: Some((name.value.as_str(), name.pos)),
                });
            }
        }
        out
    }

    /// Duplicate names across the shared files.
    pub fn check_names(&self) -> Diagnostics {
        let mut d = Diagnostics::default();
        self.index(&mut d);
        d
    }
}

/// Whether a `use:` step gives nothing else.
fn only_use(s: &Step) -> bool {
    s.name.is_none()
        && s.operation.is_none()
        && s.request.is_none()
        && s.webhook.is_none()
        && s.credential.is_none()
        && s.path.is_empty()
        && s.query.is_empty()
        && s.headers.is_empty()
        && s.body.is_none()
        && s.raw_body.is_none()
        && s.content_type.is_none()
        && s.expect.status.is_none()
        && s.expect.headers.is_empty()
        && s.expect.body.is_empty()
        && s.expect.max_time_ms.is_none()
        && s.capture.is_empty()
        && s.snapshot.is_none()
        && s.checks.disable.is_empty()
        && s.checks.enable.is_empty()
}
