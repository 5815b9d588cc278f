//! Steps of a host's clock (Kernel-General 1, Security 4616): the events a
//! host timed around a step are not in the order they happened, nor in
//! step with other hosts'. A clock set back times events again in a
//! stretch it already used: what it timed there may have been written
//! before the step, by the clock as it was. A virtual machine whose
//! hardware clock keeps another time zone's time than Windows (its host's)
//! is set by whole hours minutes after every boot, and what it logged
//! since the boot is that many hours off.

use faultline_parser::winevent::{CLOCK_STEP, clock_set};
use faultline_parser::{RecordId, Span, Timestamp};
use serde::Serialize;

use crate::describe::duration;
use crate::detect::kinds::{BOOT_MARKS, BOOTED, CLOCK_SET, TIME_SERVICE_SET};
use crate::evidence::Store;
use crate::finding::{Evidence, Finding};

/// How close two events recording one setting of the clock are (Windows
/// writes Kernel-General 1 and, when audited, Security 4616 for each).
const SAME_SETTING: Span = Span::secs(2);

/// How long after a boot the clock is set right (by the time service, or
/// a virtual machine's guest tools).
const BOOT_TO_SETTING: Span = Span::mins(10);

/// How far from whole quarter hours a step at boot may be and still be a
/// hardware clock kept in another time zone: the events recording it are
/// a second or two apart from the step itself.
const ZONE_SLACK: i64 = 5;

/// One step of one host's clock.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ClockStep {
    /// The host, as findings name it.
    pub host: String,
    /// When the clock was set, by the clock as set.
    pub time: Timestamp,
    /// The time the clock showed.
    pub from: Timestamp,
    /// The time it was set to.
    pub to: Timestamp,
    /// How far it moved, in seconds (negative: set back).
    pub step_seconds: i64,
    /// The program (and account) that set it, when the event names it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// For a clock set back minutes after a boot: the boot, by the clock
    /// as it was. What the host timed from then to `from` came from that
    /// clock.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<Timestamp>,
    /// Set minutes after a boot by whole quarter hours: the hardware clock
    /// likely keeps another time zone's time than Windows does (a virtual
    /// machine given its host's clock).
    pub hardware_clock_in_another_zone: bool,
    /// The step that set the clock about as far the other way within the
    /// hour (by the clock this step set): this step set it wrong, and what
    /// the host timed from `to` to [`Undone::from`] is off by it against
    /// the times before and after.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub undone: Option<Undone>,
    /// This step undoes the one at this time (which names both).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub undoes: Option<Timestamp>,
    /// The events recording it.
    pub evidence: Vec<Evidence>,
    /// Where those events are in their logs (source, record id): what is
    /// earlier in the same log was written before the step.
    #[serde(skip)]
    written: Vec<(u32, RecordId)>,
}

/// The step that undid one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Undone {
    /// When, by the clock as set right.
    pub time: Timestamp,
    /// The time the clock showed before it was set right.
    pub from: Timestamp,
}

/// How long a wrong setting may last and still be paired with the step
/// that undoes it, by the wrong clock.
const UNDONE_WITHIN: Span = Span::hours(1);

impl ClockStep {
    /// How far the clock moved (negative: set back).
    pub fn step(&self) -> Span {
        self.to - self.from
    }

    /// The times a clock set back may have given events before the step:
    /// from the boot it ran since, when the step came minutes after one,
    /// else from the time it was set to (events timed from then on may
    /// have been written before the step or after it). `None` for a clock
    /// set forward, which leaves a gap instead.
    pub fn timed_before(&self) -> Option<(Timestamp, Timestamp)> {
        (self.to < self.from && self.undone.is_none()).then_some((self.since.unwrap_or(self.to), self.from))
    }

    /// The times the host gave events while its clock was off: from the
    /// boot to a step back that set it right, or, for a step undone
    /// within the hour, from this step to the one that undid it.
    fn off(&self) -> Option<(Timestamp, Timestamp)> {
        match &self.undone {
            Some(u) => Some((self.to.min(u.from), self.to.max(u.from))),
            None => self.timed_before(),
        }
    }

