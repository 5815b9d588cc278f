//! `faultline hunt`: Sigma rules over the evidence, detections grouped by
//! level and rule, with the load report that says which rules run and why
//! the others do not.

use std::collections::BTreeMap;
use std::io::Write;

use faultline_analyzer::hunting::{Detection, Hunt, HuntReport, hunt};
use faultline_hunt::{Level, LoadReport};
use serde::Serialize;

use crate::args::{GlobalArgs, HuntArgs, HuntFormat, RulePack};
use crate::config::{Zone, output, read_config, scope, warn_unused_corrections};
use crate::exit::Exit;
use crate::progress::Bar;
use crate::unreadable::report_reading;

/// The rules `args` name, with what was skipped.
fn load(args: &HuntArgs) -> anyhow::Result<LoadReport> {
    let mut report = LoadReport::default();
    if args.pack == RulePack::Bundled {
        report.add_bundled();
    }
    for dir in &args.rules {
        report.add_path(dir, args.with_deprecated)?;
    }
    Ok(report.finish())
}

pub fn run(global: &GlobalArgs, args: &HuntArgs) -> anyhow::Result<Exit> {
    // The listings are text, or (the rules) JSON: a format they do not
    // take is said, not silently ignored.
    let listing = match (args.show_mapping, args.list_rules) {
        (true, _) => Some(("--show-mapping", "text", matches!(args.format, HuntFormat::Text))),
        (false, true) => Some((
            "--list-rules",
            "text or JSON",
            !matches!(args.format, HuntFormat::Csv | HuntFormat::Markdown),
        )),
        (false, false) => None,
    };
    if let Some((flag, written, false)) = listing {
        let format = clap::ValueEnum::to_possible_value(&args.format);
        let _ = writeln!(
            std::io::stderr().lock(),
            "warning: {flag} is written as {written}; --format {} does not apply",
            format.as_ref().map_or("", |v| v.get_name())
        );
    }
    if args.show_mapping {
        let mut out = output(global.output.as_ref())?;
        mapping(&mut out)?;
        out.flush()?;
        return Ok(Exit::Ok);
    }
    let loaded = load(args)?;
    let mut out = output(global.output.as_ref())?;
    if args.list_rules {
        list(&mut out, &loaded, args.verbose, args.format)?;
        out.flush()?;
        return Ok(Exit::Ok);
    }
    // A batch job's `--fail-on` would pass on a hunt that ran nothing.
    if loaded.rules.is_empty() {
        anyhow::bail!(
            "no rules to hunt with: the bundled pack is off and the --rules folders gave none ({} skipped; \
             --list-rules --verbose says why)",
            loaded.skipped.len()
        );
    }
    let skipped = loaded.skipped.clone();
    let rules = args.clients.apply(Hunt::new(loaded));
    let bar = Bar::new(global.quiet);
    let scope = scope(&args.range, &args.reading);
    let mut report = hunt(&args.paths, &read_config(&args.reading), &scope, &rules, &bar);
    bar.finish();
    warn_unused_corrections(&scope);
    // Judged on everything found: `--min-level` chooses what is shown, not
    // what a batch job fails on.
    let failed =
        args.fail_on.is_some_and(|level| report.detections.iter().any(|d| d.rule.meta.level >= level));
    let before = report.detections.len();
    report.detections.retain(|d| d.rule.meta.level >= args.min_level);
    let hidden = before - report.detections.len();
    let load = Loaded { loaded: rules.rules().len() + rules.correlations().count(), skipped: &skipped };
    match args.format {
        HuntFormat::Text => text(&mut out, &report, &load, (args, hidden), &args.tz)?,
        HuntFormat::Json => {
            let json = Json {
                rules: &load,
                window: report.window,
                reading: ReadingJson::of(&report),
                hidden: Hidden { below: args.min_level.name(), count: hidden },
                renames: &report.renames,
                clock_steps: &report.clock_steps,
                detections: &report.detections,
            };
            serde_json::to_writer_pretty(&mut out, &json)?;
            writeln!(out)?;
        }
        HuntFormat::Jsonl => {
            for d in &report.detections {
                serde_json::to_writer(&mut out, d)?;
                writeln!(out)?;
            }
        }
        HuntFormat::Csv => csv(&mut out, &report.detections, &args.tz)?,
        HuntFormat::Markdown => markdown(&mut out, &report, (args, hidden), &args.tz)?,
    }
    out.flush()?;
    if let Some(exit) = report_reading(&report.reading)? {
        return Ok(exit);
    }
    if failed {
        return Ok(Exit::Findings);
    }
    Ok(Exit::Ok)
}

