//! Machines renamed in the evidence (EventLog 6011): a machine's events
//! name it by its name when they were written, so one machine renamed
//! (a cloned virtual machine named at first boot, a server renamed before
//! it joined the domain) reads as several hosts. The analysis keeps each
//! name as logged, and says which names are one machine.

use std::collections::{BTreeMap, HashMap};

use faultline_parser::{Span, Timestamp};
use serde::Serialize;

use crate::detect::kinds::RENAMED;
use crate::evidence::Store;
use crate::finding::Evidence;
use crate::resolve::host_name;

/// One renaming of one machine.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Rename {
    /// The name before.
    pub from: String,
    /// The name after.
    pub to: String,
    /// When the event was written: when the name was changed, which the
    /// next boot makes good (or at that boot).
    pub time: Timestamp,
    /// The event that says so.
    pub evidence: Evidence,
}

/// How far apart two events recording one renaming may lie (each of a
/// machine's logs may hold it, written at the same boot).
const SAME_RENAMING: Span = Span::mins(2);

/// The most renamings a machine's chain of names is followed through.
const CHAIN: usize = 64;

/// Every renaming the evidence records, in time order, names as hosts are
/// filed ([`host_name`]); one renaming recorded by several logs is one.
pub fn renames(store: &Store) -> Vec<Rename> {
    let mut out: Vec<Rename> = Vec::new();
    // The last time each (from, to) was kept: a name given back and given
    // again later is a renaming of its own.
    let mut kept: HashMap<(String, String), Timestamp> = HashMap::new();
    for e in store.events_of(RENAMED) {
        let (Some(from), Some(to)) = (e.data_at(0).map(str::trim), e.data_at(1).map(str::trim)) else {
            continue;
        };
        let (from, to) = (host_name(from), host_name(to));
        if from.is_empty() || to.is_empty() || from == to {
            continue;
        }
        let key = (from, to);
        if kept.get(&key).is_some_and(|&t| (e.time() - t).abs() <= SAME_RENAMING) {
            continue;
        }
        kept.insert(key.clone(), e.time());
        let (from, to) = key;
        let summary = format!("EventLog 6011: the machine's name was changed from {from} to {to}");
        out.push(Rename { evidence: store.cite_event(e, summary), from, to, time: e.time() });
    }
    out
}

/// Which host names are one machine, by the renamings between them.
#[derive(Debug, Default)]
pub struct Machines {
    /// Each renamed name's machine, numbered.
    of: HashMap<String, usize>,
}

impl Machines {
    /// The machines `renames` join names into. A name given up for two
    /// names (a template's name, each clone renaming itself) joins
    /// neither: the clones are machines of their own.
    pub fn of(renames: &[Rename]) -> Machines {
        let mut successors: HashMap<&str, Vec<&str>> = HashMap::new();
        for r in renames {
            let next = successors.entry(&r.from).or_default();
            if !next.contains(&r.to.as_str()) {
                next.push(&r.to);
            }
        }
        let mut of: HashMap<String, usize> = HashMap::new();
        let one_way = |r: &&Rename| successors.get(r.from.as_str()).is_some_and(|n| n.len() == 1);
        for (n, r) in renames.iter().filter(one_way).enumerate() {
            let (a, b) = (of.get(&r.from).copied(), of.get(&r.to).copied());
            let id = a.or(b).unwrap_or(n);
            // Two machines met by this renaming become one.
            if let (Some(a), Some(b)) = (a, b)
                && a != b
            {
                for v in of.values_mut().filter(|v| **v == b) {
                    *v = a;
                }
            }
            of.insert(r.from.clone(), id);
            of.insert(r.to.clone(), id);
        }
        Machines { of }
    }

    /// Whether two host names are one machine's.
    pub fn same(&self, a: &str, b: &str) -> bool {
        a == b || self.of.get(a).is_some_and(|x| self.of.get(b) == Some(x))
    }
}

