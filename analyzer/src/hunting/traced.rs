//! Requests the access log may not hold, read by the web rules: a FREB
//! trace's, the one an ASP.NET error event names. Each is shown unless
//! the log shows the same request, matched by the same rule.

use faultline_parser::{Timestamp, Trace, WinEvent};

use crate::finding::Evidence;

use super::matched::Placed;
use super::{Detection, HuntSink, rule_identity};

/// A web rule's detection on a traced request.
#[derive(Debug)]
pub(super) struct Traced {
    pub(super) detection: Detection,
    /// The second the request ended.
    pub(super) end: i64,
    pub(super) client: Option<std::net::IpAddr>,
}

/// A web rule's detection on an access-log row, as [`traced_only`] reads
/// it: the rule (by identity), host, second and client.
#[derive(Debug)]
pub(super) struct Requested {
    pub(super) rule: usize,
    pub(super) host: String,
    pub(super) second: i64,
    pub(super) client: Option<std::net::IpAddr>,
}

/// The traced requests' detections the access log does not show already:
/// a request logged and traced matches one rule in both, and is shown once,
/// from the log (the same rule on the same host between the trace's start
/// and its end, a second either side, from the same client when both name
/// theirs).
pub(super) fn traced_only(logged: &[Requested], traced: Vec<Traced>) -> Vec<Detection> {
    let mut by_rule: hashbrown::HashMap<(usize, &str), Vec<&Requested>> = hashbrown::HashMap::new();
    for r in logged {
        by_rule.entry((r.rule, r.host.as_str())).or_default().push(r);
    }
    traced
        .into_iter()
        .filter(|t| {
            let start = t.detection.time.seconds();
            let seen = by_rule.get(&(rule_identity(&t.detection.rule), t.detection.host.as_str()));
            let same = |r: &&Requested| {
                r.second >= start - 1
                    && r.second <= t.end + 1
                    && (r.client.is_none() || t.client.is_none() || r.client == t.client)
            };
            !seen.is_some_and(|s| s.iter().any(same))
        })
        .map(|t| t.detection)
        .collect()
}