/// The field mapping, from the tables the rules are read with.
fn mapping(out: &mut impl Write) -> std::io::Result<()> {
    use faultline_hunt::record::{SECURITY_PROCESS_NAMES, WEB_MAPPING};
    use faultline_hunt::rule::LOG_SOURCES;
    writeln!(
        out,
        "Web server rules (logsource category webserver): W3C rows, HTTP.sys error rows, FREB traces, and the \
         request an ASP.NET 1309 event names (its URL as cs-uri-stem, cs-uri-query and cs-host, its client as \
         c-ip; it names no method or status, so a rule that asks for one never matches it)"
    )?;
    writeln!(out)?;
    let width = WEB_MAPPING.iter().map(|f| f.name.len()).max().unwrap_or(0);
    for f in &WEB_MAPPING {
        writeln!(out, "  {:width$}  W3C: {}", f.name, f.w3c)?;
        writeln!(out, "  {:width$}  HTTP.sys: {}", "", f.httperr.unwrap_or("not given"))?;
        writeln!(out, "  {:width$}  FREB: {}", "", f.freb.unwrap_or("not given"))?;
        if !f.spellings.is_empty() {
            writeln!(out, "  {:width$}  also spelled {}", "", f.spellings.join(", "))?;
        }
    }
    writeln!(out)?;
    writeln!(
        out,
        "FTP rules (logsource category ftp): the rows of IIS's FTP logs: every row in an FTPSVC<n> or \
         MSFTPSVC<n> folder, none in a W3SVC<n> one, elsewhere a log with x-session or x-fullpath, a \
         command after its [session] (IIS 4 to 6), or an FTP command to port 21 or 990 with no HTTP \
         version; the fields above as W3C gives them, the command as cs-method \
         (without its session), the FTP reply as sc-status, and x-fullpath as a form of cs-uri-stem. Web \
         server rules do not read them."
    )?;
    writeln!(out)?;
    writeln!(out, "Windows rules (product windows), by log source: the events read")?;
    writeln!(out)?;
    let named = |s: &faultline_hunt::rule::LogSource| match (s.category, s.service) {
        (Some(c), _) => format!("category {c}"),
        (None, Some(s)) => format!("service {s}"),
        (None, None) => String::new(),
    };
    let width = LOG_SOURCES.iter().map(|s| named(s).len()).max().unwrap_or(0);
    for s in LOG_SOURCES {
        // One channel once, with its ids.
        let mut events: Vec<(&str, Vec<String>)> = Vec::new();
        for (channel, id) in s.events {
            let id = id.map_or_else(|| "every event".to_string(), |id| id.to_string());
            match events.iter_mut().find(|(c, _)| c == channel) {
                Some((_, ids)) => ids.push(id),
                None => events.push((channel, vec![id])),
            }
        }
        let events: Vec<String> = events.iter().map(|(c, ids)| format!("{c}: {}", ids.join(", "))).collect();
        writeln!(out, "  {:width$}  {}", named(s), events.join("; "))?;
    }
    writeln!(out, "  {:width$}  every event", "(neither)")?;
    writeln!(out)?;
    writeln!(
        out,
        "Every event gives EventID, Channel, Provider_Name, Computer and its EventData and UserData names;"
    )?;
    let aliases: Vec<String> =
        SECURITY_PROCESS_NAMES.iter().map(|(security, sysmon)| format!("{security} as {sysmon}")).collect();
    writeln!(out, "Security 4688 also gives {} (field names are read without case).", aliases.join(", "))?;
    writeln!(
        out,
        "SQL Server 18456 (provider MSSQL*) also gives its unnamed values as login, reason and client (the \
         address of [CLIENT: ...]); ASP.NET's web events (provider ASP.NET*: 1309, 1310, 1316...) give \
         request_url, request_path and client (the user host address), found by their form; other unnamed \
         values are each a value of Data."
    )?;
    Ok(())
}

