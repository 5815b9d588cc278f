//! The lens as the read's sink: every access-log row, HTTP.sys row, FREB
//! trace and Windows event of a file goes through the rules as it is read,
//! and each hit is placed on its host and time as a detection (or, for a
//! silent rule, kept as little as its correlations read).

use std::convert::Infallible;
use std::sync::Arc;

use faultline_hunt::Level;
use faultline_parser::{
    CountedEvents, Diagnostic, EventObserver, HttpError, RecordId, RecordSink, Request, Timestamp, Trace,
    WinEvent,
};

use crate::finding::Evidence;

use super::keys::{host_key, row_key};
use super::matched::{Placed, matched_suffix, passing};
use super::process::{ProcessStart, what_ran};
use super::quiet::{Quiet, Quiets, offset};
use super::traced::Requested;
use super::{Detection, HuntSink, RuleInfo, modules, pools, rule_identity};

/// A record's one-line summary, given the (field, value) pairs the
/// reported rules matched, to show where the line would not.
pub(super) type Summary<'a> = dyn Fn(&[(&str, &str)]) -> String + 'a;

/// A logged value as text (none: empty).
pub(super) fn text(v: Option<&[u8]>) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(v.unwrap_or_default())
}

impl RecordSink for HuntSink<'_> {
    type Error = Infallible;

    fn request(&mut self, r: &Request<'_>) -> Result<(), Infallible> {
        if let Some(command) = self.resolve.file().ftp_command(r) {
            self.ftp_command(r, command);
            return Ok(());
        }
        self.note_logged(r);
        // Rows timed in doubt are rare: their host is resolved only then.
        use faultline_parser::w3c::TimeBasis;
        if matches!(r.time_basis, TimeBasis::LocalAssumedUtc | TimeBasis::DateOnly) {
            self.resolve.host(r.computer_name).note_time_basis(r.time_basis, &mut self.time_doubts);
        }
        if !self.hunt.engine.wants_web() || self.hunt.allows_request(r) {
            return Ok(());
        }
        self.untimed_row = r.time_basis == TimeBasis::DateOnly;
        // A cleared row is read through the smaller view, until its hits
        // are placed.
        let mut light = None;
        if self.hunt.engine.may_match(r, &mut self.screening) {
            if self.screening.cleared()
                && let Some(view) = self.cleared_view.take()
            {
                light = Some(std::mem::replace(&mut self.view, view));
            }
            self.view.request_via(r, self.hunt.forwarded(r));
            self.hunt.engine.matches_screened(
                &mut self.view,
                &mut self.needles,
                &mut self.hits,
                &self.screening,
            );
        }
        // Written into one string by hand: a hit on a correlation's base
        // rule, a 404, comes once per row of a storm, and a string per part
        // and the formatting machinery both showed in its profiles.
        let summary = |shown: &[(&str, &str)]| {
            use faultline_parser::value::{Addr, decimal};
            let mut line = String::with_capacity(96);
            line.push_str(&text(r.method));
            line.push(' ');
            line.push_str(&text(r.uri_stem));
            let query = r.uri_query.filter(|q| *q != b"-").map(String::from_utf8_lossy);
            let at_query = line.len();
            if let Some(q) = &query {
                line.push('?');
                line.push_str(q);
            }
            line.push(' ');
            match r.status {
                Some(status) => line.push_str(decimal(status.into(), &mut [0; 20])),
                None => line.push('-'),
            }
            line.push_str(" from ");
            match (self.hunt.forwarded(r), r.client_ip) {
                (Some(client), Some(proxy)) => {
                    Addr::Ip { ip: client, zone: None }.with_text(|t| line.push_str(t));
                    line.push_str(" via ");
                    proxy.with_text(|t| line.push_str(t));
                }
                (_, Some(a)) => a.with_text(|t| line.push_str(t)),
                (_, None) => line.push('-'),
            }
            let extra = matched_suffix(&line, shown);
            // A long query gives way to what the rules matched elsewhere,
            // which the line's cut would otherwise drop.
            if let Some(q) = query.filter(|_| line.len() + extra.len() > crate::describe::EVENT_TEXT) {
                let kept = line.len() - q.len() + extra.len() + '…'.len_utf8();
                let room = crate::describe::EVENT_TEXT.saturating_sub(kept).max(40);
                line.replace_range(at_query + 1..at_query + 1 + q.len(), &crate::describe::cut_to(&q, room));
            }
            line.push_str(&extra);
            crate::describe::cut_line(line)
        };
        self.note_web_login(r);
        let rejected =
            self.hunt.natives.as_ref().is_some_and(|n| n.web_rejected.iter().any(|i| self.hits.contains(i)));
        if !self.hits.is_empty() {
            let site = self.resolve.site_named(r.site_name);
            let before = self.found.len();
            self.record(r.computer_name, r.time, site, None, (Some(r.origin.line), None), None, &summary);
            // What a traced request's detections are compared with.
            let client = r.client_ip.and_then(|a| a.ip()).map(|ip| ip.to_canonical());
            // Once per row shown: its folder's pool is found after the read.
            if let Some(d) = self.found.get(before)
                && let Some(stem) = r.uri_stem
                && let Some(folder) = pools::folder(&String::from_utf8_lossy(stem))
            {
                self.pending.web_paths.push((row_key(&d.evidence.path, r.origin.line), folder.into()));
            }
            for d in &self.found[before..] {
                self.pending.logged_requests.push(Requested {
                    rule: rule_identity(&d.rule),
                    host: d.host.clone(),
                    second: d.time.seconds(),
                    client,
                });
            }
            if r.status == Some(200)
                && self.found[before..].iter().any(|d| d.rule.meta.level >= Level::Medium)
            {
                self.note_answered(r);
            }
        }
        // A login form answering a failed login with its page again
        // (WordPress's) answered no shell's command.
        if !rejected {
            self.note_script(r, &|| summary(&[]));
        }
        if let Some(full) = light {
            self.cleared_view = Some(std::mem::replace(&mut self.view, full));
        }
        self.untimed_row = false;
        Ok(())
    }

    fn http_error(&mut self, r: &HttpError<'_>) -> Result<(), Infallible> {
        self.note_pool(r.site_id, None, r.queue_name, r.uri);
        if !self.hunt.engine.wants_web() || self.hunt.allowed(r.client_ip.and_then(|a| a.ip())) {
            return Ok(());
        }
        self.view.http_error(r);
        self.hunt.engine.matches_with(&mut self.view, &mut self.needles, &mut self.hits);
        let site = self.resolve.site(r.site_id);
        let pool = r.queue_name.map(|q| String::from_utf8_lossy(q).into_owned());
        let summary = |shown: &[(&str, &str)]| {
            let mut line = format!(
                "HTTP.sys {} {} {} from {}",
                text(r.method),
                text(r.uri),
                r.status.map_or_else(|| "-".to_string(), |s| s.to_string()),
                r.client_ip.map_or_else(|| "-".to_string(), |a| a.to_string()),
            );
            let reason = r.reason.as_bytes();
            if !reason.is_empty() && reason != b"-" {
                line.push_str(&format!(" ({})", String::from_utf8_lossy(reason)));
            }
            line.push_str(&matched_suffix(&line, shown));
            crate::describe::cut_line(line)
        };
        self.record(None, r.time, site, pool.as_deref(), (Some(r.origin.line), None), None, &summary);
        Ok(())
    }

    fn trace(&mut self, t: &Trace) -> Result<(), Infallible> {
        self.traced_request(t);
        if let (Some(url), Some(pool)) = (&t.url, &t.app_pool) {
            self.note_pool(t.site_id, t.computer.as_deref(), Some(pool.as_bytes()), Some(url.as_bytes()));
        }
        let Some(natives) = &self.hunt.natives else { return Ok(()) };
        let unknown = modules::unknown_modules(t);
        if unknown.is_empty() {
            return Ok(());
        }
        let host = self.resolve.host_of(t.computer.as_deref());
        let Some(time) = t.time().and_then(|time| self.resolve.time(&host, time)) else { return Ok(()) };
        let file = self.resolve.file();
        let request = format!(
            "{} {} {}",
            t.verb.as_deref().unwrap_or("-"),
            t.url.as_deref().unwrap_or("-"),
            t.status.map_or_else(|| "-".to_string(), |s| s.to_string())
        );
        for u in unknown {
            let rule = if u.native { &natives.native_module } else { &natives.unknown_module };
            let kind = if u.native { "native module" } else { "module" };
            let summary = crate::describe::cut_line(format!("{kind} {} ran for {request}", u.name));
            let evidence = Evidence::in_file(file, (Some(u.line), None), time, summary);
            let mut key = host_key(&host.name, u.name.as_bytes(), &mut self.key);
            key ^= u64::from(u.native);
            self.pending.modules.add(
                key,
                Detection {
                    site: self.resolve.site(t.site_id).map(|s| s.to_string()),
                    app_pool: t.app_pool.clone(),
                    matched: vec![("ModuleName".into(), u.name.to_string())],
                    ..Detection::new(rule, &host.name, time, evidence)
                },
                1,
            );
        }
        Ok(())
    }

    fn event(&mut self, e: WinEvent) -> Result<(), Infallible> {
        self.observe_event(&e);
        Ok(())
    }

    fn counted_events(&mut self, _k: CountedEvents<'_>) -> Result<(), Infallible> {
        Ok(())
    }

    fn diagnostic(&mut self, _d: Diagnostic) {}

    fn access_log_text(&mut self, text: &[u8], offset: u64) {
        self.hunt.engine.mark_lines(text, offset, &mut self.screening);
    }
}

