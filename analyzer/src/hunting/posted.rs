//! An uploaded web shell driven by its operator, as one chain: a script
//! that only ever takes POSTs, the IIS worker of its pool starting a shell
//! or recon tool while one of those POSTs was being answered, and, where
//! Sysmon saw it, the worker writing that very script first. Each of the
//! three is a detection of its own; only together do they say whose
//! request ran which command, under whatever name the shell was given.

use std::net::IpAddr;
use std::sync::Arc;

use faultline_hunt::Level;
use faultline_parser::Timestamp;

use crate::finding::Evidence;
use crate::resolve::SourceKind;

use super::{Detection, Hunt, sort};

/// One POST to a script answered 200, as a chain cites it.
#[derive(Debug, Clone)]
pub(super) struct Posted {
    pub(super) time: Timestamp,
    pub(super) source: SourceKind,
    pub(super) path: Arc<str>,
    pub(super) line: u64,
    pub(super) client: Option<IpAddr>,
}

impl Posted {
    fn order(&self) -> (Timestamp, &str, u64) {
        (self.time, &self.path, self.line)
    }
}

/// The POSTs kept per script, the earliest: an operator's first commands
/// come with the first POSTs, and a script many POST to is dropped as soon
/// as it is no shell's (see [`Posts::forget`]).
pub(super) const POSTS_KEPT: usize = 256;

/// How long before a shell's start the POST that ran it may be logged: IIS
/// logs a request as it ends, to the second (the fraction dropped), and
/// Sysmon to the millisecond.
const LOGGED_BEFORE: i64 = 2;

/// How long after a shell's start the POST that ran it may be logged: a
/// web shell waits for its command's output before it answers.
const ANSWERED_WITHIN: i64 = 120;

/// Per script POSTed (hashed by host and path), the POSTs answered 200.
#[derive(Debug, Default)]
pub(super) struct Posts(hashbrown::HashMap<u64, Vec<Posted>>);

impl Posts {
    /// Notes a POST to the script `key` (the first [`POSTS_KEPT`] a chunk
    /// reads).
    pub(super) fn note(&mut self, key: u64, posted: Posted) {
        let kept = self.0.entry(key).or_default();
        if kept.len() < POSTS_KEPT {
            kept.push(posted);
        }
    }

    /// Forgets the script `key`: too many clients POST to it for a shell's.
    pub(super) fn forget(&mut self, key: u64) {
        self.0.remove(&key);
    }

    pub(super) fn absorb(&mut self, other: Posts) {
        for (key, mut posted) in other.0 {
            let kept = self.0.entry(key).or_default();
            kept.append(&mut posted);
            if kept.len() > POSTS_KEPT {
                // The earliest of all, whatever order the chunks come in.
                kept.sort_by(|a, b| a.order().cmp(&b.order()));
                kept.truncate(POSTS_KEPT);
            }
        }
    }

    /// The POSTs to the script `key`, in time order.
    pub(super) fn take(&mut self, key: u64) -> Vec<Posted> {
        let mut posted = self.0.remove(&key).unwrap_or_default();
        posted.sort_by(|a, b| a.order().cmp(&b.order()));
        posted
    }
}

/// The fewest POSTs that show a schedule.
const SCHEDULED_POSTS: usize = 10;

/// Whether a script's POSTs (in time order) come on a schedule from inside
/// the network: every client a private address, the gaps between POSTs
/// (of five seconds or more, typically) nearly all the same. A monitoring
/// agent's health check (Datadog's, SolarWinds') POSTs so, every minute on
/// the minute; an operator driving a shell does not.
pub(super) fn on_a_schedule(posted: &[Posted]) -> bool {
    let internal = |ip: &IpAddr| match ip {
        IpAddr::V4(a) => a.is_private() || a.is_loopback() || a.is_link_local(),
        IpAddr::V6(a) => a.is_loopback() || (a.segments()[0] & 0xfe00) == 0xfc00,
    };
    if posted.len() < SCHEDULED_POSTS || !posted.iter().all(|p| p.client.as_ref().is_some_and(internal)) {
        return false;
    }
    let mut gaps: Vec<i64> = posted.windows(2).map(|w| w[1].time.seconds() - w[0].time.seconds()).collect();
    gaps.sort_unstable();
    let usual = gaps[gaps.len() / 2];
    let near = gaps.iter().filter(|&&g| (g - usual).abs() <= (usual / 10).max(2)).count();
    usual >= 5 && near * 10 >= gaps.len() * 9
}

/// A script the native detector reported as answering POSTs no one asks
/// for with GET: its detection's first row, and the POSTs kept.
#[derive(Debug)]
pub(super) struct PostOnly {
    pub(super) first: (String, Option<u64>),
    pub(super) posted: Vec<Posted>,
}