    /// The step in a sentence, times as `time` writes them.
    pub fn prose(&self, time: &dyn Fn(Timestamp) -> String) -> String {
        let by = self.by.as_deref().map(|b| format!(" by {b}")).unwrap_or_default();
        // To the minute: a clock set back nine hours reads so, not as
        // 8 h 59 min because the events are a second apart.
        let how_far = duration(Span::mins((self.step().abs().as_secs() + 30) / 60));
        let by = if self.hardware_clock_in_another_zone {
            format!(
                "{by}, minutes after a boot and by whole hours (its hardware clock likely keeps another time \
                 zone's time than Windows, as a virtual machine given its host's clock does)"
            )
        } else {
            by
        };
        let host = &self.host;
        let at = time(self.time);
        if let Some(u) = &self.undone {
            let (set, again, off) = if self.step() < Span(0) {
                ("back", "forward", "behind")
            } else {
                ("forward", "back", "ahead of")
            };
            return format!(
                "{host}'s clock was set {set} {how_far} at {at}{by}, and {again} again at {} (by the clock as \
                 set right): what it timed from {} to {} is about {how_far} {off} the times before and after.",
                time(u.time),
                time(self.to),
                time(u.from)
            );
        }
        match (self.timed_before(), self.since) {
            (Some((since, until)), Some(_)) => format!(
                "{host}'s clock was set back {how_far} at {at}{by}: what it timed from {} to {} (since the \
                 boot) came from the clock as it was, {how_far} ahead.",
                time(since),
                time(until)
            ),
            (Some((from, until)), None) => format!(
                "{host}'s clock was set back {how_far} at {at}{by}: events it timed from {} to {} may have \
                 been written before then, by the clock as it was.",
                time(from),
                time(until)
            ),
            (None, _) => format!(
                "{host}'s clock was set forward {how_far} at {at}{by}: it timed nothing from {} to {} (the \
                 machine slept or was paused, or its clock was behind).",
                time(self.from),
                time(self.to),
            ),
        }
    }

    /// Whether a finding on this host from `start` to `end` rests on times
    /// the step makes doubtful: a window meeting the times a clock set
    /// back may have given before the step, or one across a step forward.
    fn doubts(&self, start: Timestamp, end: Timestamp) -> bool {
        match self.off() {
            Some((from, until)) => start <= until && end >= from,
            None => self.undoes.is_none() && start < self.time && end >= self.time,
        }
    }
}

/// How many steps forward of one host the notes list one by one; more are
/// summed up in one note (a laptop steps forward at every wake).
const LISTED_FORWARD: usize = 3;

/// The steps as notes for a report's header, times as `time` writes them:
/// every step back, and the steps forward of a host one by one when they
/// are few, else in one note.
pub fn notes(steps: &[ClockStep], time: &dyn Fn(Timestamp) -> String) -> Vec<String> {
    let mut notes = Vec::new();
    let mut summed: Vec<&str> = Vec::new();
    // A step another undid is said with it.
    let steps: Vec<&ClockStep> = steps.iter().filter(|s| s.undoes.is_none()).collect();
    for s in steps.iter().copied() {
        let forward: Vec<&ClockStep> =
            steps.iter().copied().filter(|o| o.host == s.host && o.off().is_none()).collect();
        if s.off().is_some() || forward.len() <= LISTED_FORWARD {
            notes.push(s.prose(time));
        } else if !summed.contains(&s.host.as_str()) {
            summed.push(&s.host);
            let shortest = forward.iter().map(|o| o.step()).min().unwrap_or_default();
            let longest = forward.iter().map(|o| o.step()).max().unwrap_or_default();
            notes.push(format!(
                "{}'s clock was set forward {} times from {} to {}, by {} to {}: a machine that sleeps or is \
                 paused, or a clock that falls behind (the JSON report lists them).",
                s.host,
                forward.len(),
                time(forward[0].time),
                time(forward[forward.len() - 1].time),
                duration(shortest),
                duration(longest)
            ));
        }
    }
    notes
}