/// The load report as JSON gives it.
#[derive(Serialize)]
struct Loaded<'a> {
    loaded: usize,
    #[serde(serialize_with = "skipped_json")]
    skipped: &'a [faultline_hunt::Skipped],
}

fn skipped_json<S: serde::Serializer>(list: &&[faultline_hunt::Skipped], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(list.iter().map(SkippedRow::of))
}

/// A skipped rule as JSON gives it.
#[derive(Serialize)]
struct SkippedRow<'a> {
    path: String,
    title: Option<&'a str>,
    reason: &'a str,
}

impl<'a> SkippedRow<'a> {
    fn of(k: &'a faultline_hunt::Skipped) -> Self {
        SkippedRow {
            path: k.path.to_string_lossy().into_owned(),
            title: k.title.as_deref(),
            reason: &k.reason,
        }
    }
}

#[derive(Serialize)]
struct Json<'a> {
    rules: &'a Loaded<'a>,
    /// The window asked for (`--from`, `--to`), when one was.
    #[serde(skip_serializing_if = "faultline_analyzer::Window::is_open")]
    window: faultline_analyzer::Window,
    /// What was read: evidence a rule never saw shows here.
    reading: ReadingJson<'a>,
    /// Detections `--min-level` left out.
    #[serde(skip_serializing_if = "Hidden::is_none")]
    hidden: Hidden,
    /// Machines renamed: detections under their names are one machine's.
    renames: &'a [faultline_analyzer::renames::Rename],
    /// Steps of the hosts' clocks: detections around one are out of order.
    clock_steps: &'a [faultline_analyzer::clock::ClockStep],
    detections: &'a [Detection],
}

/// How many detections `--min-level` left out, and below which level.
#[derive(Serialize)]
struct Hidden {
    below: &'static str,
    count: usize,
}

impl Hidden {
    fn is_none(&self) -> bool {
        self.count == 0
    }
}

/// The read's counts in hunt's JSON.
#[derive(Serialize)]
struct ReadingJson<'a> {
    files: usize,
    rejected: u64,
    unreadable: Vec<Unreadable<'a>>,
    /// Files whose evidence is partly gone, with the first reason.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    lost: Vec<Unreadable<'a>>,
    /// Hosts known only by their folder's name.
    folder_named_hosts: Vec<&'a str>,
    /// Files whose rows were timed by the server's local clock, read as UTC.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    local_time: &'a [std::sync::Arc<str>],
    /// Files whose rows had a date and no time of day.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    date_only: &'a [std::sync::Arc<str>],
}

#[derive(Serialize)]
struct Unreadable<'a> {
    path: &'a str,
    reason: &'a str,
}

impl<'a> ReadingJson<'a> {
    fn of(report: &'a HuntReport) -> Self {
        let r = &report.reading;
        ReadingJson {
            files: r.parsed,
            rejected: r.rejected,
            unreadable: r.unreadable.iter().map(|(path, reason)| Unreadable { path, reason }).collect(),
            lost: r.lost.iter().map(|(path, reason)| Unreadable { path, reason }).collect(),
            folder_named_hosts: r.folder_named_hosts.iter().map(|h| h.name.as_str()).collect(),
            local_time: &report.local_time_files,
            date_only: &report.date_only_files,
        }
    }
}