impl HuntSink<'_> {
    /// The web rules over a traced request: the fields a FREB trace holds
    /// (verb, URL, status, client, user, and the agent, referer, host and
    /// cookie of its request headers). Silent rules are left out: the access
    /// log's rows feed the correlations, and a request both logged and traced
    /// would count twice.
    pub(super) fn traced_request(&mut self, t: &Trace) {
        // An error page is a response read as a trace, timed by its file's
        // modification time: no request a rule could place.
        if !self.hunt.engine.wants_web() || t.summary.time_of_file {
            return;
        }
        let Some(url) = t.url.as_deref() else { return };
        let (authority, stem, query) = crate::correlate::url_parts(url);
        // The address as traced, without the port the summary joins to it
        // (which an IPv6 address cannot be told from).
        let client = t
            .events
            .iter()
            .find(|e| e.name.as_deref() == Some("GENERAL_ENDPOINT_INFORMATION"))
            .and_then(|e| e.data("RemoteAddress"))
            .map(|a| a.trim().trim_start_matches('[').trim_end_matches(']'));
        let client_ip = client.and_then(|c| c.parse::<std::net::IpAddr>().ok());
        let headers = t.events.iter().find(|e| e.name.as_deref() == Some("GENERAL_REQUEST_HEADERS"));
        let header = |name: &str| {
            headers.and_then(|e| e.data("Headers")).and_then(|h| {
                h.lines().find_map(|l| {
                    let (n, v) = l.split_once(':')?;
                    n.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_string())
                })
            })
        };
        // As for a logged row, an allowed scanner behind a proxy is the
        // client its X-Forwarded-For names.
        let forwarded = client_ip
            .zip(header("X-Forwarded-For"))
            .and_then(|(peer, xff)| self.hunt.forwarded_from(peer, xff.as_bytes()));
        if self.hunt.allowed(forwarded.or(client_ip)) {
            return;
        }
        let client_ip = client_ip.map(|ip| ip.to_canonical());
        // As IIS logs an agent, `+` for a space: the view gives both forms.
        let agent = header("User-Agent").map(|a| a.replace(' ', "+"));
        let (referer, host, cookie) = (header("Referer"), header("Host"), header("Cookie"));
        let status = t.status.map(|s| s.to_string());
        let substatus = t.substatus.map(|s| s.to_string());
        let user = t.user_name.as_deref().filter(|u| !u.is_empty());
        let row = faultline_hunt::record::WebRow {
            method: t.verb.as_deref(),
            stem: Some(stem),
            query,
            user_agent: agent.as_deref(),
            referer: referer.as_deref(),
            host: host.as_deref().or_else(|| Some(authority).filter(|a| !a.is_empty())),
            username: user,
            cookie: cookie.as_deref(),
            client_ip: client,
            status: status.as_deref(),
            substatus: substatus.as_deref(),
            ..faultline_hunt::record::WebRow::default()
        };
        if !self.reported_hits(&row) {
            return;
        }
        let host = self.resolve.host_of(t.computer.as_deref());
        let (Some(start), Some(time)) = (t.time(), t.time().and_then(|at| self.resolve.time(&host, at)))
        else {
            self.hits.clear();
            return;
        };
        let taken = t.time_taken_ms.map_or(0, |ms| i64::try_from(ms / 1_000).unwrap_or(i64::MAX));
        let ended =
            t.summary.end.map_or_else(|| start.seconds(), Timestamp::seconds).max(start.seconds() + taken);
        let end = time.seconds().saturating_add(ended - start.seconds());
        let line = t
            .events
            .iter()
            .find(|e| e.name.as_deref() == Some("GENERAL_REQUEST_START"))
            .or_else(|| t.events.first())
            .map_or(1, |e| e.line);
        let summary = crate::describe::cut_line(format!(
            "traced {} {url} {} from {}",
            t.verb.as_deref().unwrap_or("-"),
            t.status.map_or_else(|| "-".to_string(), |s| s.to_string()),
            client.unwrap_or("-"),
        ));
        let placed = Placed {
            time,
            host: host.name.to_string(),
            site: self.resolve.site(t.site_id).map(|s| s.to_string()),
            app_pool: t.app_pool.clone(),
            evidence: Evidence::in_file(self.resolve.file(), (Some(line), None), time, summary),
            process: None,
        };
        self.trace_hits(&placed, end, client_ip);
    }

    /// The request an ASP.NET error event names (1309: its URL, path and
    /// client), read by the web rules as a traced request's: shown unless
    /// the access log shows the same request (an App Service download
    /// often holds the event log alone, and a probe that threw is there).
    pub(super) fn event_request(&mut self, e: &WinEvent) {
        use faultline_parser::winevent::Family;
        if !self.hunt.engine.wants_web() || (e.family(), e.event_id) != (Family::AspNet, 1309) {
            return;
        }
        let web = crate::exception::WebEvent::of(e);
        let Some(url) = web.url else { return };
        let (authority, stem, query) = crate::correlate::url_parts(url);
        let client_ip = web.client.and_then(|c| c.parse::<std::net::IpAddr>().ok());
        if self.hunt.allowed(client_ip) {
            return;
        }
        let row = faultline_hunt::record::WebRow {
            stem: Some(web.path.unwrap_or(stem)),
            query,
            host: Some(authority).filter(|a| !a.is_empty()),
            client_ip: web.client,
            ..faultline_hunt::record::WebRow::default()
        };
        if !self.reported_hits(&row) {
            return;
        }
        let host = self.resolve.host_of(e.computer.as_deref());
        let Some(time) = self.resolve.time(&host, e.time) else {
            self.hits.clear();
            return;
        };
        let summary =
            crate::describe::cut_line(format!("ASP.NET 1309: {url} from {}", web.client.unwrap_or("-")));
        let placed = Placed {
            time,
            host: host.name.to_string(),
            site: e.metabase_site().map(|s| s.to_string()),
            app_pool: e.app_pool().map(str::to_string),
            evidence: Evidence::in_file(self.resolve.file(), (e.origin.line(), e.record_id), time, summary),
            process: None,
        };
        self.trace_hits(&placed, time.seconds(), client_ip.map(|ip| ip.to_canonical()));
    }

    /// Reads a request not in an access log (a trace's, an error event's)
    /// with the web rules: whether a rule that reports matched it (its
    /// hits then wait in `hits`).
    pub(super) fn reported_hits(&mut self, row: &faultline_hunt::record::WebRow<'_>) -> bool {
        self.view.web(row);
        self.hunt.engine.matches_with(&mut self.view, &mut self.needles, &mut self.hits);
        let rules = &self.hunt.rules;
        self.hits.retain(|&i| !rules[i].silent);
        !self.hits.is_empty()
    }

    /// Keeps the hits [`HuntSink::reported_hits`] left, placed, as
    /// detections shown unless the access log shows the same request.
    pub(super) fn trace_hits(&mut self, placed: &Placed, end: i64, client: Option<std::net::IpAddr>) {
        for i in self.hits.drain(..) {
            let detection =
                placed.detection(&self.hunt.rules[i], self.hunt.engine.rules().get(i), &self.view);
            self.pending.traced.push(Traced { detection, end, client });
        }
    }
}
