//! The security lens over the one read: every W3C row, HTTP.sys row and
//! Windows event goes through the rules of a [`faultline_hunt::Engine`]
//! while the file is read, placed on its host and time like any record,
//! and each hit becomes a [`Detection`] citing its file and line or record.
//! Detections are a list of their own, never findings: the root cause of an
//! outage stays first and a healthy day stays quiet.

use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::Arc;

use rayon::prelude::*;

use faultline_hunt::correlation::{Correlation, Fired, Matched as _};
use faultline_hunt::engine::Found;
use faultline_hunt::pattern::in_network;
use faultline_hunt::rule::{Meta, Target};
use faultline_hunt::screen::Screening;
use faultline_hunt::{Engine, Level, LoadReport, Rule, View};
use faultline_parser::{
    CountedEvents, Diagnostic, Entry, EventObserver, HttpError, Outcome, ReadConfig, RecordId, RecordSink,
    Request, Timestamp, Trace, WinEvent,
};
use serde::Serialize;

mod catch_all;
mod keys;
mod logins;
use keys::{SCRIPT_KEYS, client_key, host_key, row_key};
use logins::{FTP_GUESSING, Login, WebLogins, guessed_logins};
mod modules;
mod natives;
use natives::{Firsts, Natives, POST_ONLY_CLIENTS, POST_ONLY_USERS, note_poster};
mod pools;
mod process;
mod quiet;
use process::{ProcessStart, fold_double_logged, what_ran};
use quiet::{Member, Quiet, QuietMatch, Quiets, offset};

use crate::finding::Evidence;
use crate::pass::{self, Consumer, Progress};
use crate::resolve::{Resolver, SourceFile};
use crate::scope::Scope;

/// What a detection says about its rule (the Detection Rule License asks
/// that a hit from a SigmaHQ rule show its author).
#[derive(Clone, Debug, Serialize)]
pub struct RuleInfo {
    /// The rule's own metadata.
    #[serde(flatten)]
    pub meta: Meta,
    /// The fields its searches read, those correlations over it group or
    /// count by, and its `fields` list when correlations read it
    /// (lower-case); of a silent rule, only the latter two.
    #[serde(skip)]
    fields: Vec<String>,
    /// Its index among the loaded rules (correlations after the rules).
    #[serde(skip)]
    index: usize,
    /// Its matches only feed correlations, none of which reports them
    /// (`generate`): they are never shown (a 404 feeding the scanner
    /// burst), so they keep only what the correlations read.
    #[serde(skip)]
    silent: bool,
    /// Of a rule correlations read, its `fields` list (as spelled, and
    /// lower-case): values kept with each match for the correlations'
    /// summaries to count (the accounts a password guess tried).
    #[serde(skip)]
    interest: Vec<(String, String)>,
    /// The fields it reads as the rule spells them (`ImagePath`), by their
    /// lower-case names, for what a detection shows as matched.
    #[serde(skip)]
    spelled: BTreeMap<String, String>,
}

impl RuleInfo {
    fn of(index: usize, rule: &Rule, correlations: &[Correlation]) -> RuleInfo {
        let over: Vec<&Correlation> = correlations.iter().filter(|c| c.rules.contains(&index)).collect();
        let silent = !over.is_empty() && over.iter().all(|c| !c.generate);
        let correlated = !over.is_empty();
        let mut fields: BTreeSet<String> =
            if silent { BTreeSet::new() } else { rule.fields().map(str::to_string).collect() };
        for c in over {
            fields.extend(c.fields().map(str::to_string));
        }
        let interest: Vec<(String, String)> = if !correlated {
            Vec::new()
        } else {
            rule.fields_of_interest.iter().map(|f| (f.clone(), f.to_ascii_lowercase())).collect()
        };
        fields.extend(interest.iter().map(|(_, lower)| lower.clone()));
        let mut spelled = BTreeMap::new();
        for (lower, written) in rule.spellings().chain(interest.iter().map(|(w, l)| (l.as_str(), w.as_str())))
        {
            spelled.entry(lower.to_string()).or_insert_with(|| written.to_string());
        }
        RuleInfo {
            meta: rule.meta.clone(),
            fields: fields.into_iter().collect(),
            index,
            silent,
            interest,
            spelled,
        }
    }

    /// A field as the rule spells it, else as read (lower-case).
    fn shown_name(&self, field: &str) -> String {
        self.spelled.get(field).cloned().unwrap_or_else(|| field.to_string())
    }
}

/// One rule matching one record.
#[derive(Clone, Debug, Serialize)]
pub struct Detection {
    /// The rule.
    pub rule: Arc<RuleInfo>,
    /// When (UTC, the host's skew applied).
    pub time: Timestamp,
    /// When the last of the records it stands for was, for a detection of
    /// many (a correlation's window, a native detector's repeats); absent
    /// for one record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<Timestamp>,
    /// The host.
    pub host: String,
    /// The IIS site id, when the record names one.
    pub site: Option<String>,
    /// The app pool, when the record names one.
    pub app_pool: Option<String>,
    /// The record.
    pub evidence: Evidence,
    /// The record's values of the fields the rule reads.
    pub matched: Vec<(String, String)>,
    /// The rule's own level, where this detection's was lowered (a probe a
    /// site answering every path answered 200: see `catch_all`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lowered_from: Option<Level>,
    /// The process start its event logs, to find the same start logged by
    /// both Sysmon and Security auditing.
    #[serde(skip)]
    process: Option<ProcessStart>,
}

/// Where and when a record that rules matched was: what each of its
/// detections shares.
struct Placed {
    time: Timestamp,
    host: String,
    site: Option<String>,
    app_pool: Option<String>,
    evidence: Evidence,
    process: Option<ProcessStart>,
}

impl Placed {
    /// The detection of `rule` on the record `view` holds, with the values
    /// of the fields the rule reads.
    fn detection(
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
            if values.is_empty() {
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
            rule: Arc::clone(rule),
            time: self.time,
            end: None,
            host: self.host.clone(),
            site: self.site.clone(),
            app_pool: self.app_pool.clone(),
            evidence: self.evidence.clone(),
            matched,
            lowered_from: None,
            process: self.process.clone(),
        }
    }
}

/// Of `values` of `field` (as written, lower-cased), those `tested`'s
/// tests pass, as written.
fn passing<'v>(
    tested: Option<&faultline_hunt::Rule>,
    field: &str,
    values: impl Iterator<Item = (&'v str, &'v str)>,
) -> Vec<&'v str> {
    values.filter(|v| tested.is_some_and(|r| r.tests_value(field, *v))).map(|(raw, _)| raw).collect()
}

/// A record's one-line summary, given the (field, value) pairs the
/// reported rules matched, to show where the line would not.
type Summary<'a> = dyn Fn(&[(&str, &str)]) -> String + 'a;

/// A logged value as text (none: empty).
fn text(v: Option<&[u8]>) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(v.unwrap_or_default())
}

/// What to append to a request's summary `line`: the values the reported
/// rules matched in fields it does not show (the user agent, the referer),
/// each once.
fn matched_suffix(line: &str, shown: &[(&str, &str)]) -> String {
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
const MATCHED_VALUE: usize = 4096;

/// `value` as a detection shows it: cut past [`MATCHED_VALUE`] bytes.
fn matched_value(value: &str) -> String {
    crate::describe::cut_to(value, MATCHED_VALUE)
}

/// The order of [`sort`] over both kinds of match: time, then file, line,
/// record and rule.
type OrderKey<'a> = (Timestamp, &'a str, Option<u64>, Option<RecordId>, &'a str);

impl Detection {
    fn key(&self) -> OrderKey<'_> {
        (self.time, &self.evidence.path, self.evidence.line, self.evidence.record, &self.rule.meta.id)
    }
}

/// The rules of a hunt, ready to go through a read.
#[derive(Debug)]
pub struct Hunt {
    engine: Engine,
    rules: Arc<[Arc<RuleInfo>]>,
    correlations: Vec<(Correlation, Arc<RuleInfo>)>,
    /// Clients whose requests are never detections (an authorised scanner).
    allowed: Vec<(std::net::IpAddr, u8)>,
    /// The proxies in front of IIS, when the analyst names them.
    proxies: Vec<(std::net::IpAddr, u8)>,
    /// The native detectors, on with the bundled pack.
    natives: Option<Natives>,
}