/// The notes a report's header gives, renamings first: which hosts are
/// one machine renamed, and which clocks stepped (times as `time` writes
/// them).
pub fn header_notes(
    renames: &[crate::renames::Rename],
    steps: &[ClockStep],
    time: &dyn Fn(Timestamp) -> String,
) -> Vec<String> {
    let mut out = crate::renames::notes(renames, time);
    out.extend(notes(steps, time));
    out
}

/// Every step of two minutes or more of every host's clock, in time order.
pub fn clock_steps(store: &Store) -> Vec<ClockStep> {
    let mut steps: Vec<ClockStep> = Vec::new();
    for e in store.events_of(CLOCK_SET) {
        let Some(set) = clock_set(&e.event).filter(|s| s.step().abs() >= CLOCK_STEP) else { continue };
        let how = if e.event.event_id == 1 { "the clock was set" } else { "the system time was changed" };
        let cited = store.cite_event(
            e,
            format!(
                "{how} from {} to {}: {}",
                set.from.to_prose(),
                set.to.to_prose(),
                crate::describe::headline(&e.event)
            ),
        );
        let process = e.event.data("ProcessName").filter(|p| !p.is_empty() && *p != "-");
        let account = e.event.data("SubjectUserName").filter(|u| !u.is_empty() && *u != "-");
        let by = match (process, account) {
            (Some(p), Some(a)) => Some(format!("{p} ({a})")),
            (Some(p), None) => Some(p.to_string()),
            (None, Some(a)) => Some(a.to_string()),
            // Kernel-General names no setter: Windows Time logging its sync
            // in the same seconds does.
            (None, None) => time_service(store, e),
        };
        let same = |s: &ClockStep| {
            *s.host == *e.host
                && (e.time() - s.time).abs() <= SAME_SETTING
                && (set.step() - s.step()).abs() <= SAME_SETTING
        };
        let written = e.event.record_id.map(|r| (e.source, r));
        if let Some(s) = steps.iter_mut().rev().find(|s| same(s)) {
            s.evidence.push(cited);
            s.written.extend(written);
            s.by = s.by.take().or(by);
            continue;
        }
        // The boot's own events are timed by the clock before the step
        // (the kernel's start: the boot the old clock timed) or after it
        // (the event log's, written once the clock was set).
        let boot = |kinds: &[_], from: Timestamp, to: Timestamp| {
            store.events_between(kinds, from, to).filter(|b| b.host == e.host).map(|b| b.time()).next()
        };
        // Written before the step: earlier in the same log, where the log
        // numbers its records (a boot on the clock as set may fall in the
        // same minutes when the step is small).
        let written_before = |b: &crate::evidence::EventRow| {
            b.host == e.host
                && match (b.event.record_id, e.event.record_id) {
                    (Some(rb), Some(re)) if b.source == e.source => rb < re,
                    _ => true,
                }
        };
        let since = [BOOT_MARKS, BOOTED]
            .iter()
            .filter_map(|kinds| {
                store.events_between(kinds, set.from - BOOT_TO_SETTING, set.from).find(|b| written_before(b))
            })
            .map(|b| b.time())
            .min()
            .filter(|_| set.step() < Span(0));
        let near = (e.time() - BOOT_TO_SETTING, e.time() + BOOT_TO_SETTING);
        let after_boot =
            since.is_some() || [BOOT_MARKS, BOOTED].iter().any(|k| boot(k, near.0, near.1).is_some());
        let off_quarter = set.step().abs().as_secs() % 900;
        let whole_quarters = (off_quarter <= ZONE_SLACK || off_quarter >= 900 - ZONE_SLACK)
            && set.step().abs() <= Span::hours(14) + Span::secs(ZONE_SLACK);
        steps.push(ClockStep {
            host: e.host.to_string(),
            time: e.time(),
            from: set.from,
            to: set.to,
            step_seconds: set.step().as_secs(),
            by,
            since,
            hardware_clock_in_another_zone: whole_quarters && after_boot,
            undone: None,
            undoes: None,
            evidence: vec![cited],
            written: written.into_iter().collect(),
        });
    }
    pair_undone(&mut steps);
    steps
}