/// One line per machine renamed, under its last name: the names it had
/// before, each with when it lost it.
pub fn notes(renames: &[Rename], time: &dyn Fn(Timestamp) -> String) -> Vec<String> {
    // Each name's renamings away from it, in time order.
    let mut away: BTreeMap<&str, Vec<&Rename>> = BTreeMap::new();
    for r in renames {
        away.entry(r.from.as_str()).or_default().push(r);
    }
    for list in away.values_mut() {
        list.sort_by_key(|r| r.time);
    }
    // The last name a renaming led to: the renamings after it followed to
    // their end (a name given back leads back).
    fn last<'r>(away: &BTreeMap<&str, Vec<&'r Rename>>, first: &'r Rename) -> &'r str {
        let (mut name, mut at) = (first.to.as_str(), first.time);
        for _ in 0..CHAIN {
            let next = away.get(name).and_then(|list| list.get(list.partition_point(|r| r.time <= at)));
            let Some(r) = next else { break };
            (name, at) = (r.to.as_str(), r.time);
        }
        name
    }
    let mut machines: BTreeMap<&str, Vec<&Rename>> = BTreeMap::new();
    for r in renames {
        machines.entry(last(&away, r)).or_default().push(r);
    }
    machines
        .into_iter()
        .filter_map(|(name, mut steps)| {
            steps.sort_by_key(|r| std::cmp::Reverse(r.time));
            // The machine's own last name is no earlier one (a name given
            // back).
            let earlier: Vec<String> = steps
                .iter()
                .filter(|r| r.from != name)
                .map(|r| format!("{} (renamed by {})", r.from, time(r.time)))
                .collect();
            (!earlier.is_empty()).then(|| {
                format!(
                    "{name} was earlier named {}, EventLog 6011: what the evidence says under {} is this \
                        machine's.",
                    earlier.join(" and "),
                    if earlier.len() == 1 { "that name" } else { "those names" }
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::SourceKind;

    fn renamed(from: &str, to: &str, secs: i64) -> Rename {
        let time = Timestamp::from_parts(secs, 0);
        let evidence = Evidence {
            source: SourceKind::Evtx,
            path: "System.evtx".into(),
            line: None,
            record: None,
            time,
            summary: String::new(),
        };
        Rename { from: from.into(), to: to.into(), time, evidence }
    }
    /// Names joined by renamings are one machine, through chains and two
    /// chains met; a name never renamed is only itself.
    #[test]
    fn names_a_machine_was_renamed_between_are_one_machine() {
        let machines = Machines::of(&[renamed("A", "B", 0), renamed("C", "D", 10), renamed("B", "C", 20)]);
        assert!(machines.same("A", "D") && machines.same("D", "B"));
        assert!(!machines.same("A", "E") && machines.same("E", "E"));
        assert!(!Machines::of(&[renamed("A", "B", 0)]).same("A", "C"));
        // Two clones of one template, each renamed at its first boot.
        let clones = Machines::of(&[renamed("TEMPLATE", "WEB01", 0), renamed("TEMPLATE", "WEB02", 10)]);
        assert!(!clones.same("WEB01", "WEB02") && !clones.same("TEMPLATE", "WEB01"));
    }

    /// plaso's System.evtx: a machine named at first boot, then renamed
    /// DC1; a chain of names is one machine under its last name.
    #[test]
    fn a_chain_of_renamings_is_one_machine_under_its_last_name() {
        let chain =
            [renamed("37L4247F27-26", "WIN-NBRJP24VCHB", 100), renamed("WIN-NBRJP24VCHB", "DC1", 200)];
        let notes = notes(&chain, &|t| t.seconds().to_string());
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0].starts_with(
                "DC1 was earlier named WIN-NBRJP24VCHB (renamed by 200) and 37L4247F27-26 (renamed by 100),"
            ),
            "{}",
            notes[0]
        );
        let two = [renamed("A", "B", 100), renamed("C", "D", 200)];
        assert_eq!(notes_of(&two).len(), 2, "two machines renamed");
        let back = [renamed("A", "B", 100), renamed("B", "A", 200)];
        assert_eq!(notes_of(&back).len(), 1, "a name given back is still one machine");
    }

    fn notes_of(renames: &[Rename]) -> Vec<String> {
        notes(renames, &|t| t.seconds().to_string())
    }
}