/// What the native detectors need from the whole read, per host (hashed):
/// scripts asked for with POST and answered 200, and the paths asked for
/// with GET (a script that only ever takes POSTs and answers is how a
/// dropped web shell looks from the access log); unknown pipeline modules
/// by host and name; the minutes each host logged requests in, and the
/// changes that switched its logging off.
#[derive(Debug, Default)]
pub struct Pending {
    gets: hashbrown::HashSet<u64>,
    posts: Firsts,
    /// Per script POSTed, the clients that POSTed to it (a few, up to one
    /// more than [`POST_ONLY_CLIENTS`]).
    post_clients: hashbrown::HashMap<u64, Vec<std::net::IpAddr>>,
    /// Per script POSTed, the signed-in users that POSTed to it (up to one
    /// more than [`POST_ONLY_USERS`]), by the hash of their names.
    post_users: hashbrown::HashMap<u64, Vec<u64>>,
    modules: Firsts,
    logged: BTreeSet<(u64, i64)>,
    switched_off: Vec<(u64, Detection)>,
    quiet: Vec<Quiets>,
    /// Web rules' detections on traced requests: shown unless the access
    /// log shows the same request.
    traced: Vec<Traced>,
    /// Web rules' detections on access-log rows, as traced requests are
    /// compared with them.
    logged_requests: Vec<Requested>,
    /// Per host and process (hashed), the app pool identity a process ran
    /// as (Sysmon 1).
    pool_processes: hashbrown::HashMap<u64, String>,
    /// Processes started as SYSTEM by a program outside the system's own
    /// service hosts, by host and parent process (hashed): escalations if
    /// the parent ran as an app pool identity.
    system_starts: Vec<(u64, Detection)>,
    /// The Windows Event Log service entering the running state, by host
    /// (hashed).
    log_service_starts: Vec<(u64, Detection)>,
    /// Per host and process (hashed, as [`Pending::pool_processes`]), the
    /// process that started it (Sysmon 1).
    process_parents: hashbrown::HashMap<u64, u64>,
    /// Per host and process (hashed), the processes the IIS worker
    /// started, with the worker's app pool where its command line or their
    /// account names it.
    worker_children: hashbrown::HashMap<u64, Option<String>>,
    /// Per host and process (hashed), the shells and tools started (the
    /// bundled shell rule's list), by whatever parent.
    shells: hashbrown::HashSet<u64>,
    /// Script files written by a program other than the worker (Sysmon
    /// 11), the first per host and writing process (hashed) and how many:
    /// a detection if the process descends from the worker through a
    /// shell (see [`worker_shell_of`]).
    script_writes: Firsts,
    /// Passwords the FTP service accepted (PASS answered 230), with their
    /// client: a guessing client's login is the guess that worked.
    ftp_logins: Vec<Login>,
    /// Requests clients got through with on the web site, per chunk: what
    /// [`guessed_logins`] looks in after the site's password guessing.
    web_logins: Vec<WebLogins>,
    /// The clients (see [`client_key`]), minutes (of the record's own
    /// time) and accounts (see [`account_key`], or [`UNNAMED_ACCOUNT`]) in
    /// which the site rejected credentials: given under a user name, IIS's
    /// own authentication, whose guessing a form's redirect does not end,
    /// and whose guessed password, where one account alone was tried, is
    /// that account's.
    rejections: Vec<(u64, i64, u64)>,
    /// The app pools traces and HTTP.sys errors say served each site.
    site_pools: pools::SitePools,
    /// The folder each access-log row a detection cites asked for (see
    /// [`pools::folder`]), by the row's file and line (hashed): its app pool
    /// is found once the whole read has said which pool serves which site.
    web_paths: Vec<(u64, Box<str>)>,
    /// The access-log rows answered 200 that detections of level medium or
    /// above cite: read together, they show a site answering any path.
    answered: Vec<catch_all::Answered>,
    /// Each host's (hashed) boots, in seconds: its kernel's start and the
    /// event log's own note of the boot.
    boots: BTreeSet<(u64, i64)>,
    /// The events that say a host's clock stepped or a machine was renamed
    /// (and the boots and time syncs around them), for the report's notes.
    clock_events: Vec<crate::evidence::EventRow>,
    /// Every file read, in discovery order: what those events cite.
    sources: Vec<SourceFile>,
}

/// The events [`crate::clock::clock_steps`] and [`crate::renames::renames`]
/// read.
const CLOCK_AND_NAME_KINDS: [&[crate::evidence::EventKind]; 5] = {
    use crate::detect::kinds::{BOOT_MARKS, BOOTED, CLOCK_SET, RENAMED, TIME_SERVICE_SET};
    [CLOCK_SET, TIME_SERVICE_SET, BOOT_MARKS, BOOTED, RENAMED]
};

/// A web rule's detection on a traced request.
#[derive(Debug)]
struct Traced {
    detection: Detection,
    /// The second the request ended.
    end: i64,
    client: Option<std::net::IpAddr>,
}

/// A web rule's detection on an access-log row, as [`traced_only`] reads
/// it: the rule (by identity), host, second and client.
#[derive(Debug)]
struct Requested {
    rule: usize,
    host: String,
    second: i64,
    client: Option<std::net::IpAddr>,
}

impl Pending {
    pub(crate) fn absorb(&mut self, other: Pending) {
        self.quiet.extend(other.quiet);
        self.gets.extend(other.gets);
        self.posts.absorb(other.posts);
        for (key, clients) in other.post_clients {
            for ip in clients {
                note_poster(&mut self.post_clients, key, ip, POST_ONLY_CLIENTS);
            }
        }
        for (key, users) in other.post_users {
            for user in users {
                note_poster(&mut self.post_users, key, user, POST_ONLY_USERS);
            }
        }
        self.modules.absorb(other.modules);
        self.logged.extend(other.logged);
        self.switched_off.extend(other.switched_off);
        self.traced.extend(other.traced);
        self.logged_requests.extend(other.logged_requests);
        self.pool_processes.extend(other.pool_processes);
        self.system_starts.extend(other.system_starts);
        self.log_service_starts.extend(other.log_service_starts);
        self.process_parents.extend(other.process_parents);
        self.worker_children.extend(other.worker_children);
        self.shells.extend(other.shells);
        self.script_writes.absorb(other.script_writes);
        self.ftp_logins.extend(other.ftp_logins);
        self.web_logins.extend(other.web_logins);
        self.rejections.extend(other.rejections);
        self.site_pools.absorb(other.site_pools);
        self.web_paths.extend(other.web_paths);
        self.answered.extend(other.answered);
        self.boots.extend(other.boots);
        self.clock_events.extend(other.clock_events);
        self.sources.extend(other.sources);
    }
}

/// Gives the web detections that cite an access-log row the app pool that
/// served the row's site and path, where the read names one alone.
fn place_in_pools(detections: &mut [Detection], site_pools: &pools::SitePools, folders: &[(u64, Box<str>)]) {
    if site_pools.is_empty() || folders.is_empty() {
        return;
    }
    let folders: hashbrown::HashMap<u64, &str> = folders.iter().map(|(k, f)| (*k, &**f)).collect();
    for d in detections.iter_mut().filter(|d| d.app_pool.is_none()) {
        let (Some(site), Some(line)) = (d.site.as_deref().and_then(|s| s.parse().ok()), d.evidence.line)
        else {
            continue;
        };
        let Some(folder) = folders.get(&row_key(&d.evidence.path, line)) else { continue };
        d.app_pool = site_pools.pool(&d.host, site, folder).map(str::to_string);
    }
}

/// What a correlation's members hold in the fields their rules list as
/// worth showing, each field's most frequent values first (`;
/// TargetUserName Administrator 3560 times, JcDfcZTc once`): the first
/// member alone would name whatever came first (one random name among
/// thousands of tries of one account).
fn counted_values<'r>(
    rules: impl Iterator<Item = &'r RuleInfo>,
    matches: &[usize],
    members: &[Member<'_>],
) -> String {
    use faultline_hunt::correlation::Matched as _;
    const NAMED: usize = 3;
    let mut seen: Vec<&str> = Vec::new();
    let mut out = String::new();
    for (shown, lower) in rules.flat_map(|r| r.interest.iter()) {
        if seen.contains(&lower.as_str()) {
            continue;
        }
        seen.push(lower);
        // Counted apart from case (Windows account names and IIS paths
        // are case-blind: `admin` and `ADMIN` are one account tried), and
        // shown as most often written.
        let mut counts: BTreeMap<String, BTreeMap<&str, usize>> = BTreeMap::new();
        for &m in matches {
            if let Some(v) = members[m].written(lower).filter(|v| !v.is_empty() && *v != "-") {
                *counts.entry(v.to_ascii_lowercase()).or_default().entry(v).or_default() += 1;
            }
        }
        let mut ranked: Vec<(&str, usize)> = counts
            .values()
            .filter_map(|spellings| {
                let total = spellings.values().sum();
                let shown = spellings.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))?.0;
                Some((*shown, total))
            })
            .collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        if ranked.is_empty() {
            continue;
        }
        let times = |n: usize| if n == 1 { "once".to_string() } else { format!("{n} times") };
        let named: Vec<String> =
            ranked.iter().take(NAMED).map(|(v, n)| format!("{v} {}", times(*n))).collect();
        let more = match ranked.len().saturating_sub(NAMED) {
            0 => String::new(),
            n => format!(", {n} other value{}", if n == 1 { "" } else { "s" }),
        };
        out.push_str(&format!("; {shown} {}{more}", named.join(", ")));
    }
    out
}

