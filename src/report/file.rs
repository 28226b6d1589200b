//! Writing report files without losing data. A report path is only
//! touched once there is something to write; a regular file (or an absent
//! path) is replaced through a temporary file and a rename, so a reader
//! never sees half a report and an interrupted write leaves the old one; a
//! symlink is followed and its target replaced (the link stays); anything
//! else (a pipe, `/dev/stdout`, a terminal) is written in place, since
//! renaming over it would replace the device node itself. `-` is stdout.

use std::io::Write;
use std::path::{Path, PathBuf};

/// The path that means "standard output" for every report flag.
pub const STDOUT: &str = "-";

/// Whether a report path is `-` (stdout).
pub fn is_stdout(path: &Path) -> bool {
    path.as_os_str() == STDOUT
}

/// Where the bytes for `path` go.
#[derive(Debug, PartialEq, Eq)]
enum Dest {
    Stdout,
    /// Regular file or nothing yet: temp file in this folder, then rename.
    Replace(PathBuf),
    /// A FIFO, a character device, a socket: opened and written.
    InPlace(PathBuf),
}

/// Follows symlinks (also dangling ones, whose target is to be created)
/// and decides how to write. The kernel resolves existing paths, so
/// `/dev/stdout` → `/proc/self/fd/1` → a pipe is seen as the pipe.
fn destination(path: &Path) -> std::io::Result<Dest> {
    if is_stdout(path) {
        return Ok(Dest::Stdout);
    }
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => Ok(Dest::Replace(std::fs::canonicalize(path)?)),
        Ok(m) if m.is_dir() => Err(std::io::Error::new(
            std::io::ErrorKind::IsADirectory,
            "is a directory",
        )),
        Ok(_) => Ok(Dest::InPlace(path.to_path_buf())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            dangling_target(path).map(Dest::Replace)
        }
        Err(e) => Err(e),
    }
}

/// The path a report should be created at when `path` does not resolve:
/// `path` itself, or the end of its (dangling) symlink chain.
fn dangling_target(path: &Path) -> std::io::Result<PathBuf> {
    let mut target = path.to_path_buf();
    // Bounded, so a symlink loop ends in an error rather than a hang.
    for _ in 0..40 {
        match std::fs::symlink_metadata(&target) {
            Ok(m) if m.file_type().is_symlink() => {
                let link = std::fs::read_link(&target)?;
                target = match target.parent() {
                    Some(dir) if link.is_relative() => dir.join(link),
                    _ => link,
                };
            }
            _ => return Ok(target),
        }
    }
    Err(std::io::Error::other("too many levels of symbolic links"))
}

/// The temporary sibling of `target`; unique per process.
fn temp_path(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    target.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}

/// Checks, before the run, that `path` can be written later, without
/// changing what is there now (an earlier report stays until the new one
/// replaces it).
pub fn check_writable(path: &Path) -> std::io::Result<()> {
    match destination(path)? {
        Dest::Stdout | Dest::InPlace(_) => Ok(()),
        Dest::Replace(target) => {
            // An existing file is replaced through a sibling, so that is
            // what must be creatable; say so, or `/proc/version` would
            // fail with a bare "No such file or directory".
            let tmp = temp_path(&target);
            let beside = |e: std::io::Error| {
                if target.exists() {
                    let why = format!("cannot create a file beside it to replace it ({e})");
                    std::io::Error::new(e.kind(), why)
                } else {
                    e
                }
            };
            std::fs::File::create(&tmp).map_err(beside)?;
            std::fs::remove_file(&tmp)
        }
    }
}

/// Writes a whole report to `path` (see the module doc for how).
pub fn write_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let with_path = |e: std::io::Error| annotate(path, e);
    match destination(path).map_err(with_path)? {
        Dest::Stdout => {
            let mut out = std::io::stdout().lock();
            out.write_all(bytes)?;
            out.flush()
        }
        Dest::InPlace(target) => {
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .open(&target)
                .map_err(with_path)?;
            f.write_all(bytes).map_err(with_path)?;
            f.flush().map_err(with_path)
        }
        Dest::Replace(target) => {
            let tmp = temp_path(&target);
            let written = (|| {
                let mut f = std::fs::File::create(&tmp)?;
                f.write_all(bytes)?;
                f.sync_all()?;
                // Keep the mode of the report being replaced.
                if let Ok(old) = std::fs::metadata(&target) {
                    std::fs::set_permissions(&tmp, old.permissions())?;
                }
                std::fs::rename(&tmp, &target)
            })();
            if written.is_err() {
                let _ = std::fs::remove_file(&tmp);
            }
            written.map_err(with_path)
        }
    }
}

