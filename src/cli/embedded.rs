//! The embedded default target: without `--base-url`, a suite that names a
//! bundled `server:` runs against that reference server, started in-process
//! on 127.0.0.1:0, with a webhook listener wired to it.

use crate::run::Target;
use crate::run::webhook::Listener;
use crate::suite::Suite;
use crate::suite::vars::ExternalVars;

#[derive(Default)]
pub struct Embedded {}

impl Embedded {
    pub async fn target_for(
        &mut self,
        suite: &Suite,
        _external: &ExternalVars,
        _listener: &mut Option<Listener>,
    ) -> Result<Target, String> {
        Err(format!(
            "{}: no --base-url given{}",
            suite.file.display(),
            match &suite.server {
                Some(s) => format!(" and the `{s}` reference server is not built into this binary"),
                None => " and the suite names no bundled `server:`".into(),
            }
        ))
    }

    pub async fn shutdown(self) {}
}