/// A rule's identity: ids may be missing, and titles repeat.
fn rule_identity(rule: &Arc<RuleInfo>) -> usize {
    Arc::as_ptr(rule) as usize
}

/// The traced requests' detections the access log does not show already:
/// a request logged and traced matches one rule in both, and is shown once,
/// from the log (the same rule on the same host between the trace's start
/// and its end, a second either side, from the same client when both name
/// theirs).
fn traced_only(logged: &[Requested], traced: Vec<Traced>) -> Vec<Detection> {
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

/// A native detector's detection of the event `e`, with the values of
/// `fields` it has as what matched.
fn event_detection(
    rule: &Arc<RuleInfo>,
    e: &WinEvent,
    host: &str,
    (time, evidence): (Timestamp, Evidence),
    fields: &[&str],
) -> Detection {
    Detection {
        rule: Arc::clone(rule),
        time,
        end: None,
        host: host.to_string(),
        site: None,
        app_pool: e.app_pool().map(str::to_string),
        evidence,
        matched: fields.iter().filter_map(|f| e.data(f).map(|v| (f.to_string(), v.to_string()))).collect(),
        lowered_from: None,
        process: None,
    }
}

impl Hunt {
    /// A hunt with the rules and correlations of a finished load.
    pub fn new(loaded: LoadReport) -> Hunt {
        let LoadReport { rules, correlations, .. } = loaded;
        let infos =
            rules.iter().enumerate().map(|(i, r)| Arc::new(RuleInfo::of(i, r, &correlations))).collect();
        let correlations = correlations
            .into_iter()
            .enumerate()
            .map(|(i, c)| {
                let info = RuleInfo {
                    meta: c.meta.clone(),
                    fields: c.group_by.clone(),
                    index: rules.len() + i,
                    silent: false,
                    interest: Vec::new(),
                    spelled: BTreeMap::new(),
                };
                (c, Arc::new(info))
            })
            .collect();
        let natives = Natives::of(&rules);
        Hunt {
            engine: Engine::new(rules),
            rules: infos,
            correlations,
            allowed: Vec::new(),
            proxies: Vec::new(),
            natives,
        }
    }

    /// Requests from these networks (`--allow-client`) are never
    /// detections: an authorised scanner is not an attack.
    pub fn allow_clients(mut self, networks: Vec<(std::net::IpAddr, u8)>) -> Hunt {
        self.allowed = networks;
        self
    }

    /// The same hunt, the proxies in front of IIS named: a row from one is
    /// read as from the client its X-Forwarded-For names past them.
    pub fn trust_proxies(mut self, networks: Vec<(std::net::IpAddr, u8)>) -> Hunt {
        self.proxies = networks;
        self
    }

    /// The client a row behind a proxy came from (see
    /// [`Request::forwarded_client`]).
    fn forwarded(&self, r: &Request<'_>) -> Option<std::net::IpAddr> {
        self.forwarded_from(r.client_ip?.ip()?, r.forwarded_for()?)
    }

    /// The client a request from `peer` whose `X-Forwarded-For` is
    /// `header` came from (a logged row's, a traced request's).
    fn forwarded_from(&self, peer: std::net::IpAddr, header: &[u8]) -> Option<std::net::IpAddr> {
        use faultline_parser::w3c::record::forwarded_client;
        if self.proxies.is_empty() {
            return forwarded_client(peer, header, None);
        }
        let named = |ip: std::net::IpAddr| self.proxies.iter().any(|(net, bits)| in_network(ip, *net, *bits));
        forwarded_client(peer, header, Some(&named))
    }

    /// The client a request came from: behind a proxy, the one its
    /// X-Forwarded-For names; else its `c-ip`.
    fn client(&self, r: &Request<'_>) -> Option<std::net::IpAddr> {
        self.forwarded(r).or_else(|| r.client_ip.and_then(|a| a.ip()))
    }

    /// The same hunt with every web row evaluated in full (no screen): what
    /// tests and benchmarks compare the screened hunt with.
    pub fn unscreened(mut self) -> Hunt {
        self.engine = self.engine.unscreened();
        self
    }

    fn allowed(&self, client: Option<std::net::IpAddr>) -> bool {
        client.is_some_and(|ip| self.allowed.iter().any(|(net, bits)| in_network(ip, *net, *bits)))
    }

    /// Whether a request's client is allow-listed: behind a proxy, the
    /// client its X-Forwarded-For names (an authorised scanner reaching
    /// the server through the load balancer is still that scanner).
    fn allows_request(&self, r: &Request<'_>) -> bool {
        !self.allowed.is_empty() && self.allowed(self.client(r))
    }

    /// A hunt with no rules: reads nothing, finds nothing.
    pub fn none() -> Hunt {
        Hunt::new(LoadReport::default())
    }

    /// The correlation rules.
    pub fn correlations(&self) -> impl Iterator<Item = &Arc<RuleInfo>> {
        self.correlations.iter().map(|(_, i)| i)
    }

    /// `detections` (in [`sort`] order) and the detections of the
    /// correlations over them and over the silent rules' matches `quiet`
    /// (in the same order).
    fn correlate(&self, mut detections: Vec<Detection>, quiet: Vec<QuietMatch<'_>>) -> Vec<Detection> {
        if self.correlations.is_empty() {
            return detections;
        }
        // Both lists merged into the one order the correlations read.
        let mut members = Vec::with_capacity(detections.len() + quiet.len());
        let (mut shown, mut silent) = (detections.iter().peekable(), quiet.iter().peekable());
        loop {
            let quiet_first = match (shown.peek(), silent.peek()) {
                (Some(d), Some(q)) => q.key(&self.rules) < d.key(),
                (None, Some(_)) => true,
                (Some(_), None) => false,
                (None, None) => break,
            };
            members.extend(if quiet_first {
                silent.next().map(|q| Member::Quiet(*q))
            } else {
                shown.next().map(Member::Shown)
            });
        }
        drop(quiet);
        // Each correlation on its own thread (the read is done, the other
        // core idle), reading the members in place; their results in
        // correlation order.
        let fired: Vec<Vec<Fired>> =
            self.correlations.par_iter().enumerate().map(|(i, (c, _))| c.evaluate(i, &members)).collect();
        let mut out = Vec::new();
        for ((c, info), fired) in self.correlations.iter().zip(fired) {
            for fired in fired {
                let first = members[fired.matches[0]];
                let last = members[fired.matches[fired.matches.len() - 1]];
                let group: Vec<String> = fired.group.iter().map(|(f, v)| format!("{f}={v}")).collect();
                let mut evidence = first.evidence();
                // A value count says how many values it counted (as it
                // compares them): an episode holds repeats too.
                let distinct = match (&c.kind, &c.field) {
                    (faultline_hunt::correlation::Kind::ValueCount, Some(field)) => {
                        let values: BTreeSet<_> =
                            fired.matches.iter().filter_map(|&m| members[m].value(field)).collect();
                        format!(" ({} distinct {field})", values.len())
                    }
                    _ => String::new(),
                };
                let counted =
                    counted_values(c.rules.iter().map(|&r| &*self.rules[r]), &fired.matches, &members);
                let n = fired.matches.len();
                evidence.summary = crate::describe::cut_line(format!(
                    "{n} {} of {}{distinct} within {} s{}{}{counted}; first: {}",
                    if n == 1 { "match" } else { "matches" },
                    c.rules.iter().map(|&r| self.rules[r].meta.title.as_str()).collect::<Vec<_>>().join(", "),
                    last.time().seconds() - first.time().seconds(),
                    if group.is_empty() { "" } else { " from " },
                    group.join(", "),
                    evidence.summary
                ));
                // A web request names the site, the worker's process event
                // its app pool: the chain has both.
                let of = || fired.matches.iter().map(|&m| members[m]);
                out.push(Detection {
                    rule: Arc::clone(info),
                    time: first.time(),
                    end: (last.time() > first.time()).then(|| last.time()),
                    host: first.host().to_string(),
                    site: of().find_map(|m| m.site()),
                    app_pool: of().find_map(|m| m.app_pool().map(str::to_string)),
                    evidence,
                    matched: fired.group,
                    lowered_from: None,
                    process: None,
                });
            }
        }
        detections.append(&mut out);
        detections
    }

    /// The rules.
    pub fn rules(&self) -> &[Arc<RuleInfo>] {
        &self.rules
    }

    /// The detections of a whole read from its parts: the POST-only-script
    /// detector and the correlations run over all of them, and the list
    /// comes in [`sort`] order.
    pub fn conclude(&self, parts: impl IntoIterator<Item = (Vec<Detection>, Pending)>) -> Vec<Detection> {
        let mut detections = Vec::new();
        let mut pending = Pending::default();
        for (found, p) in parts {
            detections.extend(found);
            pending.absorb(p);
        }
        let site_pools = std::mem::take(&mut pending.site_pools);
        let web_paths = std::mem::take(&mut pending.web_paths);
        let parts = std::mem::take(&mut pending.quiet);
        let logins = std::mem::take(&mut pending.ftp_logins);
        let web_logins = std::mem::take(&mut pending.web_logins);
        let mut rejections = std::mem::take(&mut pending.rejections);
        rejections.sort_unstable();
        rejections.dedup();
        let traced = traced_only(&pending.logged_requests, std::mem::take(&mut pending.traced));
        detections.extend(traced);
        let answered = std::mem::take(&mut pending.answered);
        detections.extend(self.natives(pending));
        // The natives' scripts answering posts among them.
        catch_all::lower_answered_anything(&mut detections, &answered);
        // Before the correlations, which chain a pool's matches.
        place_in_pools(&mut detections, &site_pools, &web_paths);
        let mut quiet: Vec<QuietMatch<'_>> =
            parts.iter().flat_map(|of| of.matches.iter().map(move |m| QuietMatch { of, m })).collect();
        // Stable, as [`sort`]: the same order whatever the pool.
        rayon::join(
            || sort(&mut detections),
            || quiet.par_sort_by(|a, b| a.key(&self.rules).cmp(&b.key(&self.rules))),
        );
        // Before the correlations, which would count a start twice.
        fold_double_logged(&mut detections);
        let mut detections = self.correlate(detections, quiet);
        let mut guessed = guessed_logins(&detections, FTP_GUESSING, logins, |_, _| true);
        if self.natives.is_some() {
            guessed.extend(self.web_guessed(&detections, &web_logins, &rejections, &site_pools));
        }
        detections.extend(guessed);
        sort(&mut detections);
        detections
    }

    /// `read`, reading every Windows event when a rule of the user's may
    /// match one outside the IIS catalogue (the bundled pack's event rules
    /// read catalogue events only, which every read extracts).
    pub fn reading(&self, read: &ReadConfig) -> ReadConfig {
        let every =
            self.engine.rules().iter().any(|r| !r.is_bundled() && matches!(r.target, Target::Events(_)));
        ReadConfig { all_events: read.all_events || every, ..*read }
    }
}

/// Detections of one chunk.
#[derive(Debug)]
pub struct HuntSink<'a> {
    hunt: &'a Hunt,
    resolve: Resolver<'a>,
    view: View,
    /// The view of rows the line filter clears (see
    /// [`Engine::cleared_view`]), swapped in for such a row.
    cleared_view: Option<View>,
    needles: Found,
    screening: Screening,
    hits: Vec<usize>,
    found: Vec<Detection>,
    pending: Pending,
    /// The silent rules' matches.
    quiets: Option<Quiets>,
    key: Vec<u8>,
    /// The computer name and minute of the last access-log row noted.
    last_logged: (Vec<u8>, i64),
    /// The clients (see [`client_key`]) and logins (see [`login_key`])
    /// whose first request that got through is kept.
    login_seen: hashbrown::HashSet<(u64, u64)>,
    /// Per client (see [`client_key`]) and minute, the accounts of the
    /// rejections noted (at most [`ACCOUNTS_PER_MINUTE`]).
    rejections_noted: hashbrown::HashMap<(u64, i64), Vec<u64>>,
    /// The requests clients got through with.
    web_logins: Option<WebLogins>,
    /// The sites, pools and folders noted (hashed).
    pools_noted: hashbrown::HashSet<u64>,
}