/// Opens `path` for a stream of writes (`--json-lines`): stdout for `-`,
/// otherwise the file (or the symlink's target) opened for writing and
/// truncated; called when the first line is ready, not before.
pub fn open_stream(path: &Path) -> std::io::Result<Box<dyn Write + Send>> {
    let with_path = |e: std::io::Error| annotate(path, e);
    Ok(match destination(path).map_err(with_path)? {
        Dest::Stdout => Box::new(std::io::stdout()),
        Dest::InPlace(target) => Box::new(
            std::fs::OpenOptions::new()
                .write(true)
                .open(target)
                .map_err(with_path)?,
        ),
        Dest::Replace(target) => Box::new(std::fs::File::create(target).map_err(with_path)?),
    })
}

/// A stream (`--json-lines`) that opens its path on the first write, so a
/// run that ends before its first event leaves an earlier file alone.
pub struct LazyStream {
    path: PathBuf,
    out: Option<std::io::BufWriter<Box<dyn Write + Send>>>,
}

impl LazyStream {
    /// Checks the path now; opens it on the first write.
    pub fn new(path: &Path) -> std::io::Result<LazyStream> {
        check_writable(path)?;
        Ok(LazyStream {
            path: path.to_path_buf(),
            out: None,
        })
    }

    fn out(&mut self) -> std::io::Result<&mut std::io::BufWriter<Box<dyn Write + Send>>> {
        if self.out.is_none() {
            self.out = Some(std::io::BufWriter::new(open_stream(&self.path)?));
        }
        self.out
            .as_mut()
            .ok_or_else(|| std::io::Error::other("stream not open"))
    }
}

impl Write for LazyStream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.out()?.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.out {
            Some(o) => o.flush(),
            None => Ok(()),
        }
    }
}

fn annotate(path: &Path, e: std::io::Error) -> std::io::Error {
    std::io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_that_cannot_be_replaced_says_why_not_that_it_is_missing() {
        // It exists, but nothing can be created in /proc.
        let e = check_writable(Path::new("/proc/version")).unwrap_err();
        assert!(
            e.to_string().contains("cannot create a file beside it"),
            "{e}"
        );
    }

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("apiconform-file-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn checking_leaves_an_old_report_alone() {
        let d = dir("check");
        let report = d.join("r.json");
        std::fs::write(&report, "old").unwrap();
        check_writable(&report).unwrap();
        assert_eq!(std::fs::read_to_string(&report).unwrap(), "old");
        assert_eq!(
            std::fs::read_dir(&d).unwrap().count(),
            1,
            "no temp file left"
        );
        assert!(check_writable(&d.join("missing/r.json")).is_err());
        assert!(check_writable(&d).is_err(), "a folder is not a report");
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_are_followed_and_kept() {
        let d = dir("link");
        std::fs::write(d.join("target.json"), "old").unwrap();
        std::os::unix::fs::symlink("target.json", d.join("link.json")).unwrap();
        write_file(&d.join("link.json"), b"new").unwrap();
        assert!(
            std::fs::symlink_metadata(d.join("link.json"))
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(
            std::fs::read_to_string(d.join("target.json")).unwrap(),
            "new"
        );
        // A dangling link: its target is created.
        std::os::unix::fs::symlink("later.json", d.join("dangling.json")).unwrap();
        write_file(&d.join("dangling.json"), b"x").unwrap();
        assert_eq!(std::fs::read_to_string(d.join("later.json")).unwrap(), "x");
        // A loop is an error, not a hang.
        std::os::unix::fs::symlink("loop2", d.join("loop1")).unwrap();
        std::os::unix::fs::symlink("loop1", d.join("loop2")).unwrap();
        assert!(write_file(&d.join("loop1"), b"x").is_err());
    }

    #[test]
    fn device_paths_are_written_in_place() {
        assert_eq!(destination(Path::new("-")).unwrap(), Dest::Stdout);
        if Path::new("/dev/null").exists() {
            assert_eq!(
                destination(Path::new("/dev/null")).unwrap(),
                Dest::InPlace("/dev/null".into())
            );
            write_file(Path::new("/dev/null"), b"x").unwrap();
            assert!(Path::new("/dev/null").exists());
        }
    }
}
