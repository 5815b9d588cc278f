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

use faultline_hunt::correlation::Correlation;
use faultline_hunt::engine::Found;
use faultline_hunt::pattern::in_network;
use faultline_hunt::rule::{Meta, Target};
use faultline_hunt::screen::Screening;
use faultline_hunt::{Engine, Level, LoadReport, Rule, View};
use faultline_parser::{Entry, Outcome, ReadConfig, RecordId, Request, Timestamp, WinEvent};
use serde::Serialize;

mod catch_all;
mod correlations;
mod keys;
mod logins;
mod matched;
mod modules;
mod natives;
mod pools;
mod posted;
mod process;
mod quiet;
mod sink;
mod traced;

use keys::row_key;
use logins::{FTP_GUESSING, Login, WebLogins, guessed_logins};
use natives::{Firsts, Natives, POST_ONLY_CLIENTS, POST_ONLY_USERS, note_poster};
use process::{ProcessStart, fold_double_logged};
use quiet::{QuietMatch, Quiets};
use traced::{Requested, Traced, traced_only};

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

/// The order of [`sort`] over both kinds of match: time, then file, line,
/// record and rule.
type OrderKey<'a> = (Timestamp, &'a str, Option<u64>, Option<RecordId>, &'a str);

impl Detection {
    /// `rule`'s detection of one record on `host` at `time`, citing
    /// `evidence`: no site, app pool or values until the caller gives them.
    fn new(rule: &Arc<RuleInfo>, host: &str, time: Timestamp, evidence: Evidence) -> Detection {
        Detection {
            rule: Arc::clone(rule),
            time,
            end: None,
            host: host.to_string(),
            site: None,
            app_pool: None,
            evidence,
            matched: Vec::new(),
            lowered_from: None,
            process: None,
        }
    }

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
    /// Per script POSTed and answered 200, the first POSTs, while few
    /// clients and users POST to it: what a chain with the worker's shell
    /// cites.
    post_times: posted::Posts,
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
    /// Threads created in another process (Sysmon 8) by a program other
    /// than the worker, by host and source process (hashed): a web shell's
    /// injection if the source ran as an app pool identity.
    remote_threads: Vec<(u64, Detection)>,
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
    /// Per host and IIS worker process (hashed), the app pool an event of
    /// it names (see [`HuntSink::note_worker_pool`]).
    worker_pools: hashbrown::HashMap<u64, String>,
    /// Events rules matched that name no app pool, by file and place
    /// (hashed, see [`process::event_key`]), that are the doing of the IIS
    /// worker process given (hashed as [`Pending::worker_pools`]).
    worker_events: Vec<(u64, u64)>,
    /// Per host and process (hashed), the shells and tools started (the
    /// bundled shell rule's list), by whatever parent.
    shells: hashbrown::HashSet<u64>,
    /// Script files written by a program other than the worker (Sysmon
    /// 11), the first per host and writing process (hashed) and how many:
    /// a detection if the process descends from the worker through a
    /// shell (see [`worker_shell_of`](process::worker_shell_of)).
    script_writes: Firsts,
    /// Passwords the FTP service accepted (PASS answered 230), with their
    /// client: a guessing client's login is the guess that worked.
    ftp_logins: Vec<Login>,
    /// Requests clients got through with on the web site, per chunk: what
    /// [`guessed_logins`] looks in after the site's password guessing.
    web_logins: Vec<WebLogins>,
    /// The clients (see [`client_key`](keys::client_key)), minutes (of the record's own
    /// time) and accounts (see [`account_key`](keys::account_key), or [`UNNAMED_ACCOUNT`](logins::UNNAMED_ACCOUNT)) in
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
    /// The files read some of whose rows were timed by the server's local
    /// clock or by a date alone, in discovery order.
    time_doubts: Vec<(Arc<str>, faultline_parser::w3c::TimeDoubts)>,
}

/// The events [`crate::clock::clock_steps`] and [`crate::renames::renames`]
/// read.
const CLOCK_AND_NAME_KINDS: [&[crate::evidence::EventKind]; 5] = {
    use crate::detect::kinds::{BOOT_MARKS, BOOTED, CLOCK_SET, RENAMED, TIME_SERVICE_SET};
    [CLOCK_SET, TIME_SERVICE_SET, BOOT_MARKS, BOOTED, RENAMED]
};