/// The rules, then the native detectors the bundled pack brings (written
/// in code, each named `native:` in a detection's origin), then the load
/// report.
/// With `--format json`, one object: the rules' metadata as detections
/// carry it, and every skipped rule with why; with `jsonl`, a rule a line.
fn list(out: &mut dyn Write, loaded: &LoadReport, verbose: bool, format: HuntFormat) -> anyhow::Result<()> {
    let hunt = Hunt::new(loaded.clone());
    let natives = hunt.native_detectors().map(|r| &r.meta);
    let rules = loaded.rules.iter().map(|r| &r.meta).chain(loaded.correlations.iter().map(|c| &c.meta));
    let all: Vec<&faultline_hunt::rule::Meta> = rules.chain(natives).collect();
    match format {
        HuntFormat::Json => {
            #[derive(Serialize)]
            struct Listing<'a> {
                rules: &'a [&'a faultline_hunt::rule::Meta],
                #[serde(serialize_with = "skipped_json")]
                skipped: &'a [faultline_hunt::Skipped],
            }
            serde_json::to_writer_pretty(&mut *out, &Listing { rules: &all, skipped: &loaded.skipped })?;
            writeln!(out)?;
            return Ok(());
        }
        HuntFormat::Jsonl => {
            for r in &all {
                serde_json::to_writer(&mut *out, r)?;
                writeln!(out)?;
            }
            // With `--verbose`, then every skipped rule, a line each.
            #[derive(Serialize)]
            struct Skipped<'a> {
                skipped: SkippedRow<'a>,
            }
            for k in loaded.skipped.iter().filter(|_| verbose) {
                serde_json::to_writer(&mut *out, &Skipped { skipped: SkippedRow::of(k) })?;
                writeln!(out)?;
            }
            return Ok(());
        }
        HuntFormat::Text | HuntFormat::Csv | HuntFormat::Markdown => {}
    }
    for r in all {
        writeln!(
            out,
            "{:<13} {:<46} {}  [{}]  by {}",
            r.level.name(),
            r.id,
            crate::style::sanitize(&r.title),
            r.techniques.join(", "),
            r.author.as_deref().unwrap_or("-")
        )?;
    }
    writeln!(
        out,
        "\nloaded {}, skipped {}; {} native detectors",
        loaded.rules.len() + loaded.correlations.len(),
        loaded.skipped.len(),
        hunt.native_detectors().count()
    )?;
    if verbose {
        for k in &loaded.skipped {
            writeln!(
                out,
                "  skipped {} ({}): {}",
                k.path.display(),
                k.title.as_deref().map_or_else(|| "-".to_string(), crate::style::sanitize),
                k.reason
            )?;
        }
    }
    Ok(())
}

/// What a hunt's report says before its detections: the window, evidence
/// lost, hosts named by folders, times in doubt, renamed machines and
/// stepped clocks.
fn notes(report: &HuntReport, zone: &Zone) -> Vec<String> {
    let reading = &report.reading;
    let lost: Vec<(String, String)> = reading
        .lost
        .iter()
        .map(|(path, why)| (crate::analyze::file_name(path).to_string(), why.clone()))
        .collect();
    let folder_named: Vec<_> = reading.folder_named_hosts.iter().cloned().collect();
    crate::analyze::window_note(report.window, None, &|t| zone.time(t))
        .into_iter()
        .chain(crate::analyze::lost_note(&lost))
        .chain(crate::analyze::folder_named(&folder_named))
        .chain(crate::analyze::time_notes_of_paths(&report.local_time_files, &report.date_only_files))
        .chain(report.header_notes(&|t| zone.time(t)))
        .collect()
}

/// `hidden`: detections `--min-level` left out.
fn text(
    out: &mut dyn Write,
    report: &HuntReport,
    load: &Loaded<'_>,
    (args, hidden): (&HuntArgs, usize),
    zone: &Zone,
) -> anyhow::Result<()> {
    let reading = &report.reading;
    let plural = |n: u64| if n == 1 { "" } else { "s" };
    // Records that could not be read are evidence a rule never saw.
    let rejected = match reading.rejected {
        0 => String::new(),
        n => format!(", {n} record{} unreadable (`faultline scan` names them)", plural(n)),
    };
    writeln!(
        out,
        "faultline hunt: {} rules loaded, {} skipped{}; {} file{} read{rejected}; times in {}",
        load.loaded,
        load.skipped.len(),
        if load.skipped.is_empty() || args.verbose { "" } else { " (--verbose says why)" },
        reading.parsed,
        plural(reading.parsed as u64),
        zone.name()
    )?;
    for note in notes(report, zone) {
        writeln!(out, "{}", crate::style::sanitize(&note))?;
    }
    if args.verbose {
        for k in load.skipped {
            let title =
                k.title.as_deref().map_or(String::new(), |t| format!(" ({})", crate::style::sanitize(t)));
            writeln!(out, "  skipped {}{title}: {}", k.path.display(), k.reason)?;
        }
    }
    if reading.parsed == 0 {
        writeln!(out, "\n{}", crate::analyze::NOTHING_READ)?;
        return Ok(());
    }
    let not_shown = match hidden {
        0 => String::new(),
        n => format!(" ({n} detection{} below {} not shown)", plural(n as u64), args.min_level.name()),
    };
    if report.detections.is_empty() {
        match hidden {
            0 => writeln!(out, "\nNo detections.")?,
            _ => writeln!(out, "\nNo detections at {} or above{not_shown}.", args.min_level.name())?,
        }
        return Ok(());
    }
    groups(out, &report.detections, zone)?;
    writeln!(out, "\n{}{not_shown}", totals(&report.detections))?;
    Ok(())
}

