//! Rules from where users keep them: folders of `.yml`/`.yaml` files (a
//! SigmaHQ checkout), multi-document files, `deprecated/` and
//! `unsupported/` folders left out unless asked; and the project's own pack.
//! Every rule that cannot be evaluated is reported with the reason.

use std::path::{Path, PathBuf};

use yaml_rust2::{Yaml, YamlLoader};

use crate::correlation::Correlation;
use crate::pack::BUNDLED;
use crate::rule::{Rule, Unsupported};

/// A rule left out, and why.
#[derive(Clone, Debug)]
pub struct Skipped {
    /// The file.
    pub path: PathBuf,
    /// The rule's title, when it has one.
    pub title: Option<String>,
    /// Why.
    pub reason: String,
}

/// What loading gave.
#[derive(Clone, Debug, Default)]
pub struct LoadReport {
    /// Rules ready to evaluate.
    pub rules: Vec<Rule>,
    /// Correlation rules over them.
    pub correlations: Vec<Correlation>,
    /// Rules left out.
    pub skipped: Vec<Skipped>,
    /// Correlation rules read, resolved by [`LoadReport::finish`] once every
    /// rule they may name is loaded.
    pending: Vec<(Yaml, PathBuf)>,
}

/// A rules folder that cannot be read at all.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The path does not exist or cannot be listed.
    #[error("cannot read rules at {path}: {source}")]
    Unreadable {
        /// The path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

impl LoadReport {
    /// Adds the rules of one YAML text (`origin` names it in the
    /// report).
    pub fn add_text(&mut self, text: &str, origin: &Path) {
        let docs = match YamlLoader::load_from_str(text) {
            Ok(docs) => docs,
            Err(e) => {
                self.skipped.push(Skipped {
                    path: origin.to_path_buf(),
                    title: None,
                    reason: format!("YAML: {e}"),
                });
                return;
            }
        };
        for doc in docs.iter().filter(|d| !d.is_null()) {
            let title = doc["title"].as_str().map(str::to_string);
            if !doc["correlation"].is_badvalue() {
                self.pending.push((doc.clone(), origin.to_path_buf()));
                continue;
            }
            let rule = if doc["action"].is_badvalue() {
                Rule::from_yaml(doc, origin)
            } else {
                Err(Unsupported::Malformed("rule collections (`action:`) are not read".into()))
            };
            match rule {
                Ok(rule) => self.rules.push(rule),
                Err(reason) => self.skipped.push(Skipped {
                    path: origin.to_path_buf(),
                    title,
                    reason: reason.to_string(),
                }),
            }
        }
    }

    /// Resolves the correlation rules against every loaded rule; those
    /// naming a rule that is not loaded are skipped, and so is the
    /// own output of rules a correlation reads (unless it says `generate`).
    pub fn finish(mut self) -> LoadReport {
        for (doc, origin) in std::mem::take(&mut self.pending) {
            let title = doc["title"].as_str().map(str::to_string);
            match Correlation::from_yaml(&doc, &origin.to_string_lossy(), &self.rules) {
                Ok(c) => self.correlations.push(c),
                Err(reason) => self.skipped.push(Skipped { path: origin, title, reason: reason.to_string() }),
            }
        }
        self
    }

    /// The project's own pack.
    pub fn add_bundled(&mut self) {
        for (name, text) in BUNDLED {
            self.add_text(text, &PathBuf::from(format!("{}{name}", crate::pack::BUNDLED_ORIGIN)));
        }
    }

    /// Every rule file under `path` (a file or a folder, walked in name
    /// order so that the same rules load in the same order).
    pub fn add_path(&mut self, path: &Path, with_deprecated: bool) -> Result<(), LoadError> {
        let unreadable = |source| LoadError::Unreadable { path: path.to_path_buf(), source };
        let meta = std::fs::metadata(path).map_err(unreadable)?;
        if meta.is_file() {
            match std::fs::read_to_string(path) {
                Ok(text) => self.add_text(&text, path),
                Err(e) => self.skipped.push(Skipped {
                    path: path.to_path_buf(),
                    title: None,
                    reason: e.to_string(),
                }),
            }
            return Ok(());
        }
        let mut entries: Vec<PathBuf> =
            std::fs::read_dir(path).map_err(unreadable)?.filter_map(|e| e.ok().map(|e| e.path())).collect();
        entries.sort();
        for entry in entries {
            let name =
                entry.file_name().map(|n| n.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
            if entry.is_dir() {
                if !with_deprecated && matches!(name.as_str(), "deprecated" | "unsupported") {
                    continue;
                }
                self.add_path(&entry, with_deprecated)?;
            } else if name.ends_with(".yml") || name.ends_with(".yaml") {
                self.add_path(&entry, with_deprecated)?;
            }
        }
        Ok(())
    }
}