impl<'a> HuntSink<'a> {
    /// A sink for one chunk of `file`.
    pub fn new(hunt: &'a Hunt, file: SourceFile, scope: &'a Scope) -> HuntSink<'a> {
        // What the correlations group and count by, and the values their
        // summaries count.
        let grouped = || {
            hunt.correlations
                .iter()
                .flat_map(|(c, _)| c.fields().map(str::to_string))
                .chain(hunt.rules.iter().flat_map(|r| r.interest.iter().map(|(_, lower)| lower.clone())))
        };
        HuntSink {
            hunt,
            resolve: Resolver::new(file, scope),
            view: hunt.engine.view(grouped()),
            cleared_view: hunt.engine.cleared_view(grouped()),
            needles: Found::default(),
            screening: Screening::default(),
            hits: Vec::new(),
            found: Vec::new(),
            pending: Pending::default(),
            quiets: None,
            key: Vec::new(),
            last_logged: (Vec::new(), i64::MIN),
            login_seen: hashbrown::HashSet::new(),
            rejections_noted: hashbrown::HashMap::new(),
            web_logins: None,
            pools_noted: hashbrown::HashSet::new(),
        }
    }

    /// The detections, and what the native detectors need from the whole
    /// read.
    pub fn finish(mut self) -> (Vec<Detection>, Pending) {
        self.pending.quiet.extend(self.quiets);
        // Kept to the read's end: the room a list grew by is given back
        // (a busy authenticated site's chunk keeps many).
        self.pending.web_logins.extend(self.web_logins.map(|mut w| {
            w.logins.shrink_to_fit();
            w.text.shrink_to_fit();
            w.user_index = hashbrown::HashMap::new();
            w
        }));
        (self.found, self.pending)
    }

    /// A row of IIS's FTP log (its `command`), read by the rules over FTP
    /// alone: its reply is no HTTP status and its path no URL, and the
    /// web's native detectors (logging gaps, scripts never requested) are
    /// about the web site's log.
    fn ftp_command(&mut self, r: &Request<'_>, command: &[u8]) {
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

    /// Notes that the app pool `pool` served `path` of `site` (see
    /// [`pools::SitePools`]), once per site, pool and folder in a chunk:
    /// a flood of HTTP.sys errors names the same few.
    fn note_pool(
        &mut self,
        site: Option<u32>,
        computer: Option<&str>,
        pool: Option<&[u8]>,
        path: Option<&[u8]>,
    ) {
        use faultline_parser::value::present;
        let (Some(site), Some(pool), Some(path)) =
            (self.resolve.site(site), pool.and_then(present), path.and_then(present))
        else {
            return;
        };
        let path = String::from_utf8_lossy(path);
        let Some(folder) = pools::folder(&path) else { return };
        use std::hash::{BuildHasher as _, Hash as _, Hasher as _};
        let mut key = SCRIPT_KEYS.build_hasher();
        (site, computer, pool).hash(&mut key);
        folder.bytes().for_each(|b| key.write_u8(b.to_ascii_lowercase()));
        if !self.pools_noted.insert(key.finish()) {
            return;
        }
        let host = self.resolve.host_of(computer);
        self.pending.site_pools.note(&host.name, site, folder, &String::from_utf8_lossy(pool));
    }

    /// A native detector's detection of an access-log row.
    fn row_detection(
        &self,
        rule: &Arc<RuleInfo>,
        r: &Request<'_>,
        (host, time): (&str, Timestamp),
        summary: String,
        matched: Vec<(String, String)>,
    ) -> Detection {
        Detection {
            rule: Arc::clone(rule),
            time,
            end: None,
            host: host.to_string(),
            site: self.resolve.site_named(r.site_name).map(|s| s.to_string()),
            app_pool: None,
            evidence: Evidence::in_file(self.resolve.file(), (Some(r.origin.line), None), time, summary),
            matched,
            lowered_from: None,
            process: None,
        }
    }

    /// Keeps an event that says the host's clock stepped or the machine
    /// was renamed (or a boot or time sync around such a step), its time
    /// corrected by the host's skew, as the analysis keeps it.
    fn note_clock(&mut self, e: &WinEvent) {
        let family = e.family();
        let wanted = CLOCK_AND_NAME_KINDS.iter().flat_map(|k| k.iter()).any(|k| k.is(family, e.event_id));
        if !wanted {
            return;
        }
        let host = self.resolve.host_of(e.computer.as_deref());
        let Some(time) = self.resolve.time(&host, e.time) else { return };
        let mut event = e.clone();
        event.time = time;
        let source = self.resolve.file().index;
        self.pending.clock_events.push(crate::evidence::EventRow { event, host: host.name, source });
    }

    /// Notes the row `r`, answered 200 and cited by a detection of level
    /// medium or above, for [`catch_all`] to read with the client's others.
    fn note_answered(&mut self, r: &Request<'_>) {
        let (Some(client), Some(stem)) = (self.hunt.client(r), r.uri_stem) else { return };
        self.pending.answered.push(catch_all::Answered {
            row: row_key(&self.resolve.file().path, r.origin.line),
            client: client_key(client),
            path: host_key("", stem, &mut self.key),
            handler: catch_all::Handler::of(stem),
            bytes: r.bytes_sent,
        });
    }

    /// The web rules over a traced request: the fields a FREB trace holds
    /// (verb, URL, status, client, user, and the agent, referer, host and
    /// cookie of its request headers). Silent rules are left out: the access
    /// log's rows feed the correlations, and a request both logged and traced
    /// would count twice.
    fn traced_request(&mut self, t: &Trace) {
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
    fn event_request(&mut self, e: &WinEvent) {
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
    fn reported_hits(&mut self, row: &faultline_hunt::record::WebRow<'_>) -> bool {
        self.view.web(row);
        self.hunt.engine.matches_with(&mut self.view, &mut self.needles, &mut self.hits);
        let rules = &self.hunt.rules;
        self.hits.retain(|&i| !rules[i].silent);
        !self.hits.is_empty()
    }

    /// Keeps the hits [`HuntSink::reported_hits`] left, placed, as
    /// detections shown unless the access log shows the same request.
    fn trace_hits(&mut self, placed: &Placed, end: i64, client: Option<std::net::IpAddr>) {
        for i in self.hits.drain(..) {
            let detection =
                placed.detection(&self.hunt.rules[i], self.hunt.engine.rules().get(i), &self.view);
            self.pending.traced.push(Traced { detection, end, client });
        }
    }

    #[allow(clippy::too_many_arguments)] // one record's place, all of it needed
    fn record(
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
        for n in 0..self.hits.len() {
            let i = self.hits[n];
            let rule = &self.hunt.rules[i];
            if !rule.silent {
                self.hits[shown] = i;
                shown += 1;
                continue;
            }
            if let Some(full) = self.quiets.take_if(|q| q.full()) {
                self.pending.quiet.push(full);
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
            let at = quiets.text.len();
            quiets.text.push_str(&summary);
            let said = at..quiets.text.len();
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

impl RecordSink for HuntSink<'_> {
    type Error = Infallible;

    fn request(&mut self, r: &Request<'_>) -> Result<(), Infallible> {
        if let Some(command) = self.resolve.file().ftp_command(r) {
            self.ftp_command(r, command);
            return Ok(());
        }
        self.note_logged(r);
        if !self.hunt.engine.wants_web() || self.hunt.allows_request(r) {
            return Ok(());
        }
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
        self.note_script(r, &|| summary(&[]));
        if let Some(full) = light {
            self.cleared_view = Some(std::mem::replace(&mut self.view, full));
        }
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
                    rule: Arc::clone(rule),
                    time,
                    end: None,
                    host: host.name.to_string(),
                    site: self.resolve.site(t.site_id).map(|s| s.to_string()),
                    app_pool: t.app_pool.clone(),
                    evidence,
                    matched: vec![("ModuleName".into(), u.name.to_string())],
                    lowered_from: None,
                    process: None,
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
        self.note_lineage(e);
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

/// The hunt's consumer of the pass.
struct Hunting<'a> {
    hunt: &'a Hunt,
    scope: &'a Scope,
}

/// What a hunt over the evidence gave.
#[derive(Debug, Default)]
pub struct HuntReport {
    /// Every detection, in time order (then file, line, record, rule).
    pub detections: Vec<Detection>,
    /// How the read went (files found, parsed, unreadable and why).
    pub reading: crate::pass::Reading,
    /// Steps of the hosts' clocks, as the analysis names them: detections
    /// timed around one are out of order.
    pub clock_steps: Vec<crate::clock::ClockStep>,
    /// Machines renamed (EventLog 6011): detections under their names
    /// are one machine's.
    pub renames: Vec<crate::renames::Rename>,
}

impl HuntReport {
    /// The notes a report's header gives: which hosts are one machine
    /// renamed, and which clocks stepped (times as `time` writes them).
    pub fn header_notes(&self, time: &dyn Fn(Timestamp) -> String) -> Vec<String> {
        crate::clock::header_notes(&self.renames, &self.clock_steps, time)
    }
}

impl Consumer for Hunting<'_> {
    type Error = Infallible;
    type Sink<'c>
        = HuntSink<'c>
    where
        Self: 'c;
    type Part = (Vec<Detection>, Pending);
    type Output = Self::Part;

    fn sink(&self, file: SourceFile) -> Self::Sink<'_> {
        HuntSink::new(self.hunt, file, self.scope)
    }

    fn file_read<'c>(
        &'c self,
        part: &mut Self::Part,
        file: SourceFile,
        _entry: &Entry,
        read: Outcome<Self::Sink<'c>>,
    ) -> Result<(), Infallible> {
        if let Outcome::Parsed { sinks, .. } = read {
            for s in sinks {
                let (found, scripts) = s.finish();
                part.0.extend(found);
                part.1.absorb(scripts);
            }
        }
        part.1.sources.push(file);
        Ok(())
    }

    fn part_done(&self, _index: usize, part: Self::Part) -> Result<Self::Part, Infallible> {
        Ok(part)
    }
}

/// Sorts detections so that the same evidence gives the same list.
pub fn sort(detections: &mut [Detection]) {
    // Stable, so the same order as one thread's whatever the pool; on
    // both cores, since the read is done and the other would idle.
    detections.par_sort_by(order);
}

/// The order of [`sort`]: time, then file, line, record and rule.
fn order(a: &Detection, b: &Detection) -> std::cmp::Ordering {
    a.key().cmp(&b.key())
}

/// Reads `paths` through the rules of `hunt`.
pub fn hunt(
    paths: &[PathBuf],
    read: &ReadConfig,
    scope: &Scope,
    hunt: &Hunt,
    progress: &dyn Progress,
) -> HuntReport {
    let Ok(mut pass) =
        pass::run(paths, &hunt.reading(read), &scope.hosts, &Hunting { hunt, scope }, progress);
    progress.phase("correlating detections");
    // The few events that name clock steps and renamings, read as the
    // analysis reads them.
    let (mut sources, mut events) = (Vec::new(), Vec::new());
    for (_, p) in &mut pass.outputs {
        sources.append(&mut p.sources);
        events.append(&mut p.clock_events);
    }
    let store =
        crate::evidence::Store::new(sources, vec![crate::evidence::Kept { events, ..Default::default() }]);
    let (clock_steps, renames) = (crate::clock::clock_steps(&store), crate::renames::renames(&store));
    HuntReport { detections: hunt.conclude(pass.outputs), reading: pass.reading, clock_steps, renames }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::SourceKind;
    use faultline_parser::winevent::EventOrigin;
    use logins::{LOGIN_WORDS, WebLogin};
    use natives::{logging_gaps, native};
    use process::WORKER_SHELLS;

    /// A busy authenticated site keeps one per client and user per chunk.
    #[test]
    fn a_web_login_kept_is_56_bytes() {
        assert_eq!(std::mem::size_of::<WebLogin>(), 56);
    }

    /// Asserts that the list in the bundled rule `file` between `from` and
    /// `to` holds exactly `values`, as `- 'value'` lines.
    fn holds_list(file: &str, (from, to): (&str, &str), values: &[&str]) {
        let (_, rule) =
            faultline_hunt::pack::BUNDLED.iter().find(|(name, _)| *name == file).expect("the rule");
        let list = rule.split(from).nth(1).and_then(|l| l.split(to).next()).expect("its list");
        assert_eq!(list.matches("- '").count(), values.len(), "{list}");
        for value in values {
            assert!(list.contains(&format!("- '{value}'")), "{value}");
        }
    }

    /// A login page is what the bundled rejection rule takes for one.
    #[test]
    fn login_pages_are_the_rejection_rules() {
        holds_list("web_auth_brute_force.yml", ("selection_form:", "selection_token:"), &LOGIN_WORDS);
    }

    /// A shell whose writes are the worker's shell's is one the bundled
    /// rule reports the worker starting.
    #[test]
    fn worker_shells_are_the_shell_rules() {
        holds_list("proc_w3wp_spawns_shell.yml", ("selection_child:", "condition:"), &WORKER_SHELLS);
    }

    /// A script file a worker's shell writes (and the read keeps) is one
    /// the bundled rule takes for a script when the worker writes it.
    #[test]
    fn written_scripts_are_the_worker_write_rules() {
        let extensions = faultline_parser::winevent::SCRIPT_FILE_EXTENSIONS;
        holds_list("file_w3wp_writes_script.yml", ("TargetFilename|endswith:", "condition:"), &extensions);
    }

    const MINUTE: i64 = 60_000_000_000;

    fn switched_off(host: u64, at: i64) -> (u64, Detection) {
        let time = Timestamp(at * MINUTE);
        let evidence = Evidence {
            source: SourceKind::Evtx,
            path: "Security.evtx".into(),
            line: None,
            record: RecordId::new(7),
            time,
            summary: "appcmd set config /section:httpLogging /dontLog:True".into(),
        };
        let rule = native("logging-switched-off", "t", faultline_hunt::Level::High, "T1562.002");
        let d = Detection {
            rule,
            time,
            end: None,
            host: "WEB01".into(),
            site: None,
            app_pool: None,
            evidence,
            matched: Vec::new(),
            lowered_from: None,
            process: None,
        };
        (host, d)
    }

    #[test]
    fn a_correlations_values_are_counted_apart_from_case() {
        let mut rule = (*native("guess", "t", faultline_hunt::Level::Medium, "T1110")).clone();
        rule.interest = vec![("TargetUserName".into(), "targetusername".into())];
        let tried = ["Administrator", "administrator", "Administrator", "guest"];
        let detections: Vec<Detection> = tried
            .iter()
            .map(|user| {
                let (_, mut d) = switched_off(1, 0);
                d.matched = vec![("targetusername".into(), (*user).into())];
                d
            })
            .collect();
        let members: Vec<Member<'_>> = detections.iter().map(Member::Shown).collect();
        let summary = counted_values(std::iter::once(&rule), &[0, 1, 2, 3], &members);
        assert_eq!(summary, "; TargetUserName Administrator 3 times, guest once");
    }

    /// Minutes `from..to` logged by `host`.
    fn logging(logged: &mut BTreeSet<(u64, i64)>, host: u64, from: i64, to: i64) {
        logged.extend((from..to).map(|m| (host, m)));
    }

    #[test]
    fn a_switch_off_followed_by_silence_on_a_logging_host_is_a_gap() {
        let mut logged = BTreeSet::new();
        logging(&mut logged, 1, 0, 100);
        logging(&mut logged, 1, 140, 200);
        // Another host goes on logging: its minutes are not this host's.
        logging(&mut logged, 2, 0, 200);
        let found = logging_gaps(&logged, vec![switched_off(1, 100)]);
        assert_eq!(found.len(), 1);
        assert!(
            found[0].evidence.summary.starts_with("no access-log row on WEB01 for 40 min until"),
            "{}",
            found[0].evidence.summary
        );
        // Silent to the end of its own log, while another host logs on:
        // the collection of this host may end there.
        let mut cut = BTreeSet::new();
        logging(&mut cut, 1, 0, 100);
        logging(&mut cut, 2, 0, 200);
        assert!(logging_gaps(&cut, vec![switched_off(1, 100)]).is_empty());
    }

    /// A hunt with the bundled pack.
    fn bundled_hunt() -> Hunt {
        let mut loaded = LoadReport::default();
        loaded.add_bundled();
        Hunt::new(loaded.finish())
    }

    fn process(data: &[(&str, &str)]) -> WinEvent {
        named_event("Microsoft-Windows-Sysmon", 1, data)
    }

    /// An event of `provider` with named data.
    fn named_event(provider: &str, event_id: u16, data: &[(&str, &str)]) -> WinEvent {
        let data = data
            .iter()
            .map(|(n, v)| faultline_parser::winevent::DataValue {
                name: Some(Arc::from(*n)),
                value: Arc::from(*v),
            })
            .collect();
        WinEvent { provider: Arc::from(provider), event_id, data, ..WinEvent::default() }
    }

    /// The detections of the native detector `id` over events read in
    /// `chunks` (each its own sink, as the read's chunks are).
    fn native_detections(hunt: &Hunt, scope: &Scope, chunks: Vec<Vec<WinEvent>>, id: &str) -> Vec<Detection> {
        let sinks = chunks.into_iter().map(|events| {
            let mut sink =
                HuntSink::new(hunt, SourceFile::synthetic(0, "events.evtx", SourceKind::Evtx), scope);
            for e in events {
                let Ok(()) = sink.event(e);
            }
            sink.finish()
        });
        hunt.conclude(sinks).into_iter().filter(|d| d.rule.meta.id.ends_with(id)).collect()
    }

    /// A web shell dropped by a command the worker ran: w3wp.exe starts
    /// cmd.exe, which starts powershell.exe, which writes pages (ToolShell
    /// wrote spinstall0.aspx so): one high detection per writing process,
    /// citing its first write and counting the rest, in whichever chunks
    /// the events came, with the worker's pool. Not a detection: the same
    /// write by an administrator's PowerShell, a file that is no script, a
    /// page written by a runtime the worker started for its application
    /// (PHP's FastCGI updating a WordPress plugin), a writer more than
    /// [`WORKER_GENERATIONS`] processes below the shell, or a loop of
    /// parent links.
    #[test]
    fn a_script_a_shell_the_worker_started_writes_is_a_dropped_shell() {
        let hunt = bundled_hunt();
        let scope = Scope::default();
        let started = |guid: &str, image: &str, parent_guid: &str, parent: &str, parent_line: &str| {
            let mut e = process(&[
                ("ProcessGuid", guid),
                ("Image", image),
                ("ParentProcessGuid", parent_guid),
                ("ParentImage", parent),
                ("ParentCommandLine", parent_line),
            ]);
            e.computer = Some(Arc::from("SP01"));
            e
        };
        let wrote = |guid: &str, image: &str, target: &str, record: u64| {
            let mut e = named_event(
                "Microsoft-Windows-Sysmon",
                11,
                &[("ProcessGuid", guid), ("Image", image), ("TargetFilename", target)],
            );
            e.computer = Some(Arc::from("SP01"));
            e.time = Timestamp::from_parts(1_752_890_000 + record as i64, 0);
            e.record_id = RecordId::new(record);
            e
        };
        let dropped = |chunks: Vec<Vec<WinEvent>>| {
            native_detections(&hunt, &scope, chunks, "worker-shell-writes-script")
        };
        let w3wp = "c:\\windows\\system32\\inetsrv\\w3wp.exe";
        let worker_line = "c:\\windows\\system32\\inetsrv\\w3wp.exe -ap \"SharePoint - 80\"";
        let cmd = "C:\\Windows\\System32\\cmd.exe";
        let powershell = "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe";
        let layouts =
            "C:\\Program Files\\Common Files\\microsoft shared\\Web Server Extensions\\16\\TEMPLATE\\LAYOUTS";
        let page = format!("{layouts}\\spinstall0.aspx");
        let shell = started("{C}", cmd, "{W}", w3wp, worker_line);
        let script = started("{P}", powershell, "{C}", cmd, "cmd.exe /c powershell -EncodedCommand JABi");
        let writes = vec![
            wrote("{P}", powershell, &page, 7001),
            wrote("{P}", powershell, &format!("{layouts}\\x.aspx"), 7008),
        ];
        let found = dropped(vec![writes, vec![script.clone(), shell.clone()]]);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].rule.meta.level, faultline_hunt::Level::High);
        assert_eq!(found[0].evidence.record, RecordId::new(7001));
        assert_eq!(found[0].app_pool.as_deref(), Some("SharePoint - 80"));
        let summary = &found[0].evidence.summary;
        assert!(
            summary.starts_with("2 script files written by a shell the IIS worker started; first: "),
            "{summary}"
        );
        assert!(found[0].matched.contains(&("TargetFilename".to_string(), page.clone())));
        // An administrator deploying a solution from the management shell.
        let admin = started("{A}", powershell, "{E}", "C:\\Windows\\explorer.exe", "explorer.exe");
        assert!(
            dropped(vec![vec![admin, wrote("{A}", powershell, &page, 7002)]]).is_empty(),
            "an administrator"
        );
        let text = wrote("{P}", powershell, "C:\\Temp\\out.txt", 7003);
        assert!(dropped(vec![vec![shell.clone(), script.clone(), text]]).is_empty(), "no script");
        // PHP's FastCGI runtime, the worker's child, updating a plugin.
        let php = "C:\\Program Files\\PHP\\v8.3\\php-cgi.exe";
        let runtime = started("{F}", php, "{W}", w3wp, worker_line);
        let plugin = "C:\\inetpub\\blog\\wp-content\\plugins\\forms\\forms.php";
        assert!(
            dropped(vec![vec![runtime.clone(), wrote("{F}", php, plugin, 7006)]]).is_empty(),
            "a plugin update"
        );
        // A PHP shell's command: the runtime starting cmd.exe, which
        // writes a page.
        let php_shell = started("{H}", cmd, "{F}", php, "php-cgi.exe");
        let found = dropped(vec![vec![runtime, php_shell, wrote("{H}", cmd, plugin, 7011)]]);
        assert_eq!(found.len(), 1, "a PHP shell's command");
        // Writes coming in reverse: the earliest is cited, the last ends it.
        let later = wrote("{P}", powershell, &format!("{layouts}\\y.aspx"), 7012);
        let found = dropped(vec![
            vec![later],
            vec![wrote("{P}", powershell, &page, 7001), script.clone(), shell.clone()],
        ]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].evidence.record, RecordId::new(7001));
        assert_eq!(found[0].end, Some(Timestamp::from_parts(1_752_890_000 + 7012, 0)));
        // The shell, then three generations of programs below it: the
        // fourth process from the writer up is the shell.
        let line = |guids: &[&str]| -> Vec<WinEvent> {
            let mut events = vec![shell.clone()];
            for pair in guids.windows(2) {
                events.push(started(pair[1], powershell, pair[0], powershell, "powershell"));
            }
            events.push(wrote(guids[guids.len() - 1], powershell, &page, 7009));
            events
        };
        assert_eq!(dropped(vec![line(&["{C}", "{G1}", "{G2}", "{G3}"])]).len(), 1, "three below the shell");
        assert!(dropped(vec![line(&["{C}", "{G1}", "{G2}", "{G3}", "{G4}"])]).is_empty(), "four below");
        // A loop of parent links ends.
        let looped = vec![
            started("{X}", powershell, "{Y}", powershell, "powershell"),
            started("{Y}", powershell, "{X}", powershell, "powershell"),
            wrote("{X}", powershell, &page, 7010),
        ];
        assert!(dropped(vec![looped]).is_empty());
    }

    /// A service installed (System 7045) is a detection; the same record
    /// with its data unread (a damaged record, read from its System values)
    /// is not: the rule's filters on the service's path would pass on a
    /// path that is only missing.
    #[test]
    fn an_event_whose_data_was_not_read_is_left_to_the_timeline() {
        let hunt = bundled_hunt();
        let installed = |unread: bool| WinEvent {
            channel: Some(Arc::from("System")),
            data_unread: unread,
            ..named_event(
                "Service Control Manager",
                7045,
                &[("ServiceName", "updater"), ("ImagePath", "C:\\Users\\Public\\u.exe")],
            )
        };
        let scope = Scope::default();
        let found = |e: WinEvent| {
            let mut sink =
                HuntSink::new(&hunt, SourceFile::synthetic(0, "System.evtx", SourceKind::Evtx), &scope);
            let Ok(()) = sink.event(e);
            hunt.conclude([sink.finish()]).len()
        };
        assert_eq!(found(installed(false)), 1);
        assert_eq!(found(WinEvent { data: Vec::new(), ..installed(true) }), 0);
    }

    /// One shell the worker started, logged by Sysmon (1) and by Security
    /// auditing (4688, its id in hex) a second apart: one detection, naming
    /// both records. Another shell (another id) in the Security log alone
    /// is its own detection. The reference to the Security record stays
    /// when the command line fills the summary.
    #[test]
    fn a_process_start_logged_by_sysmon_and_security_is_one_detection() {
        let hunt = bundled_hunt();
        let scope = Scope::default();
        let w3wp = "c:\\windows\\system32\\inetsrv\\w3wp.exe";
        let command = format!("cmd.exe /c whoami {}", "&& echo padding ".repeat(40));
        let event = |sysmon: bool, pid: &str, second: i64, record: u64| {
            let (image, parent) =
                if sysmon { ("Image", "ParentImage") } else { ("NewProcessName", "ParentProcessName") };
            let mut e = process(&[
                (image, "C:\\Windows\\System32\\cmd.exe"),
                (parent, w3wp),
                (if sysmon { "ProcessId" } else { "NewProcessId" }, pid),
                ("CommandLine", &command),
            ]);
            if !sysmon {
                e.provider = Arc::from("Microsoft-Windows-Security-Auditing");
                e.event_id = 4688;
            }
            e.channel =
                Some(Arc::from(if sysmon { "Microsoft-Windows-Sysmon/Operational" } else { "Security" }));
            e.computer = Some(Arc::from("WEB01"));
            e.time = Timestamp::from_parts(1_700_000_000 + second, 0);
            e.record_id = RecordId::new(record);
            e.origin = EventOrigin::Record { record_id: record, chunk: 0 };
            e
        };
        let found = |events: Vec<WinEvent>| {
            let file = SourceFile::synthetic(0, "logs.evtx", SourceKind::Evtx);
            let mut sink = HuntSink::new(&hunt, file, &scope);
            for e in events {
                let Ok(()) = sink.event(e);
            }
            let shells: Vec<Detection> = hunt
                .conclude([sink.finish()])
                .into_iter()
                .filter(|d| d.rule.meta.title.contains("Shell"))
                .collect();
            shells
        };
        let both = found(vec![event(true, "4242", 0, 10), event(false, "0x1092", 1, 77)]);
        assert_eq!(both.len(), 1, "{both:#?}");
        assert_eq!(both[0].evidence.record, RecordId::new(10), "Sysmon's record is the evidence");
        assert!(
            both[0].evidence.summary.ends_with("… (also in Security 4688: logs.evtx#77)"),
            "{}",
            both[0].evidence.summary
        );
        let apart = found(vec![
            event(true, "4242", 0, 10),
            event(false, "0x1093", 1, 77),
            event(false, "0x1092", 30, 78),
        ]);
        assert_eq!(
            apart.len(),
            3,
            "another process, or the same id much later, is another start: {apart:#?}"
        );
    }

    /// Rotten Potato from a web shell (sbousseaden's capture, ERID 5408 and
    /// 5418): notepad as the app pool's identity, then a notepad it started
    /// as SYSTEM: one critical detection, in whichever order the chunks
    /// came. A SYSTEM program started by a user's program, or by a service
    /// host, is none.
    #[test]
    fn a_system_process_an_app_pools_program_started_is_an_escalation() {
        let hunt = bundled_hunt();
        let scope = Scope::default();
        let start = |guid: &str, user: &str, parent_guid: &str, parent: &str, record: u64| {
            let mut e = process(&[
                ("ProcessGuid", guid),
                ("Image", "C:\\Windows\\System32\\notepad.exe"),
                ("User", user),
                ("ParentProcessGuid", parent_guid),
                ("ParentImage", parent),
            ]);
            e.computer = Some(Arc::from("IEWIN7"));
            e.time = Timestamp::from_parts(1_700_000_000 + record as i64, 0);
            e.record_id = RecordId::new(record);
            e
        };
        let escalations =
            |chunks: Vec<Vec<WinEvent>>| native_detections(&hunt, &scope, chunks, "pool-identity-escalation");
        let notepad = "C:\\Windows\\System32\\notepad.exe";
        let w3wp = "C:\\Windows\\System32\\inetsrv\\w3wp.exe";
        let pool = start("{A}", "IIS APPPOOL\\DefaultAppPool", "{W}", w3wp, 5408);
        let system = start("{B}", "NT AUTHORITY\\SYSTEM", "{A}", notepad, 5418);
        let found = escalations(vec![vec![system.clone()], vec![pool.clone()]]);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].rule.meta.level, faultline_hunt::Level::Critical);
        assert_eq!(found[0].evidence.record, RecordId::new(5418));
        assert_eq!(found[0].app_pool.as_deref(), Some("DefaultAppPool"), "the parent's pool");
        let summary = &found[0].evidence.summary;
        assert!(
            summary.starts_with("started as SYSTEM by a program running as IIS APPPOOL\\DefaultAppPool"),
            "{summary}"
        );
        let user = start("{A}", "CONTOSO\\alice", "{X}", "C:\\Windows\\explorer.exe", 1);
        assert!(escalations(vec![vec![user, system.clone()]]).is_empty(), "a user's program");
        let service =
            start("{C}", "NT AUTHORITY\\SYSTEM", "{A}", "C:\\Windows\\System32\\services.exe", 5419);
        assert!(escalations(vec![vec![pool.clone(), service]]).is_empty(), "a service host");
        let disguised =
            start("{D}", "NT AUTHORITY\\SYSTEM", "{A}", "C:\\inetpub\\wwwroot\\svchost.exe", 5420);
        assert_eq!(escalations(vec![vec![pool, disguised]]).len(), 1, "a service host's name elsewhere");
    }

    /// sbousseaden's DE_WinEventLogSvc_Crash_System_7036 (record 65377):
    /// the Windows Event Log service entering the running state with no
    /// boot within ten minutes on its host is a detection; the same start
    /// beside a boot's Kernel-General 12 (in another chunk), a boot on
    /// another host, and another service starting are not.
    #[test]
    fn the_event_log_service_started_without_a_boot_is_a_detection() {
        let hunt = bundled_hunt();
        let scope = Scope::default();
        let event = |host: &str, provider: &str, id: u16, second: i64, data: &[(&str, &str)]| WinEvent {
            computer: Some(Arc::from(host)),
            time: Timestamp::from_parts(1_600_880_000 + second, 0),
            record_id: RecordId::new(65_000 + second.unsigned_abs()),
            ..named_event(provider, id, data)
        };
        let started = |host: &str, service: &str, second: i64| {
            event(
                host,
                "Service Control Manager",
                7036,
                second,
                &[("param1", service), ("param2", "running")],
            )
        };
        let boot = |host: &str, second: i64| event(host, "Microsoft-Windows-Kernel-General", 12, second, &[]);
        let restarted = |chunks: Vec<Vec<WinEvent>>| {
            native_detections(&hunt, &scope, chunks, "event-log-service-restarted")
                .into_iter()
                .map(|d| (d.host, d.evidence.record))
                .collect::<Vec<_>>()
        };
        let found = restarted(vec![vec![started("WIN16", "Windows Event Log", 297)]]);
        assert_eq!(found, [("WIN16".to_string(), RecordId::new(65_297))]);
        assert!(
            restarted(vec![vec![started("WIN16", "Windows Event Log", 297)], vec![boot("WIN16", 280)]])
                .is_empty(),
            "a boot's start"
        );
        assert_eq!(
            restarted(vec![vec![started("WIN16", "Windows Event Log", 297), boot("DC1", 280)]]).len(),
            1,
            "another host's boot"
        );
        assert!(restarted(vec![vec![started("WIN16", "Windows Time", 297)]]).is_empty(), "another service");
    }

    /// WineDraw's App Service download holds the event log alone: the
    /// request an ASP.NET 1309 names (`/assets/file:/etc/passwd` from
    /// 165.232.37.75, line 1158) is read by the web rules; an ordinary
    /// page that threw is not a detection.
    #[test]
    fn the_request_an_aspnet_error_names_is_hunted() {
        let hunt = bundled_hunt();
        let scope = Scope::default();
        let error = |url: &str, path: &str| {
            let data = [
                "3005",
                "An unhandled exception has occurred.",
                "/LM/W3SVC/1273337584/ROOT-1-133912345678901234",
                "IIS APPPOOL\\shop",
                "HttpException",
                "A potentially dangerous Request.Path value was detected.",
                url,
                path,
                "165.232.37.75",
            ];
            WinEvent {
                provider: Arc::from("ASP.NET 4.0.30319.0"),
                event_id: 1309,
                computer: Some(Arc::from("webwk000002")),
                time: Timestamp::from_parts(1_748_776_984, 0),
                record_id: RecordId::new(1_294_590_062),
                data: data
                    .iter()
                    .map(|v| faultline_parser::winevent::DataValue { name: None, value: Arc::from(*v) })
                    .collect(),
                ..WinEvent::default()
            }
        };
        let found = |e: WinEvent| {
            let mut sink =
                HuntSink::new(&hunt, SourceFile::synthetic(0, "eventlog.xml", SourceKind::Eventxml), &scope);
            let Ok(()) = sink.event(e);
            hunt.conclude([sink.finish()])
        };
        let probe = found(error(
            "https://shop.azurewebsites.net:443/assets/file:/etc/passwd",
            "/assets/file:/etc/passwd",
        ));
        let titles: Vec<&str> = probe.iter().map(|d| d.rule.meta.title.as_str()).collect();
        assert_eq!(titles, ["Path Traversal Attempt"]);
        assert_eq!(probe[0].evidence.record, RecordId::new(1_294_590_062));
        assert!(probe[0].evidence.summary.ends_with("from 165.232.37.75"), "{}", probe[0].evidence.summary);
        // The event names the site (its metabase path) and the pool (its
        // process's account).
        assert_eq!(probe[0].site.as_deref(), Some("1273337584"));
        assert_eq!(probe[0].app_pool.as_deref(), Some("shop"));
        assert!(found(error("https://shop.azurewebsites.net/Home/Index", "/Home/Index")).is_empty());
    }

    #[test]
    fn the_app_pool_of_a_workers_child_comes_from_the_workers_command_line() {
        let w3wp = "c:\\windows\\system32\\inetsrv\\w3wp.exe";
        let child = process(&[
            ("Image", "C:\\Windows\\System32\\cmd.exe"),
            ("ParentImage", w3wp),
            (
                "ParentCommandLine",
                "c:\\windows\\system32\\inetsrv\\w3wp.exe -ap \"Shop Pool\" -v \"v4.0\" -h x",
            ),
        ]);
        assert_eq!(child.app_pool(), Some("Shop Pool"));
        let worker = process(&[("NewProcessName", w3wp), ("CommandLine", "w3wp.exe -ap ApiPool -v v4.0")]);
        assert_eq!(worker.app_pool(), Some("ApiPool"));
        // `-ap` in another program's command line names no pool.
        let other = process(&[
            ("Image", "C:\\Windows\\System32\\cmd.exe"),
            ("ParentImage", "C:\\Tools\\run.exe"),
            ("ParentCommandLine", "run.exe -ap \"Shop Pool\""),
        ]);
        assert_eq!(other.app_pool(), None);
    }

    /// Without a worker's command line, the pool is the one whose identity
    /// the event's program ran as: Sysmon's `User` (Tunna's loopback
    /// connections), Security's subject as a domain and a name, an
    /// ASP.NET event's positional account. A program of a user, or of
    /// SYSTEM, names none.
    #[test]
    fn the_app_pool_of_an_event_comes_from_the_identity_its_program_ran_as() {
        let connection = named_event(
            "Microsoft-Windows-Sysmon",
            3,
            &[("Image", "C:\\inetpub\\tunna\\conn.exe"), ("User", "IIS APPPOOL\\DefaultAppPool")],
        );
        assert_eq!(connection.app_pool(), Some("DefaultAppPool"));
        let audited = named_event(
            "Microsoft-Windows-Security-Auditing",
            4688,
            &[
                ("SubjectUserName", "ShopPool"),
                ("SubjectDomainName", "IIS APPPOOL"),
                ("NewProcessName", "C:\\Windows\\System32\\cmd.exe"),
            ],
        );
        assert_eq!(audited.app_pool(), Some("ShopPool"));
        let mut web =
            WinEvent { provider: Arc::from("ASP.NET 4.0.30319.0"), event_id: 1309, ..WinEvent::default() };
        web.data = ["3005", "/LM/W3SVC/673808034/ROOT-1-1", "w3wp.exe", "IIS APPPOOL\\winedraw"]
            .into_iter()
            .map(|v| faultline_parser::winevent::DataValue { name: None, value: Arc::from(v) })
            .collect();
        assert_eq!(web.app_pool(), Some("winedraw"));
        assert_eq!(web.metabase_site(), Some(673_808_034));
        for user in ["CONTOSO\\alice", "NT AUTHORITY\\SYSTEM", "IIS APPPOOL\\"] {
            let mine = named_event("Microsoft-Windows-Sysmon", 3, &[("User", user)]);
            assert_eq!(mine.app_pool(), None, "{user}");
        }
    }

    /// A repeat of a key later than its first is counted without its
    /// detection; one at the same time must still be compared in full.
    #[test]
    fn a_later_repeat_is_counted_without_its_detection() {
        let mut firsts = Firsts::default();
        let (_, first) = switched_off(1, 10);
        firsts.add(7, first, 1);
        assert!(firsts.later(7, Timestamp(20 * MINUTE)));
        assert!(!firsts.later(7, Timestamp(10 * MINUTE)), "a tie is decided by the whole order");
        assert!(!firsts.later(8, Timestamp(20 * MINUTE)), "a new key needs its detection");
        let (_, earlier) = switched_off(1, 5);
        firsts.add(7, earlier, 1);
        let reported = firsts.report(|_, _| true, |_, n| format!("{n} times"));
        assert_eq!(reported.len(), 1);
        assert_eq!(reported[0].time, Timestamp(5 * MINUTE), "the earliest is kept");
        assert_eq!(reported[0].end, Some(Timestamp(20 * MINUTE)), "and the latest is its end");
        assert!(reported[0].evidence.summary.starts_with("3 times;"), "{}", reported[0].evidence.summary);
    }

    /// The bundled 404 base of the scanner burst only feeds a correlation
    /// that does not report it: its matches keep only the fields the
    /// correlation reads, and those its `fields` list for the summary to
    /// count; a rule that reports keeps its own.
    #[test]
    fn a_silent_base_rule_keeps_only_what_its_correlations_read() {
        let hunt = bundled_hunt();
        let silent: Vec<&Arc<RuleInfo>> = hunt.rules.iter().filter(|r| r.silent).collect();
        assert!(!silent.is_empty(), "the pack has correlation bases");
        for r in &silent {
            assert!(!r.fields.contains(&"sc-status".to_string()), "{}: {:?}", r.meta.title, r.fields);
            let read: BTreeSet<&str> = hunt
                .correlations
                .iter()
                .filter(|(c, _)| c.rules.contains(&r.index))
                .flat_map(|(c, _)| c.fields())
                .chain(r.interest.iter().map(|(_, lower)| lower.as_str()))
                .collect();
            assert_eq!(
                r.fields.iter().map(String::as_str).collect::<BTreeSet<_>>(),
                read,
                "{}",
                r.meta.title
            );
        }
        assert!(hunt.rules.iter().any(|r| !r.silent && !r.fields.is_empty()));
    }

    #[test]
    fn a_switch_off_with_no_silence_or_on_a_quiet_host_is_not_a_gap() {
        // Logging went on (the change did not take, or another site logs).
        let mut logged = BTreeSet::new();
        logging(&mut logged, 1, 0, 200);
        assert!(logging_gaps(&logged, vec![switched_off(1, 100)]).is_empty());
        // A host that logs a row now and then falls silent all the time.
        let sparse: BTreeSet<(u64, i64)> = (0..200).step_by(20).map(|m| (1, m)).collect();
        assert!(logging_gaps(&sparse, vec![switched_off(1, 100)]).is_empty());
        // A host with no access log at all.
        assert!(logging_gaps(&BTreeSet::new(), vec![switched_off(1, 100)]).is_empty());
    }
}