/// `12 detections: 1 critical, 3 high, 8 medium`, and how many of them
/// were lowered.
fn totals(detections: &[Detection]) -> String {
    let mut by_level: BTreeMap<std::cmp::Reverse<Level>, usize> = BTreeMap::new();
    for d in detections {
        *by_level.entry(std::cmp::Reverse(d.rule.meta.level)).or_default() += 1;
    }
    let levels: Vec<String> = by_level.iter().map(|(l, n)| format!("{n} {}", l.0.name())).collect();
    let n = detections.len();
    let mut line = format!("{n} detection{}: {}", if n == 1 { "" } else { "s" }, levels.join(", "));
    let lowered = detections.iter().filter(|d| d.lowered_from.is_some()).count();
    if lowered > 0 {
        line.push_str(&format!(" ({lowered} lowered: probes a site answering every path answered 200)"));
    }
    line
}

/// The detections of one rule.
pub struct RuleHits<'a> {
    /// In time order.
    pub list: Vec<&'a Detection>,
    /// The hosts, sorted.
    pub hosts: Vec<&'a str>,
}

impl<'a> RuleHits<'a> {
    /// The first detection.
    pub fn first(&self) -> &'a Detection {
        self.list[0]
    }

    /// The last detection.
    pub fn last(&self) -> &'a Detection {
        self.list[self.list.len() - 1]
    }
}

/// Detections per rule, by level (highest first), then rule id.
pub fn by_rule(detections: &[Detection]) -> Vec<RuleHits<'_>> {
    let mut groups: BTreeMap<(std::cmp::Reverse<Level>, &str), Vec<&Detection>> = BTreeMap::new();
    for d in detections {
        groups.entry((std::cmp::Reverse(d.rule.meta.level), d.rule.meta.id.as_str())).or_default().push(d);
    }
    groups
        .into_values()
        .map(|list| {
            let mut hosts: Vec<&str> = list.iter().map(|d| d.host.as_str()).collect();
            hosts.sort_unstable();
            hosts.dedup();
            RuleHits { list, hosts }
        })
        .collect()
}

/// A host as the text names it: the JSON's `-` (no record or folder names
/// one) in words.
fn host_in_words(host: &str) -> &str {
    if host == faultline_analyzer::resolve::UNKNOWN_HOST { "an unnamed host" } else { host }
}

/// Detections grouped by level (highest first) and rule: count, hosts,
/// first and last evidence.
pub fn groups(out: &mut dyn Write, detections: &[Detection], zone: &Zone) -> anyhow::Result<()> {
    let mut level = None;
    for hits in by_rule(detections) {
        let (first, last) = (hits.first(), hits.last());
        let rule = &first.rule.meta;
        if level != Some(rule.level) {
            writeln!(out, "\n{}", rule.level.name().to_uppercase())?;
            level = Some(rule.level);
        }
        writeln!(
            out,
            "  {}  [{}]  by {}",
            crate::style::sanitize(&rule.title),
            rule.techniques.join(", "),
            crate::style::sanitize(rule.author.as_deref().unwrap_or("-"))
        )?;
        let n = hits.list.len();
        // A correlation's detection stands for the records up to its end.
        let until = hits.list.iter().map(|d| d.end.unwrap_or(d.time)).max().unwrap_or(last.time);
        let when = if until == first.time {
            format!("at {}", zone.time(first.time))
        } else {
            format!("from {} to {}", zone.time(first.time), zone.time(until))
        };
        // Per host when several: which host the first and last lines are on
        // is then not the whole story.
        let hosts = if hits.hosts.len() == 1 {
            hits.hosts.iter().map(|h| host_in_words(h)).collect()
        } else {
            let mut per: BTreeMap<&str, usize> = BTreeMap::new();
            for d in &hits.list {
                *per.entry(host_in_words(&d.host)).or_default() += 1;
            }
            let shown: Vec<String> = per.iter().take(6).map(|(h, k)| format!("{h} ({k})")).collect();
            let more = per.len().saturating_sub(6);
            let more = if more > 0 { format!(" and {more} more hosts") } else { String::new() };
            format!("{}{more}", shown.join(", "))
        };
        // Host names and paths come from the evidence, as the summary does.
        let hosts = crate::style::sanitize(&hosts);
        writeln!(out, "    {n} detection{} on {hosts} {when}", if n == 1 { "" } else { "s" })?;
        for (what, d) in [("first", first), ("last", last)].into_iter().take(if n == 1 { 1 } else { 2 }) {
            let at = crate::style::sanitize(&d.evidence.place());
            writeln!(out, "    {what}: {at}  {}", crate::style::sanitize(&d.evidence.summary))?;
        }
    }
    Ok(())
}