/// An event's time by its host's clock as set right: one the host timed
/// since a boot by a clock set back minutes after it, and written before
/// the step (earlier in the same log), moved by the step, with the step.
/// `None` for an event whose time stands (or cannot be told to be wrong:
/// one in another log, whose records cannot be ordered against the step's).
pub fn set_right<'s>(
    steps: &'s [ClockStep],
    e: &crate::evidence::EventRow,
) -> Option<(Timestamp, &'s ClockStep)> {
    let record = e.event.record_id?;
    steps.iter().find_map(|s| {
        let (since, until) = s.timed_before()?;
        s.since?;
        let before = s.written.iter().any(|&(source, r)| source == e.source && record < r);
        (*s.host == *e.host && e.time() >= since && e.time() <= until && before)
            .then(|| (e.time() + s.step(), s))
    })
}

/// Pairs each step with the next of its host that undoes it: the other
/// way, by about as much (a tenth of it, or five minutes), within the
/// hour by the clock the first set. Such a step set the clock wrong, not
/// right: it is no boot's correction, and the times between the two are
/// the wrong ones.
fn pair_undone(steps: &mut [ClockStep]) {
    for a in 0..steps.len() {
        if steps[a].undoes.is_some() {
            continue;
        }
        let first = &steps[a];
        let close = Span(first.step().abs().0 / 10).max(Span::mins(5));
        let undoes = |b: &ClockStep| {
            b.host == first.host
                && b.undoes.is_none()
                && (b.step() < Span(0)) != (first.step() < Span(0))
                && (b.step() + first.step()).abs() <= close
                && b.from >= first.to
                && b.from - first.to <= UNDONE_WITHIN
        };
        let Some(b) = (a + 1..steps.len()).find(|&b| undoes(&steps[b])) else { continue };
        let (time, from) = (steps[b].time, steps[b].from);
        let first_time = steps[a].time;
        steps[b].undoes = Some(first_time);
        let first = &mut steps[a];
        first.undone = Some(Undone { time, from });
        first.since = None;
        first.hardware_clock_in_another_zone = false;
    }
}

/// Windows Time, when it logged synchronizing or setting the clock on the
/// event's host within seconds of it, with the source it named.
fn time_service(store: &Store, e: &crate::evidence::EventRow) -> Option<String> {
    let mut near = store
        .events_between(TIME_SERVICE_SET, e.time() - SAME_SETTING, e.time() + SAME_SETTING)
        .filter(|t| t.host == e.host);
    let first = near.next()?;
    let source = std::iter::once(first)
        .chain(near)
        .find_map(|t| t.event.data("TimeSource"))
        .and_then(|s| s.split([',', ' ']).next())
        .filter(|s| !s.is_empty());
    Some(match source {
        Some(source) => format!("the Windows Time service (from {source})"),
        None => "the Windows Time service".to_string(),
    })
}

/// How many steps a finding names one by one; more are counted.
const NAMED_IN_FINDING: usize = 2;

