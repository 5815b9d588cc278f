//! Machines renamed in the evidence (EventLog 6011): a machine's events
//! name it by its name when they were written, so one machine renamed
//! (a cloned virtual machine named at first boot, a server renamed before
//! it joined the domain) reads as several hosts. The analysis keeps each
//! name as logged, and says which names are one machine.

use std::collections::BTreeMap;

use faultline_parser::Timestamp;
use serde::Serialize;

use crate::detect::kinds::RENAMED;
use crate::evidence::Store;
use crate::finding::Evidence;

/// One renaming of one machine.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Rename {
    /// The name before.
    pub from: String,
    /// The name after.
    pub to: String,
    /// When it was renamed (the event is written at the first boot under
    /// the new name).
    pub time: Timestamp,
    /// The event that says so.
    pub evidence: Evidence,
}

/// Every renaming the evidence records, in time order (one per old and
/// new name: a machine's logs may each hold the event).
pub fn renames(store: &Store) -> Vec<Rename> {
    let mut out: Vec<Rename> = Vec::new();
    for e in store.events_of(RENAMED) {
        let (Some(from), Some(to)) = (e.data_at(0).map(str::trim), e.data_at(1).map(str::trim)) else {
            continue;
        };
        if from.is_empty() || to.is_empty() || from.eq_ignore_ascii_case(to) {
            continue;
        }
        if out.iter().any(|r| r.from.eq_ignore_ascii_case(from) && r.to.eq_ignore_ascii_case(to)) {
            continue;
        }
        let summary = format!("EventLog 6011: the machine's name was changed from {from} to {to}");
        out.push(Rename {
            from: from.to_uppercase(),
            to: to.to_uppercase(),
            time: e.time(),
            evidence: store.cite_event(e, summary),
        });
    }
    out
}

/// One line per machine renamed, under its last name: the names it had
/// before, each with when it lost it.
pub fn notes(renames: &[Rename], time: &dyn Fn(Timestamp) -> String) -> Vec<String> {
    // The last name a renaming led to: the renamings after it followed
    // to their end (a name given back leads back).
    let last = |first: &Rename| {
        let (mut name, mut at) = (first.to.clone(), first.time);
        let mut seen = vec![name.clone()];
        while let Some(r) = renames.iter().find(|r| r.from == name && r.time > at) {
            if seen.contains(&r.to) {
                name = r.to.clone();
                break;
            }
            (name, at) = (r.to.clone(), r.time);
            seen.push(name.clone());
        }
        name
    };
    let mut machines: BTreeMap<String, Vec<&Rename>> = BTreeMap::new();
    for r in renames {
        machines.entry(last(r)).or_default().push(r);
    }
    machines
        .into_iter()
        .map(|(name, mut steps)| {
            steps.sort_by_key(|r| std::cmp::Reverse(r.time));
            let earlier: Vec<String> =
                steps.iter().map(|r| format!("{} (renamed by {})", r.from, time(r.time))).collect();
            format!(
                "{name} was earlier named {}, EventLog 6011: what the evidence says under {} is this machine's.",
                earlier.join(" and "),
                if earlier.len() == 1 { "that name" } else { "those names" }
            )
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
