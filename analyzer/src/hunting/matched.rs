//! What a detection shows of the record its rules matched: the record's
//! place, the values the rules read (the ones their tests passed first), and
//! a summary that names what the line would otherwise cut.

use std::sync::Arc;

use faultline_hunt::View;
use faultline_parser::Timestamp;

use crate::finding::Evidence;

use super::process::ProcessStart;
use super::{Detection, RuleInfo};

/// Where and when a record that rules matched was: what each of its
/// detections shares.
pub(super) struct Placed {
    pub(super) time: Timestamp,
    pub(super) host: String,
    pub(super) site: Option<String>,
    pub(super) app_pool: Option<String>,
    pub(super) evidence: Evidence,
    pub(super) process: Option<ProcessStart>,
}

impl Placed {
    /// The detection of `rule` on the record `view` holds, with the values
    /// of the fields the rule reads.
    pub(super) fn detection(
        &self,
        rule: &Arc<RuleInfo>,
        tested: Option<&faultline_hunt::Rule>,
        view: &View,
    ) -> Detection {
        // The values the record gives, or of them and the forms made of
        // them (`path?query`, decoded) those the rule's tests pass: a
        // traversal in the path shows the path and query, not the query
        // it matched with. When the record gives none for any field the
        // rule reads (a query rule on a request without a query), the first
        // form the rule read each in.
        let given = |f: &String| {
            let mut values = passing(tested, f, view.given(f));
            if values.is_empty() {
                // One form: the decoded one repeats the raw one's finding.
                values = passing(tested, f, view.values(f));
                values.truncate(1);
            }
            // A field a selection tests whose test did not pass (the rule
            // matched another of its alternatives) is not shown as matched;
            // one only a filter reads is shown for what the rule read.
            if values.is_empty() && !tested.is_some_and(|r| r.tests_field_positively(f)) {
                values = view.given_values(f).collect();
            }
            values.into_iter().map(|v| (rule.shown_name(f), matched_value(v))).collect::<Vec<_>>()
        };
        let mut matched: Vec<(String, String)> = rule.fields.iter().flat_map(given).collect();
        matched.dedup();
        if matched.is_empty() {
            matched = rule
                .fields
                .iter()
                .filter_map(|f| view.values(f).next().map(|(v, _)| (rule.shown_name(f), matched_value(v))))
                .collect();
        }
        // A keyword search names no field: the values a keyword is in, as
        // written, else in a form rules also read (a decoded query).
        if let Some(r) = tested {
            let mut found = r.keyword_values(view.all_values(false));
            if found.is_empty() {
                found = r.keyword_values(view.all_values(true));
            }
            for (f, v) in found {
                let pair = (f.to_string(), matched_value(v));
                if !matched.contains(&pair) {
                    matched.push(pair);
                }
            }
        }
        Detection {
            site: self.site.clone(),
            app_pool: self.app_pool.clone(),
            matched,
            process: self.process.clone(),
            ..Detection::new(rule, &self.host, self.time, self.evidence.clone())
        }
    }
}

/// Of `values` of `field` (as written, lower-cased), those `tested`'s
/// tests pass, as written.
pub(super) fn passing<'v>(
    tested: Option<&faultline_hunt::Rule>,
    field: &str,
    values: impl Iterator<Item = (&'v str, &'v str)>,
) -> Vec<&'v str> {
    values.filter(|v| tested.is_some_and(|r| r.tests_value(field, *v))).map(|(raw, _)| raw).collect()
}

/// What to append to a request's summary `line`: the values the reported
/// rules matched in fields it does not show (the user agent, the referer),
/// each once.
pub(super) fn matched_suffix(line: &str, shown: &[(&str, &str)]) -> String {
    const SHOWN: [&str; 5] = ["cs-method", "cs-uri-stem", "cs-uri-query", "sc-status", "c-ip"];
    let mut added: Vec<&str> = Vec::new();
    let mut suffix = String::new();
    for &(field, value) in shown {
        if SHOWN.contains(&field) || added.contains(&field) || value.is_empty() || line.contains(value) {
            continue;
        }
        added.push(field);
        suffix.push_str(&format!("; {field}={}", crate::describe::cut_to(value, 200)));
    }
    suffix
}

/// The longest value a detection shows as matched, in bytes: past it the
/// value is cut, and `…` ends it (a 4 MB query shown whole in each of its
/// detections made a hunt's JSON 500 MB, and its memory grew with it).
pub(super) const MATCHED_VALUE: usize = 4096;

/// `value` as a detection shows it: cut past [`MATCHED_VALUE`] bytes.
pub(super) fn matched_value(value: &str) -> String {
    crate::describe::cut_to(value, MATCHED_VALUE)
}