/// The bundled rule whose detections are the worker starting a shell or
/// recon tool.
const SHELL_RULE: &str = "proc_w3wp_spawns_shell.yml";

/// The bundled rule whose detections are the worker writing a script.
const WRITE_RULE: &str = "file_w3wp_writes_script.yml";

/// Whether a detection is the bundled rule file `file`'s.
pub(super) fn bundled(d: &Detection, file: &str) -> bool {
    d.rule.meta.origin.strip_prefix(faultline_hunt::pack::BUNDLED_ORIGIN) == Some(file)
}

/// Whether a detection is one of the bundled chains of a request and the
/// worker's shell.
fn is_chain(d: &Detection) -> bool {
    d.rule
        .meta
        .origin
        .strip_prefix(faultline_hunt::pack::BUNDLED_ORIGIN)
        .is_some_and(|f| f.starts_with("chain_"))
}

fn value<'d>(d: &'d Detection, field: &str) -> Option<&'d str> {
    d.matched.iter().find(|(f, _)| f == field).map(|(_, v)| v.as_str())
}

/// The last segment of a path of either kind of slash.
fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

/// Whether two app pools may be one: each known and the same (case-blind,
/// as IIS names them), or either unknown.
fn same_pool(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        _ => true,
    }
}

impl Hunt {
    /// The chains of each script only ever POSTed to (of `scripts`) and
    /// the worker's shells started as one of its POSTs was being answered
    /// (same host, and same app pool where both are known): critical where
    /// the worker wrote a script of that name on that host before, high
    /// otherwise. One detection per script, at its first linked POST,
    /// naming the client and the command, counting the rest.
    pub(super) fn posted_shells(&self, detections: &[Detection], scripts: Vec<PostOnly>) -> Vec<Detection> {
        let Some(natives) = &self.natives else { return Vec::new() };
        if scripts.is_empty() {
            return Vec::new();
        }
        let shells: Vec<&Detection> = detections.iter().filter(|d| bundled(d, SHELL_RULE)).collect();
        if shells.is_empty() {
            return Vec::new();
        }
        let writes: Vec<&Detection> = detections
            .iter()
            .filter(|d| bundled(d, WRITE_RULE) || Arc::ptr_eq(&d.rule, &natives.worker_shell_script))
            .collect();
        let mut by_row: std::collections::BTreeMap<(String, Option<u64>), Vec<Posted>> =
            scripts.into_iter().map(|s| (s.first, s.posted)).collect();
        let mut out = Vec::new();
        for script in detections.iter().filter(|d| Arc::ptr_eq(&d.rule, &natives.post_only)) {
            let Some(posted) = by_row.remove(&(script.evidence.path.clone(), script.evidence.line)) else {
                continue;
            };
            let Some(stem) = value(script, "cs-uri-stem") else { continue };
            // Each shell with the first POST logged as it ran.
            let links: Vec<(&Detection, &Posted)> = shells
                .iter()
                .filter(|s| {
                    s.host == script.host && same_pool(s.app_pool.as_deref(), script.app_pool.as_deref())
                })
                .filter_map(|s| {
                    let at = s.time.seconds();
                    let p = posted.iter().find(|p| {
                        let t = p.time.seconds();
                        t >= at - LOGGED_BEFORE && t <= at + ANSWERED_WITHIN
                    })?;
                    Some((*s, p))
                })
                .collect();
            let Some(&(shell, post)) = links.iter().min_by(|a, b| a.1.order().cmp(&b.1.order())) else {
                continue;
            };
            let first_post = post.time;
            let name = file_name(stem);
            let wrote = writes.iter().find(|w| {
                w.host == script.host
                    && w.time.seconds() <= first_post.seconds() + LOGGED_BEFORE
                    && value(w, "TargetFilename").is_some_and(|f| file_name(f).eq_ignore_ascii_case(name))
            });
            // A known shell's name, or its folder, already made the bundled
            // chain of these starts critical: the same link said again,
            // lower, only repeats it.
            let chained = |shell: &Detection| {
                detections.iter().any(|c| {
                    c.rule.meta.level == Level::Critical
                        && is_chain(c)
                        && c.host == shell.host
                        && c.time <= shell.time
                        && shell.time <= c.end.unwrap_or(c.time)
                })
            };
            if wrote.is_none() && links.iter().all(|(s, _)| chained(s)) {
                continue;
            }
            let rule = if wrote.is_some() { &natives.uploaded_shell } else { &natives.posted_shell };
            let client = post.client.map_or_else(|| "an unknown client".to_string(), |ip| ip.to_string());
            let command = value(shell, "CommandLine")
                .or_else(|| value(shell, "Image"))
                .map_or_else(|| shell.evidence.summary.clone(), |c| crate::describe::cut_to(c, 80));
            let more = match links.len() {
                1 => String::new(),
                n => format!("; {n} shells or tools started as its POSTs were answered"),
            };
            let written = wrote.map_or(String::new(), |w| {
                format!(
                    "; the worker wrote {} {} s before ({})",
                    value(w, "TargetFilename").unwrap_or(name),
                    first_post.seconds() - w.time.seconds(),
                    w.evidence.place()
                )
            });
            let summary = crate::describe::cut_line(format!(
                "POST {stem} (a script never asked for with GET) answered 200 from {client} as the worker{} \
                 started {command} ({}){more}{written}",
                shell.app_pool.as_deref().map_or(String::new(), |p| format!(" of {p}")),
                shell.evidence.place(),
            ));
            let evidence = Evidence {
                source: post.source,
                path: post.path.to_string(),
                line: Some(post.line),
                record: None,
                time: post.time,
                summary,
            };
            let start = post.time;
            let end = links.iter().map(|(s, p)| s.time.max(p.time)).max().unwrap_or(post.time);
            let mut matched = vec![("cs-uri-stem".to_string(), stem.to_string())];
            matched.extend(post.client.map(|ip| ("c-ip".to_string(), ip.to_string())));
            matched.extend(value(shell, "CommandLine").map(|c| ("CommandLine".to_string(), c.to_string())));
            matched.extend(
                wrote
                    .and_then(|w| value(w, "TargetFilename"))
                    .map(|f| ("TargetFilename".to_string(), f.into())),
            );
            out.push(Detection {
                end: (end > start).then_some(end),
                site: script.site.clone(),
                app_pool: script.app_pool.clone().or_else(|| shell.app_pool.clone()),
                matched,
                ..Detection::new(rule, &script.host, start, evidence)
            });
        }
        sort(&mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn posted(second: i64, line: u64) -> Posted {
        Posted {
            time: Timestamp::from_parts(1_700_000_000 + second, 0),
            source: SourceKind::W3c,
            path: Arc::from("u_ex.log"),
            line,
            client: None,
        }
    }

    /// Chunks read in any order keep the same earliest POSTs of a script:
    /// a busy one's later POSTs are dropped, not its first.
    #[test]
    fn the_earliest_posts_are_kept_whatever_order_chunks_come_in() {
        let chunk = |from: i64| {
            let mut p = Posts::default();
            for i in 0..POSTS_KEPT as i64 {
                p.note(7, posted(from + i, (from + i) as u64));
            }
            p.note(7, posted(from - 1_000, 1));
            p
        };
        let lines = |mut p: Posts| p.take(7).iter().map(|p| p.line).collect::<Vec<_>>();
        let (mut ab, mut ba) = (chunk(0), chunk(10_000));
        ab.absorb(chunk(10_000));
        ba.absorb(chunk(0));
        let kept = lines(ab);
        assert_eq!(kept, lines(ba));
        assert_eq!(kept.len(), POSTS_KEPT);
        assert_eq!((kept[0], kept[POSTS_KEPT - 1]), (0, POSTS_KEPT as u64 - 1));
        let mut forgotten = chunk(0);
        forgotten.forget(7);
        assert!(forgotten.take(7).is_empty());
    }

    /// A monitoring agent's POSTs every minute from an internal address
    /// are its schedule; an operator's, or the same cadence from the
    /// internet, are not.
    #[test]
    fn an_internal_agents_posts_every_minute_are_a_schedule() {
        let from = |client: &str, seconds: &[i64]| -> Vec<Posted> {
            seconds.iter().map(|&s| Posted { client: client.parse().ok(), ..posted(s, s as u64) }).collect()
        };
        let minutes: Vec<i64> = (0..30).map(|i| i * 60 + i % 2).collect();
        assert!(on_a_schedule(&from("10.11.5.10", &minutes)));
        assert!(!on_a_schedule(&from("203.0.113.5", &minutes)), "from the internet");
        let operator: Vec<i64> = [0, 4, 30, 31, 95, 200, 203, 260, 400, 401, 700, 760].to_vec();
        assert!(!on_a_schedule(&from("10.11.5.10", &operator)), "an operator's");
        assert!(!on_a_schedule(&from("10.11.5.10", &minutes[..5])), "too few to tell");
    }

    #[test]
    fn a_file_name_is_the_last_segment_of_either_path() {
        assert_eq!(file_name("C:\\inetpub\\wwwroot\\x.aspx"), "x.aspx");
        assert_eq!(file_name("/uploads/x.aspx"), "x.aspx");
        assert!(same_pool(Some("ShopPool"), Some("shoppool")) && same_pool(None, Some("A")));
        assert!(!same_pool(Some("ShopPool"), Some("ApiPool")));
    }
}
