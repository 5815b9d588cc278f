//! Where a record of one source file belongs: its host and site resolved as
//! the analysis resolves them, and its time with the host's clock skew
//! applied and the time range enforced. Shared by everything that walks
//! every record (the tables, the full timeline).

use std::sync::Arc;

use faultline_parser::source::{host_from_path, site_from_path};
use faultline_parser::{Entry, Timestamp};

use crate::analysis::AnalysisConfig;
use crate::evidence::short_host;

/// One source file's context.
#[derive(Clone, Debug)]
pub(crate) struct SourceContext<'a> {
    /// Display path (`archive!member` inside archives).
    pub path: Arc<str>,
    /// Host from the folder layout.
    host: Option<Arc<str>>,
    /// Site from a `W3SVC<n>` folder.
    pub site: Option<u32>,
    config: &'a AnalysisConfig,
}

impl<'a> SourceContext<'a> {
    pub fn new(entry: &Entry, config: &'a AnalysisConfig) -> Self {
        let components = entry.path.components();
        SourceContext {
            path: Arc::from(entry.path.to_string()),
            host: host_from_path(&components).map(|h| Arc::from(h.to_ascii_uppercase())),
            site: site_from_path(&components),
            config,
        }
    }

    /// The host a record belongs to: its own computer name (short, upper
    /// case), else the folder it came from.
    pub fn host(&self, computer: Option<&str>) -> String {
        match computer {
            Some(c) => short_host(c).to_ascii_uppercase(),
            None => self.host.as_deref().unwrap_or("-").to_string(),
        }
    }

    /// The record's time with the host's skew applied, if in range.
    pub fn time(&self, host: &str, t: Timestamp) -> Option<Timestamp> {
        let t = t.shifted(self.config.skew.get(host).copied().unwrap_or(0));
        let after_from = self.config.from.is_none_or(|from| t >= from);
        let before_to = self.config.to.is_none_or(|to| t < to);
        (after_from && before_to).then_some(t)
    }
}
