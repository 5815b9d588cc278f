//! Rules evaluated over records: each rule is tried only on the records its
//! log source names, its searches evaluated lazily as its condition asks.

use crate::record::{Kind, View};
use crate::rule::{FieldTest, Rule, Search, Target};

/// The rules of one hunt, indexed by the records they apply to.
#[derive(Debug, Clone, Default)]
pub struct Engine {
    rules: Vec<Rule>,
    web: Vec<usize>,
    events: Vec<usize>,
}

impl Engine {
    /// An engine over `rules`.
    pub fn new(rules: Vec<Rule>) -> Engine {
        let web = rules.iter().enumerate().filter(|(_, r)| r.target == Target::Web).map(|(i, _)| i).collect();
        let events = rules
            .iter()
            .enumerate()
            .filter(|(_, r)| matches!(r.target, Target::Events(_)))
            .map(|(i, _)| i)
            .collect();
        Engine { rules, web, events }
    }

    /// The rules, in load order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Whether any rule reads web records.
    pub fn wants_web(&self) -> bool {
        !self.web.is_empty()
    }

    /// Whether any rule reads Windows events.
    pub fn wants_events(&self) -> bool {
        !self.events.is_empty()
    }

    /// Adds to `out` the index of every rule the record in `view` matches.
    pub fn matches(&self, view: &View, out: &mut Vec<usize>) {
        let candidates = match view.kind() {
            Kind::Web => &self.web,
            Kind::Event { .. } => &self.events,
        };
        for &i in candidates {
            let rule = &self.rules[i];
            if applies(&rule.target, view.kind())
                && rule.condition.eval(&mut |s| search(&rule.searches[s], view))
            {
                out.push(i);
            }
        }
    }
}

fn applies(target: &Target, kind: &Kind) -> bool {
    match (target, kind) {
        (Target::Web, Kind::Web) => true,
        (Target::Events(pairs), Kind::Event { channel, id }) => {
            pairs.is_empty() || pairs.iter().any(|(c, want)| c == channel && want.is_none_or(|w| w == *id))
        }
        _ => false,
    }
}

fn search(s: &Search, view: &View) -> bool {
    match s {
        Search::Selections(maps) => maps.iter().any(|tests| tests.iter().all(|t| test(t, view))),
        Search::Keywords(patterns) => patterns.iter().any(|p| p.matches(view.keywords())),
    }
}

fn test(t: &FieldTest, view: &View) -> bool {
    fn pick<'v>(cased: bool, (raw, lower): (&'v str, &'v str)) -> &'v str {
        if cased { raw } else { lower }
    }
    let value = |pair| pick(t.cased, pair);
    let mut values = view.values(&t.field).peekable();
    if values.peek().is_none() {
        return if t.all {
            t.patterns.iter().all(|p| p.matches_missing())
        } else {
            t.patterns.iter().any(|p| p.matches_missing())
        };
    }
    if t.all {
        let values: Vec<&str> = values.map(value).collect();
        t.patterns.iter().all(|p| values.iter().any(|v| p.matches(v)))
    } else {
        values.map(value).any(|v| t.patterns.iter().any(|p| p.matches(v)))
    }
}