/// Beside the analysis, the hunt only looks at each event.
impl EventObserver for HuntSink<'_> {
    fn observe_event(&mut self, e: &WinEvent) {
        // Rules would read its missing data as absent values (a filter on
        // a service's path passes when there is no path).
        if e.data_unread {
            return;
        }
        self.note_switch(e);
        self.note_process(e);
        self.note_remote_thread(e);
        self.note_lineage(e);
        self.note_worker_pool(e);
        self.note_log_service(e);
        self.note_clock(e);
        self.event_request(e);
        if !self.hunt.engine.wants_events() {
            return;
        }
        self.view.event(e);
        self.hunt.engine.matches_with(&mut self.view, &mut self.needles, &mut self.hits);
        if self.hits.is_empty() {
            return;
        }
        let line = e.origin.line();
        let pool = e.app_pool();
        if pool.is_none() {
            self.note_worker_event(e, (line, e.record_id));
        }
        let process = ProcessStart::of(e);
        // A process start shows what ran, as whom and from what before its
        // file's metadata, which would push the command line past the cut.
        let started = process.is_some();
        // What the rules matched first (the line may be cut), then what ran.
        // ASP.NET's web events give their fields unnamed: their headline
        // reads them, where the matched values would be a list of them;
        // what a rule matched that it does not show follows it (a value it
        // shows cut is shown).
        let web_event = e.family() == faultline_parser::winevent::Family::AspNet;
        let summary = |shown: &[(&str, &str)]| match shown {
            _ if web_event => {
                let line = crate::describe::headline(e);
                // A value the headline shows cut (a view state) is shown:
                // its start is there.
                let shown_start = |v: &str| line.contains(&v.chars().take(20).collect::<String>());
                let hidden: Vec<(&str, &str)> =
                    shown.iter().filter(|(_, v)| !shown_start(v)).copied().collect();
                let suffix = matched_suffix(&line, &hidden);
                crate::describe::cut_line(line + &suffix)
            }
            [] if !started => crate::describe::headline(e),
            _ => crate::describe::describe_event_ranked(e, &|name| {
                if shown.iter().any(|(f, _)| f.eq_ignore_ascii_case(name)) {
                    0
                } else if started && what_ran(name) {
                    1
                } else {
                    2
                }
            }),
        };
        self.record(
            e.computer.as_deref().map(str::as_bytes),
            e.time,
            e.metabase_site(),
            pool,
            (line, e.record_id),
            process,
            &summary,
        );
    }
}