/// One row per detection, its time in the zone asked for (`--tz`) with its
/// offset, as the timeline's CSV writes it.
fn csv(out: &mut dyn Write, detections: &[Detection], zone: &Zone) -> anyhow::Result<()> {
    let field = faultline_tables::csv_field;
    writeln!(out, "time,level,rule_id,title,author,techniques,host,site,app_pool,path,line,record,summary")?;
    for d in detections {
        writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{},{}",
            zone.rfc3339(d.time),
            d.rule.meta.level.name(),
            field(&d.rule.meta.id),
            field(&d.rule.meta.title),
            field(d.rule.meta.author.as_deref().unwrap_or("")),
            field(&d.rule.meta.techniques.join(",")),
            field(&d.host),
            field(d.site.as_deref().unwrap_or("")),
            field(d.app_pool.as_deref().unwrap_or("")),
            field(&d.evidence.path),
            d.evidence.line.map(|l| l.to_string()).unwrap_or_default(),
            d.evidence.record.map(|r| r.to_string()).unwrap_or_default(),
            field(&d.evidence.summary),
        )?;
    }
    Ok(())
}

/// `hidden`: detections `--min-level` left out.
fn markdown(
    out: &mut dyn Write,
    report: &HuntReport,
    (args, hidden): (&HuntArgs, usize),
    zone: &Zone,
) -> anyhow::Result<()> {
    writeln!(out, "# Detections\n")?;
    let detections = &report.detections;
    if report.reading.parsed == 0 {
        writeln!(out, "{}", crate::analyze::NOTHING_READ)?;
        return Ok(());
    }
    let notes = notes(report, zone);
    for note in &notes {
        writeln!(out, "> {}", crate::markdown::escape(note))?;
    }
    if hidden > 0 {
        let plural = if hidden == 1 { "" } else { "s" };
        writeln!(
            out,
            "> {hidden} detection{plural} below {} not shown (`--min-level`).",
            args.min_level.name()
        )?;
    }
    if !notes.is_empty() || hidden > 0 {
        writeln!(out)?;
    }
    if detections.is_empty() {
        writeln!(out, "No detections.")?;
        return Ok(());
    }
    let cell = crate::markdown::escape;
    for level in Level::ALL.iter().rev() {
        let at: Vec<&Detection> = detections.iter().filter(|d| d.rule.meta.level == *level).collect();
        if at.is_empty() {
            continue;
        }
        writeln!(out, "## {}\n", level.name())?;
        writeln!(out, "| time ({}) | rule | author | techniques | host | evidence |", zone.name())?;
        writeln!(out, "|---|---|---|---|---|---|")?;
        for d in at {
            writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} {} |",
                zone.time(d.time),
                cell(&d.rule.meta.title),
                cell(d.rule.meta.author.as_deref().unwrap_or("-")),
                cell(&d.rule.meta.techniques.join(", ")),
                cell(&d.host),
                crate::markdown::table_code(&d.evidence.place()),
                cell(&d.evidence.summary)
            )?;
        }
        writeln!(out)?;
    }
    Ok(())
}