impl Pending {
    pub(crate) fn absorb(&mut self, other: Pending) {
        self.quiet.extend(other.quiet);
        self.gets.extend(other.gets);
        self.posts.absorb(other.posts);
        self.post_times.absorb(other.post_times);
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
        self.remote_threads.extend(other.remote_threads);
        self.log_service_starts.extend(other.log_service_starts);
        self.process_parents.extend(other.process_parents);
        self.worker_children.extend(other.worker_children);
        for (key, pool) in other.worker_pools {
            self.worker_pools.entry(key).or_insert(pool);
        }
        self.worker_events.extend(other.worker_events);
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
        self.time_doubts.extend(other.time_doubts);
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

/// A rule's identity: ids may be missing, and titles repeat.
fn rule_identity(rule: &Arc<RuleInfo>) -> usize {
    Arc::as_ptr(rule) as usize
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
        app_pool: e.app_pool().map(str::to_string),
        matched: fields.iter().filter_map(|f| e.data(f).map(|v| (f.to_string(), v.to_string()))).collect(),
        ..Detection::new(rule, host, time, evidence)
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

    /// The client a request came from: behind a proxy (a named one, else a
    /// private `c-ip`), the one its X-Forwarded-For names; else its `c-ip`.
    pub fn client(&self, r: &Request<'_>) -> Option<std::net::IpAddr> {
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

    /// The rules.
    pub fn rules(&self) -> &[Arc<RuleInfo>] {
        &self.rules
    }

    /// The detections of a whole read from its parts: traced requests the
    /// log does not show, the native detectors, the catch-all lowering, app
    /// pools by folder, the Sysmon/Security fold, the correlations, then
    /// passwords guessed, in [`sort`] order.
    pub fn conclude(&self, parts: impl IntoIterator<Item = (Vec<Detection>, Pending)>) -> Vec<Detection> {
        let mut detections = Vec::new();
        let mut pending = Pending::default();
        for (found, p) in parts {
            detections.extend(found);
            pending.absorb(p);
        }
        let site_pools = std::mem::take(&mut pending.site_pools);
        let web_paths = std::mem::take(&mut pending.web_paths);
        let worker_pools = std::mem::take(&mut pending.worker_pools);
        let worker_events = std::mem::take(&mut pending.worker_events);
        let parts = std::mem::take(&mut pending.quiet);
        let logins = std::mem::take(&mut pending.ftp_logins);
        let web_logins = std::mem::take(&mut pending.web_logins);
        let mut rejections = std::mem::take(&mut pending.rejections);
        rejections.sort_unstable();
        rejections.dedup();
        let traced = traced_only(&pending.logged_requests, std::mem::take(&mut pending.traced));
        detections.extend(traced);
        let answered = std::mem::take(&mut pending.answered);
        let (natives, post_only) = self.natives(pending);
        detections.extend(natives);
        // The natives' scripts answering posts among them.
        catch_all::lower_answered_anything(&mut detections, &answered);
        // Before the correlations, which chain a pool's matches.
        place_in_pools(&mut detections, &site_pools, &web_paths);
        process::place_workers_in_pools(&mut detections, &worker_pools, &worker_events);
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
        let posted_shells = self.posted_shells(&detections, post_only);
        detections.extend(posted_shells);
        let mut guessed = guessed_logins(&detections, FTP_GUESSING, logins, |_, _| true);
        guessed.extend(self.web_guessed(&detections, &web_logins, &rejections, &site_pools));
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
    /// The clients (see [`client_key`](keys::client_key)) and logins (see [`login_key`](keys::login_key))
    /// whose first request that got through is kept.
    login_seen: hashbrown::HashSet<(u64, u64)>,
    /// Per client (see [`client_key`](keys::client_key)) and minute, the accounts of the
    /// rejections noted (at most [`ACCOUNTS_PER_MINUTE`](logins::ACCOUNTS_PER_MINUTE)).
    rejections_noted: hashbrown::HashMap<(u64, i64), Vec<u64>>,
    /// The requests clients got through with.
    web_logins: Option<WebLogins>,
    /// The sites, pools and folders noted (hashed).
    pools_noted: hashbrown::HashSet<u64>,
    /// Rows timed by the server's local clock, or by a date alone.
    time_doubts: faultline_parser::w3c::TimeDoubts,
    /// The row being read has a date and no time of day: its matches feed
    /// no correlation counting within minutes.
    untimed_row: bool,
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
            time_doubts: Default::default(),
            untimed_row: false,
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
    /// The time window the analyst asked for: records outside it were not
    /// hunted.
    pub window: crate::Window,
    /// Files read some of whose rows were timed by the server's local clock
    /// and read as UTC (their detections' times are off by its offset), in
    /// discovery order.
    pub local_time_files: Vec<Arc<str>>,
    /// Files read some of whose rows had a date and no time of day (placed
    /// at midnight; no burst is counted of them), in discovery order.
    pub date_only_files: Vec<Arc<str>>,
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
            let mut doubts = faultline_parser::w3c::TimeDoubts::default();
            sinks.iter().for_each(|s| doubts.merge(s.time_doubts));
            if !doubts.is_empty() {
                part.1.time_doubts.push((Arc::clone(&file.path), doubts));
            }
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
    let (mut sources, mut events, mut doubted) = (Vec::new(), Vec::new(), Vec::new());
    for (_, p) in &mut pass.outputs {
        sources.append(&mut p.sources);
        events.append(&mut p.clock_events);
        doubted.append(&mut p.time_doubts);
    }
    let (local_time_files, date_only_files) = crate::resolve::doubted_files(&doubted);
    let store =
        crate::evidence::Store::new(sources, vec![crate::evidence::Kept { events, ..Default::default() }]);
    let (clock_steps, renames) = (crate::clock::clock_steps(&store), crate::renames::renames(&store));
    let window = crate::Window { from: scope.from, to: scope.to };
    HuntReport {
        detections: hunt.conclude(pass.outputs),
        reading: pass.reading,
        clock_steps,
        renames,
        window,
        local_time_files,
        date_only_files,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::SourceKind;
    use correlations::counted_values;
    use faultline_parser::RecordSink as _;
    use faultline_parser::winevent::EventOrigin;
    use logins::{LOGIN_WORDS, WebLogin};
    use natives::{logging_gaps, native};
    use process::WORKER_SHELLS;
    use quiet::Member;

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
        let d = Detection::new(&rule, "WEB01", time, evidence);
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

    /// The same capture's ERID 5419: the pool's notepad creating a thread
    /// in the SYSTEM one, known as the pool's only from its start, read in
    /// another chunk. A thread a user's program creates, and the worker's
    /// own (the bundled rule's), are no such detection.
    #[test]
    fn a_thread_an_app_pools_program_creates_in_another_process_is_a_detection() {
        let hunt = bundled_hunt();
        let scope = Scope::default();
        let placed = |mut e: WinEvent, record: u64| {
            e.computer = Some(Arc::from("IEWIN7"));
            e.time = Timestamp::from_parts(1_700_000_000 + record as i64, 0);
            e.record_id = RecordId::new(record);
            e
        };
        let start = |guid: &str, user: &str, image: &str, record: u64| {
            placed(
                process(&[
                    ("ProcessGuid", guid),
                    ("Image", image),
                    ("User", user),
                    ("ParentProcessGuid", "{P}"),
                ]),
                record,
            )
        };
        let thread = |source: &str, image: &str, record: u64| {
            placed(
                named_event(
                    "Microsoft-Windows-Sysmon",
                    8,
                    &[
                        ("SourceProcessGuid", source),
                        ("SourceImage", image),
                        ("TargetImage", "C:\\Windows\\System32\\notepad.exe"),
                    ],
                ),
                record,
            )
        };
        let injections = |chunks: Vec<Vec<WinEvent>>| {
            native_detections(&hunt, &scope, chunks, "pool-identity-remote-thread")
        };
        let notepad = "C:\\Windows\\System32\\notepad.exe";
        let w3wp = "C:\\Windows\\System32\\inetsrv\\w3wp.exe";
        let pool = start("{A}", "IIS APPPOOL\\DefaultAppPool", notepad, 5408);
        let found = injections(vec![vec![thread("{A}", notepad, 5419)], vec![pool.clone()]]);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].evidence.record, RecordId::new(5419));
        assert_eq!(found[0].app_pool.as_deref(), Some("DefaultAppPool"));
        assert!(
            found[0]
                .evidence
                .summary
                .starts_with("a thread created by a program running as IIS APPPOOL\\DefaultAppPool"),
            "{}",
            found[0].evidence.summary
        );
        let user = start("{U}", "CONTOSO\\alice", notepad, 1);
        assert!(injections(vec![vec![user, thread("{U}", notepad, 2)]]).is_empty(), "a user's program");
        let worker = start("{W}", "IIS APPPOOL\\DefaultAppPool", w3wp, 3);
        assert!(
            injections(vec![vec![worker, thread("{W}", w3wp, 4)]]).is_empty(),
            "the worker's: the rule's"
        );
    }

    /// The same capture's ERID 5411: the worker creating a thread in the
    /// notepad it started names no account (Sysmon 8); the notepad's start
    /// (ERID 5408, read in another chunk) names the worker's pool on its
    /// parent's command line, and the rule's detection takes it. Another
    /// worker process, or the same process id on another host, names none.
    #[test]
    fn the_workers_thread_takes_the_pool_another_event_of_the_worker_names() {
        let hunt = bundled_hunt();
        let scope = Scope::default();
        let on = |host: &str, mut e: WinEvent, record: u64| {
            e.channel = Some(Arc::from("Microsoft-Windows-Sysmon/Operational"));
            e.computer = Some(Arc::from(host));
            e.time = Timestamp::from_parts(1_558_885_676 + record as i64, 0);
            e.record_id = RecordId::new(record);
            e
        };
        let w3wp = "C:\\Windows\\System32\\inetsrv\\w3wp.exe";
        let child = |host: &str, worker: &str| {
            let e = process(&[
                ("ProcessGuid", "{N}"),
                ("Image", "C:\\Windows\\System32\\notepad.exe"),
                ("User", "NT AUTHORITY\\NETWORK SERVICE"),
                ("ParentProcessGuid", worker),
                ("ParentImage", w3wp),
                (
                    "ParentCommandLine",
                    "c:\\windows\\system32\\inetsrv\\w3wp.exe -ap \"ShopPool\" -v \"v4.0\"",
                ),
            ]);
            on(host, e, 5408)
        };
        let thread = |host: &str| {
            let e = named_event(
                "Microsoft-Windows-Sysmon",
                8,
                &[
                    ("SourceProcessGuid", "{W}"),
                    ("SourceImage", w3wp),
                    ("TargetProcessGuid", "{N}"),
                    ("TargetImage", "C:\\Windows\\System32\\notepad.exe"),
                ],
            );
            on(host, e, 5411)
        };
        let pools = |chunks: Vec<Vec<WinEvent>>| -> Vec<Option<String>> {
            native_detections(&hunt, &scope, chunks, "58a6cbdd-0b31-53a8-b02e-d18d015a3cbf")
                .into_iter()
                .map(|d| d.app_pool)
                .collect()
        };
        let shop = Some("ShopPool".to_string());
        assert_eq!(pools(vec![vec![thread("IEWIN7")], vec![child("IEWIN7", "{W}")]]), vec![shop]);
        assert_eq!(pools(vec![vec![thread("IEWIN7"), child("IEWIN7", "{V}")]]), vec![None], "another worker");
        assert_eq!(pools(vec![vec![thread("IEWIN7"), child("WEB02", "{W}")]]), vec![None], "another host");
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

    /// A record two silent rules match keeps its summary once, both
    /// matches pointing at it.
    #[test]
    fn a_record_two_silent_rules_match_keeps_one_summary() {
        let base = |name: &str| {
            format!(
                "title: {name}\nname: {name}\nlogsource:\n    category: process_creation\n    product: windows\n\
                 detection:\n    selection:\n        Image|endswith: '\\cmd.exe'\n    condition: selection\nlevel: low\n\
                 ---\ntitle: {name} burst\ncorrelation:\n    type: event_count\n    rules: [{name}]\n    \
                 group-by: [host]\n    timespan: 1h\n    condition:\n        gte: 100\nlevel: medium\n---\n"
            )
        };
        let mut loaded = LoadReport::default();
        loaded.add_text(&(base("t_one") + &base("t_two")), std::path::Path::new("rules.yml"));
        let hunt = Hunt::new(loaded.finish());
        assert_eq!(hunt.rules.iter().filter(|r| r.silent).count(), 2, "{:?}", hunt.rules);
        let scope = Scope::default();
        let mut sink =
            HuntSink::new(&hunt, SourceFile::synthetic(0, "Sysmon.evtx", SourceKind::Evtx), &scope);
        let mut e =
            process(&[("Image", "C:\\Windows\\System32\\cmd.exe"), ("CommandLine", "cmd.exe /c whoami")]);
        e.computer = Some(Arc::from("WEB01"));
        e.channel = Some(Arc::from("Microsoft-Windows-Sysmon/Operational"));
        e.time = Timestamp::from_parts(1_700_000_000, 0);
        let Ok(()) = sink.event(e);
        let (_, pending) = sink.finish();
        let quiets = &pending.quiet;
        assert_eq!(quiets.iter().map(|q| q.matches.len()).sum::<usize>(), 2);
        let q = &quiets[0];
        assert_eq!(q.matches[0].summary, q.matches[1].summary, "one summary");
        assert_eq!(q.text.matches("whoami").count(), 1, "{}", q.text);
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