impl HuntSink<'_> {
    /// A row of IIS's FTP log (its `command`), read by the rules over FTP
    /// alone: its reply is no HTTP status and its path no URL, and the
    /// web's native detectors (logging gaps, scripts never requested) are
    /// about the web site's log.
    pub(super) fn ftp_command(&mut self, r: &Request<'_>, command: &[u8]) {
        if !self.hunt.engine.wants_ftp() || self.hunt.allows_request(r) {
            return;
        }
        self.note_ftp_login(r, command);
        self.view.ftp_request(r, command);
        self.hunt.engine.matches_with(&mut self.view, &mut self.needles, &mut self.hits);
        if self.hits.is_empty() {
            return;
        }
        let summary = |shown: &[(&str, &str)]| {
            let mut line = crate::describe::describe_ftp_command(r, command);
            line.push_str(&matched_suffix(&line, shown));
            crate::describe::cut_line(line)
        };
        let site = self.resolve.site_named(r.site_name);
        self.record(r.computer_name, r.time, site, None, (Some(r.origin.line), None), None, &summary);
    }

    /// A native detector's detection of an access-log row.
    pub(super) fn row_detection(
        &self,
        rule: &Arc<RuleInfo>,
        r: &Request<'_>,
        (host, time): (&str, Timestamp),
        summary: String,
        matched: Vec<(String, String)>,
    ) -> Detection {
        let evidence = Evidence::in_file(self.resolve.file(), (Some(r.origin.line), None), time, summary);
        Detection {
            site: self.resolve.site_named(r.site_name).map(|s| s.to_string()),
            matched,
            ..Detection::new(rule, host, time, evidence)
        }
    }

    #[allow(clippy::too_many_arguments)] // one record's place, all of it needed
    pub(super) fn record(
        &mut self,
        computer: Option<&[u8]>,
        time: Timestamp,
        site: Option<u32>,
        pool: Option<&str>,
        (line, record): (Option<u64>, Option<RecordId>),
        process: Option<ProcessStart>,
        summary: &Summary<'_>,
    ) {
        if self.hits.is_empty() {
            return;
        }
        let host = self.resolve.host(computer);
        let Some(time) = self.resolve.time(&host, time) else {
            self.hits.clear();
            return;
        };
        // What the reported rules matched, for the summary to show first
        // (a Sysmon event's data runs past the line before its ParentImage;
        // of an event's unnamed values, the one a rule's tests pass, else
        // all a field gives).
        let (view, engine) = (&self.view, self.hunt.engine.rules());
        let mut shown: Vec<(&str, &str)> = Vec::new();
        for &i in self.hits.iter().filter(|&&i| !self.hunt.rules[i].silent) {
            for f in &self.hunt.rules[i].fields {
                let mut values = passing(engine.get(i), f, view.given(f));
                if values.is_empty() {
                    values = view.given_values(f).collect();
                }
                shown.extend(values.into_iter().map(|v| (f.as_str(), v)));
            }
        }
        let summary = summary(&shown);
        drop(shown);
        let file = self.resolve.file();
        // Silent rules' matches first, each as little as the correlations
        // read; the evidence is made once the rest need it.
        let mut shown = 0;
        // One summary for the row however many silent rules it matched (a
        // 404 to a login page feeds the scanner and the guessing alike).
        let mut kept: Option<std::ops::Range<usize>> = None;
        for n in 0..self.hits.len() {
            let i = self.hits[n];
            let rule = &self.hunt.rules[i];
            if !rule.silent {
                self.hits[shown] = i;
                shown += 1;
                continue;
            }
            // A silent rule's match is only ever counted within a
            // correlation's minutes, which a row without a time of day
            // cannot be placed in.
            if self.untimed_row {
                continue;
            }
            if let Some(full) = self.quiets.take_if(|q| q.full()) {
                self.pending.quiet.push(full);
                kept = None;
            }
            let quiets = self.quiets.get_or_insert_with(|| Quiets {
                source: file.kind,
                path: Arc::clone(&file.path),
                text: String::new(),
                values: Vec::new(),
                matches: Vec::new(),
                rules: Arc::clone(&self.hunt.rules),
                hosts: Vec::new(),
                pools: Vec::new(),
            });
            let said = kept
                .get_or_insert_with(|| {
                    let at = quiets.text.len();
                    quiets.text.push_str(&summary);
                    at..quiets.text.len()
                })
                .clone();
            let at = said.start;
            // A value the summary holds (the path, the client of a 404) is
            // read there: a storm of 404s kept each twice.
            let first = offset(quiets.values.len());
            for (f, name) in rule.fields.iter().enumerate() {
                for (v, _) in self.view.values(name) {
                    let found = memchr::memmem::find(quiets.text[said.clone()].as_bytes(), v.as_bytes());
                    let start = match found {
                        Some(p) => at + p,
                        None => {
                            quiets.text.push_str(v);
                            quiets.text.len() - v.len()
                        }
                    };
                    quiets.values.push((offset(f), offset(start)..offset(start + v.len())));
                }
            }
            let host = Quiets::named(&mut quiets.hosts, &host.name);
            let pool = pool.map_or(Quiet::NONE, |p| Quiets::named(&mut quiets.pools, p));
            quiets.matches.push(Quiet {
                rule: offset(i),
                host,
                site: site.unwrap_or(Quiet::NONE),
                pool,
                time,
                line: line.unwrap_or(Quiet::NO_PLACE),
                record: record.map_or(Quiet::NO_PLACE, RecordId::key),
                summary: offset(said.start)..offset(said.end),
                values: first..offset(quiets.values.len()),
            });
        }
        self.hits.truncate(shown);
        if self.hits.is_empty() {
            return;
        }
        let placed = Placed {
            time,
            host: host.name.to_string(),
            site: site.map(|s| s.to_string()),
            app_pool: pool.map(str::to_string),
            evidence: Evidence::in_file(file, (line, record), time, summary),
            process,
        };
        for i in self.hits.drain(..) {
            self.found.push(placed.detection(
                &self.hunt.rules[i],
                self.hunt.engine.rules().get(i),
                &self.view,
            ));
        }
    }
}