/// Says in each finding whose times a step of its host's clock makes
/// doubtful which step, and cites it (a finding over days of a laptop's
/// wakes names two and counts the rest).
pub fn doubt_findings(findings: &mut [Finding], steps: &[ClockStep]) {
    for f in findings.iter_mut() {
        let Some(host) = f.scope.host.as_deref() else { continue };
        let doubting: Vec<&ClockStep> =
            steps.iter().filter(|s| s.host == host && s.doubts(f.start, f.end)).collect();
        for s in doubting.iter().take(NAMED_IN_FINDING) {
            f.explanation.push(' ');
            f.explanation.push_str(&s.prose(&|t| t.to_prose()));
            f.evidence.extend(s.evidence.iter().cloned());
            let undid = steps.iter().filter(|u| u.host == s.host && u.undoes == Some(s.time));
            f.evidence.extend(undid.flat_map(|u| u.evidence.iter().cloned()));
        }
        if let Some(more) = doubting.len().checked_sub(NAMED_IN_FINDING).filter(|&n| n > 0) {
            f.explanation.push_str(&format!(
                " Its clock was set {more} more times in this window (clock_steps in the JSON report lists them)."
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::testing::{Given, at};

    const KERNEL: &str = "Microsoft-Windows-Kernel-General";
    const SECURITY: &str = "Microsoft-Windows-Security-Auditing";

    fn rfc(secs: i64) -> String {
        at(secs).to_rfc3339()
    }

    /// A clock set back nine hours at boot (a virtual machine whose
    /// hardware clock keeps local time) is one step, cited by both events
    /// that record it, with the program that set it; a time sync of a
    /// fraction of a second, and one of a minute, are no step.
    #[test]
    fn a_clock_set_back_is_one_step_and_a_sync_is_none() {
        let back = -9 * 3600;
        let store = Given::new()
            .event("WEB01", 0, KERNEL, 1, &[("NewTime", &rfc(0)), ("OldTime", &rfc(-back))])
            .event(
                "WEB01",
                1,
                SECURITY,
                4616,
                &[
                    ("SubjectUserName", "LOCAL SERVICE"),
                    ("PreviousTime", &rfc(-back)),
                    ("NewTime", &rfc(1)),
                    ("ProcessName", "C:\\Windows\\System32\\svchost.exe"),
                ],
            )
            .event("WEB01", 600, KERNEL, 1, &[("NewTime", &rfc(600)), ("OldTime", &rfc(599))])
            .event("WEB01", 900, KERNEL, 1, &[("NewTime", &rfc(900)), ("OldTime", &rfc(960))])
            .store();
        let steps = clock_steps(&store);
        assert_eq!(steps.len(), 1, "{steps:?}");
        let s = &steps[0];
        assert_eq!((s.host.as_str(), s.step_seconds, s.evidence.len()), ("WEB01", back, 2));
        assert_eq!(s.by.as_deref(), Some("C:\\Windows\\System32\\svchost.exe (LOCAL SERVICE)"));
        assert_eq!((s.since, s.timed_before()), (None, Some((at(0), at(-back)))));
        let prose = s.prose(&|t| t.to_prose());
        assert!(
            prose.starts_with("WEB01's clock was set back 9 h 0 min at 2025-11-24 10:00:00 UTC by"),
            "{prose}"
        );
        assert!(prose.contains("from 2025-11-24 10:00:00 UTC to 2025-11-24 19:00:00 UTC"), "{prose}");
    }

    /// A finding on the host inside the stretch a clock set back used twice
    /// says so and cites the step; one after that stretch, and one on
    /// another host, do not.
    #[test]
    fn a_finding_in_the_stretch_timed_again_says_so() {
        let store = Given::new()
            .event("WEB01", 0, KERNEL, 1, &[("NewTime", &rfc(0)), ("OldTime", &rfc(7200))])
            .positional("WEB01", 3000, "User32", 1074, &["restart"])
            .positional("WEB01", 3030, "EventLog", 6006, &[])
            .positional("WEB01", 3060, "EventLog", 6005, &[])
            .positional("WEB01", 9000, "User32", 1074, &["restart"])
            .positional("WEB01", 9060, "EventLog", 6005, &[])
            .positional("DB01", 3000, "User32", 1074, &["restart"])
            .positional("DB01", 3060, "EventLog", 6005, &[])
            .store();
        let steps = clock_steps(&store);
        let mut findings = crate::detect::run(&store);
        doubt_findings(&mut findings, &steps);
        let doubted: Vec<(&str, Timestamp, bool)> = findings
            .iter()
            .map(|f| (f.scope.host.as_deref().unwrap_or("-"), f.start, f.explanation.contains("set back")))
            .collect();
        assert!(doubted.contains(&("WEB01", at(3000), true)), "{doubted:?}");
        assert!(doubted.contains(&("WEB01", at(9000), false)), "{doubted:?}");
        assert!(doubted.contains(&("DB01", at(3000), false)), "{doubted:?}");
    }

    /// Kernel-General names no setter: Windows Time's sync logged in the
    /// same second does, with its source; one on another host does not.
    #[test]
    fn the_time_service_syncing_in_the_same_second_set_the_clock() {
        let step = |host: &str| {
            Given::new()
                .event(
                    "WEB01",
                    0,
                    "Microsoft-Windows-Time-Service",
                    35,
                    &[("TimeSource", "time.windows.com,0x9 (ntp.m)")],
                )
                .event(host, 0, KERNEL, 1, &[("NewTime", &rfc(0)), ("OldTime", &rfc(3600))])
                .store()
        };
        assert_eq!(
            clock_steps(&step("WEB01"))[0].by.as_deref(),
            Some("the Windows Time service (from time.windows.com)")
        );
        assert_eq!(clock_steps(&step("WEB02"))[0].by, None);
    }

    /// A clock set back ten hours and forward again seventeen minutes
    /// later (by the wrong clock) was wrong between the two, whatever boot
    /// came before: one note names both, and a finding timed between
    /// them says so and cites both steps.
    #[test]
    fn a_step_undone_within_the_hour_is_one_wrong_stretch() {
        let store = Given::new()
            .event("PC", -36_100, KERNEL, 12, &[])
            .event("PC", 0, KERNEL, 1, &[("NewTime", &rfc(0)), ("OldTime", &rfc(36_000))])
            .positional("PC", 600, "EventLog", 6008, &["crash"])
            .positional("PC", 610, "EventLog", 6005, &[])
            .event("PC", 36_100, KERNEL, 1, &[("NewTime", &rfc(36_100)), ("OldTime", &rfc(1_000))])
            .store();
        let steps = clock_steps(&store);
        assert_eq!(steps.len(), 2, "{steps:?}");
        assert_eq!(steps[0].undone, Some(Undone { time: at(36_100), from: at(1_000) }));
        assert_eq!((steps[0].since, steps[1].undoes), (None, Some(at(0))));
        let notes = notes(&steps, &|t| t.to_prose());
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0].contains("and forward again") && notes[0].contains("10 h 0 min behind"),
            "{notes:?}"
        );
        let mut findings = crate::detect::run(&store);
        doubt_findings(&mut findings, &steps);
        let f = findings.iter().find(|f| f.start == at(600)).expect("the restart");
        assert!(f.explanation.contains("forward again"), "{}", f.explanation);
        assert_eq!(f.evidence.iter().filter(|e| e.summary.contains("the clock was set")).count(), 2);
    }

    /// A clock set back minutes after a boot (Kernel-General 12 and
    /// Kernel-Power 41 timed by the clock as it was, before the step in the
    /// log) gave its times from that boot on only: the unclean restart it
    /// timed is placed by the clock as set right, with the boot's 6005
    /// written after the step, and says so; a restart written after the
    /// step is not moved; the step by whole hours names the hardware clock
    /// kept in another zone.
    #[test]
    fn a_step_after_a_boot_places_what_was_logged_since_the_boot() {
        let store = Given::new()
            .event("VM01", 6900, KERNEL, 12, &[])
            .event("VM01", 6910, "Microsoft-Windows-Kernel-Power", 41, &[])
            .event("VM01", 0, KERNEL, 1, &[("NewTime", &rfc(0)), ("OldTime", &rfc(7201))])
            .positional("VM01", 5, "EventLog", 6005, &[])
            .positional("VM01", 3000, "User32", 1074, &["restart"])
            .positional("VM01", 3030, "EventLog", 6006, &[])
            .positional("VM01", 3060, "EventLog", 6005, &[])
            .store();
        let steps = clock_steps(&store);
        assert_eq!(steps.len(), 1, "{steps:?}");
        assert_eq!((steps[0].since, steps[0].hardware_clock_in_another_zone), (Some(at(6900)), true));
        assert_eq!(steps[0].timed_before(), Some((at(6900), at(7201))));
        let mut findings = crate::detect::run(&store);
        doubt_findings(&mut findings, &steps);
        let placed: Vec<(Timestamp, Timestamp, bool)> = findings
            .iter()
            .map(|f| (f.start, f.end, f.explanation.contains("placed here by the clock as set right")))
            .collect();
        assert_eq!(placed.len(), 2, "{placed:?}");
        assert!(placed.contains(&(at(6910 - 7201), at(5), true)), "{placed:?}");
        assert!(placed.contains(&(at(3000), at(3060), false)), "{placed:?}");
        let f = findings.iter().find(|f| f.start == at(6910 - 7201)).expect("the unclean restart");
        assert!(
            f.timeline[0]
                .summary
                .contains("timed 2025-11-24 11:55:10 UTC by the clock before it was set back 2 h 0 min"),
            "{:?}",
            f.timeline
        );
        assert!(f.evidence.iter().any(|e| e.summary.contains("the clock was set")), "the step is cited");
    }

    /// A step of whole hours but for a minute is no zone's, nor one far
    /// from any boot.
    #[test]
    fn a_zone_step_is_whole_quarter_hours_minutes_after_a_boot() {
        let step = |host: &str, back: i64| {
            Given::new()
                .event(host, -60, KERNEL, 12, &[])
                .event(host, 0, KERNEL, 1, &[("NewTime", &rfc(0)), ("OldTime", &rfc(back))])
                .store()
        };
        let zone = |store: &Store| clock_steps(store)[0].hardware_clock_in_another_zone;
        assert!(zone(&step("A", 3 * 3600 + 2)));
        assert!(!zone(&step("B", 3 * 3600 + 60)), "a minute off");
        let far = Given::new()
            .event("C", -7200, KERNEL, 12, &[])
            .event("C", 0, KERNEL, 1, &[("NewTime", &rfc(0)), ("OldTime", &rfc(3600))])
            .store();
        assert!(!zone(&far), "no boot within minutes");
    }

    /// A clock set forward leaves a gap: a finding across the step says
    /// so, one before it does not.
    #[test]
    fn a_clock_set_forward_doubts_only_a_finding_across_it() {
        let store = Given::new()
            .event("WEB01", 0, KERNEL, 1, &[("NewTime", &rfc(0)), ("OldTime", &rfc(-3600))])
            .store();
        let steps = clock_steps(&store);
        assert_eq!(steps[0].timed_before(), None);
        assert!(steps[0].doubts(at(-60), at(60)));
        assert!(!steps[0].doubts(at(-600), at(-60)));
        assert!(steps[0].prose(&|t| t.to_prose()).contains("set forward 60 min"));
    }

    /// A host whose clock steps forward at every wake gets one note for
    /// them all; a step back is always said.
    #[test]
    fn many_steps_forward_are_one_note() {
        let mut given =
            Given::new().event("PC", 0, KERNEL, 1, &[("NewTime", &rfc(0)), ("OldTime", &rfc(3600))]);
        for i in 1..=5 {
            let at = i * 10_000;
            given =
                given.event("PC", at, KERNEL, 1, &[("NewTime", &rfc(at)), ("OldTime", &rfc(at - 300 * i))]);
        }
        let steps = clock_steps(&given.store());
        let notes = notes(&steps, &|t| t.to_prose());
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(notes[0].contains("set back 60 min"), "{notes:?}");
        assert!(
            notes[1].contains("set forward 5 times") && notes[1].contains("by 5 min to 25 min"),
            "{notes:?}"
        );
    }
}
