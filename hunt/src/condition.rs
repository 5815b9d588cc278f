//! A Sigma `condition`: search identifiers joined by `and`, `or`, `not`,
//! parentheses, and `1 of` / `all of` over a name pattern or `them`.

use crate::rule::Unsupported;

/// A parsed condition, its searches referred to by index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// One search.
    Search(usize),
    /// Every one.
    And(Vec<Condition>),
    /// Any one.
    Or(Vec<Condition>),
    /// Not.
    Not(Box<Condition>),
}

impl Condition {
    /// Evaluates with `search(i)` telling whether the i-th search matched.
    pub fn eval(&self, search: &mut impl FnMut(usize) -> bool) -> bool {
        match self {
            Condition::Search(i) => search(*i),
            Condition::And(all) => all.iter().all(|c| c.eval(search)),
            Condition::Or(any) => any.iter().any(|c| c.eval(search)),
            Condition::Not(c) => !c.eval(search),
        }
    }

    /// Parses `text` over the named searches.
    pub fn parse(text: &str, names: &[String]) -> Result<Condition, Unsupported> {
        if text.contains('|') {
            return Err(Unsupported::Condition(
                "aggregation (`| count()`), replaced by correlation rules".into(),
            ));
        }
        let tokens = tokenize(text);
        let index = names.iter().enumerate().rev().map(|(i, n)| (n.as_str(), i)).collect();
        let mut p = Parser { tokens: &tokens, at: 0, names, index, depth: 0, scanned: 0, terms: 0 };
        let c = p.or()?;
        if p.at != tokens.len() {
            return Err(Unsupported::Condition(format!("unexpected `{}`", tokens[p.at])));
        }
        Ok(c)
    }
}

fn tokenize(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    for c in text.chars() {
        match c {
            '(' | ')' => {
                if !word.is_empty() {
                    out.push(std::mem::take(&mut word));
                }
                out.push(c.to_string());
            }
            c if c.is_whitespace() => {
                if !word.is_empty() {
                    out.push(std::mem::take(&mut word));
                }
            }
            c => word.push(c),
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

/// How deep parentheses and `not`s may nest. SigmaHQ's conditions nest a
/// few levels; a rule file nesting thousands overflowed the stack (the
/// parser, evaluation and drop all recurse once per level) and aborted the
/// run.
const DEEPEST: usize = 64;

/// How many search names the `of` quantifiers of one condition may look
/// through in all: each looks through every name, so a generated rule of
/// 100,000 searches and as many quantifiers would take 10^10 steps.
const MOST_NAMES_SCANNED: usize = 50_000_000;

/// How many searches a condition may name, each `of` counting every search
/// it stands for: 500 `1 of s*` over 100,000 searches built 50 million
/// nodes (1.6 GB), each evaluated on every record.
const MOST_TERMS: usize = 1_000_000;

struct Parser<'a> {
    tokens: &'a [String],
    at: usize,
    names: &'a [String],
    /// Each name's index (the first, should a name repeat): a condition
    /// naming each of 100,000 searches once looked each up in the list, for
    /// 32 seconds.
    index: std::collections::HashMap<&'a str, usize>,
    /// Parentheses and `not`s open around the token at `at`.
    depth: usize,
    /// Names the `of` quantifiers looked through so far.
    scanned: usize,
    /// Searches the condition names so far.
    terms: usize,
}

impl Parser<'_> {
    /// Parses `inner` one level deeper, refused past [`DEEPEST`].
    fn nested(
        &mut self,
        inner: impl FnOnce(&mut Self) -> Result<Condition, Unsupported>,
    ) -> Result<Condition, Unsupported> {
        if self.depth == DEEPEST {
            return Err(Unsupported::Condition(format!("nested more than {DEEPEST} levels deep")));
        }
        self.depth += 1;
        let c = inner(self);
        self.depth -= 1;
        c
    }

    /// Counts `n` more searches named, refused past [`MOST_TERMS`].
    fn count_terms(&mut self, n: usize) -> Result<(), Unsupported> {
        self.terms += n;
        if self.terms > MOST_TERMS {
            return Err(Unsupported::Condition(format!("it names more than {MOST_TERMS} searches")));
        }
        Ok(())
    }

    fn peek(&self) -> Option<&str> {
        self.tokens.get(self.at).map(String::as_str)
    }

    fn next(&mut self) -> Option<&str> {
        let t = self.tokens.get(self.at)?;
        self.at += 1;
        Some(t)
    }

    fn or(&mut self) -> Result<Condition, Unsupported> {
        let mut parts = vec![self.and()?];
        while self.peek().is_some_and(|t| t.eq_ignore_ascii_case("or")) {
            self.at += 1;
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Condition::Or(parts) })
    }

    fn and(&mut self) -> Result<Condition, Unsupported> {
        let mut parts = vec![self.not()?];
        while self.peek().is_some_and(|t| t.eq_ignore_ascii_case("and")) {
            self.at += 1;
            parts.push(self.not()?);
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Condition::And(parts) })
    }

    fn not(&mut self) -> Result<Condition, Unsupported> {
        if self.peek().is_some_and(|t| t.eq_ignore_ascii_case("not")) {
            self.at += 1;
            return self.nested(|p| Ok(Condition::Not(Box::new(p.not()?))));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Condition, Unsupported> {
        let token = self.next().ok_or_else(|| Unsupported::Condition("ends too early".into()))?.to_string();
        if token == "(" {
            return self.nested(|p| {
                let c = p.or()?;
                match p.next() {
                    Some(")") => Ok(c),
                    _ => Err(Unsupported::Condition("a `(` is not closed".into())),
                }
            });
        }
        let quantifier = token.to_ascii_lowercase();
        if matches!(quantifier.as_str(), "1" | "any" | "all")
            && self.peek().is_some_and(|t| t.eq_ignore_ascii_case("of"))
        {
            self.at += 1;
            let target = self.next().ok_or_else(|| Unsupported::Condition("`of` what?".into()))?.to_string();
            self.scanned += self.names.len();
            if self.scanned > MOST_NAMES_SCANNED {
                return Err(Unsupported::Condition(format!(
                    "its `of` quantifiers would look through more than {MOST_NAMES_SCANNED} search names"
                )));
            }
            let chosen: Vec<Condition> = self
                .names
                .iter()
                .enumerate()
                .filter(|(_, n)| target == "them" && !n.starts_with('_') || glob_name(&target, n))
                .map(|(i, _)| Condition::Search(i))
                .collect();
            if chosen.is_empty() {
                return Err(Unsupported::Condition(format!("no search matches `{target}`")));
            }
            self.count_terms(chosen.len())?;
            return Ok(if quantifier == "all" { Condition::And(chosen) } else { Condition::Or(chosen) });
        }
        match self.index.get(token.as_str()) {
            Some(&i) => self.count_terms(1).map(|()| Condition::Search(i)),
            None => Err(Unsupported::Condition(format!("no search named `{token}`"))),
        }
    }
}

/// `selection_*` against a search name.
fn glob_name(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        Some((head, tail)) => {
            name.len() >= head.len() + tail.len() && name.starts_with(head) && name.ends_with(tail)
        }
        None => pattern == name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: &[&str]) -> Vec<String> {
        n.iter().map(|s| s.to_string()).collect()
    }

    fn run(text: &str, n: &[&str], truth: &[bool]) -> bool {
        Condition::parse(text, &names(n)).expect("parses").eval(&mut |i| truth[i])
    }

    #[test]
    fn precedence_quantifiers_and_parentheses() {
        let n = ["selection", "filter_main_a", "filter_main_b", "keywords"];
        assert!(run("selection and not 1 of filter_main_*", &n, &[true, false, false, false]));
        assert!(!run("selection and not 1 of filter_main_*", &n, &[true, false, true, false]));
        assert!(run("selection or keywords and filter_main_a", &n, &[true, false, false, false]));
        assert!(!run("(selection or keywords) and filter_main_a", &n, &[true, false, false, false]));
        assert!(run("all of filter_main_*", &n, &[false, true, true, false]));
        assert!(run("1 of them", &n, &[false, false, false, true]));
        assert!(Condition::parse("selection | count() > 5", &names(&n)).is_err());
        assert!(Condition::parse("selektion", &names(&n)).is_err());
    }

    /// A generated rule of 100,000 searches, each named once in its
    /// condition, parses to the right searches; `of` quantifiers that look
    /// through too many names, or stand for too many searches, are refused
    /// with the reason.
    #[test]
    fn a_condition_over_many_searches_parses_and_many_quantifiers_are_refused() {
        let n: Vec<String> = (0..100_000).map(|i| format!("s{i}")).collect();
        let text = n.iter().map(String::as_str).collect::<Vec<_>>().join(" or ");
        let c = Condition::parse(&text, &n).expect("parses");
        let mut asked = Vec::new();
        assert!(!c.eval(&mut |i| {
            asked.push(i);
            false
        }));
        assert!(asked.iter().copied().eq(0..100_000), "each search once, in order");
        assert!(c.eval(&mut |i| i == 99_999));
        let quantified = vec!["1 of s99999*"; 1_000].join(" or ");
        let refused = Condition::parse(&quantified, &n).expect_err("too many names looked through");
        assert!(refused.to_string().contains("would look through more than"), "{refused}");
        let refused = Condition::parse(&["1 of s*"; 100].join(" or "), &n).expect_err("10 M terms");
        assert!(refused.to_string().contains("names more than 1000000 searches"), "{refused}");
        assert!(Condition::parse(&["1 of s*"; 10].join(" or "), &n).is_ok());
    }

    /// A hostile rule nesting its condition thousands deep is refused with
    /// its reason: it overflowed the stack, which aborts the whole run.
    #[test]
    fn a_condition_nested_past_the_limit_is_refused_not_overflowed() {
        let n = names(&["selection"]);
        let deep = |levels: usize| {
            (
                format!("{}selection{}", "(".repeat(levels), ")".repeat(levels)),
                format!("{}selection", "not ".repeat(levels)),
                format!("{}selection{}", "( not ".repeat(levels / 2), ")".repeat(levels / 2)),
            )
        };
        let (parens, nots, mixed) = deep(DEEPEST);
        assert!(run(&parens, &["selection"], &[true]));
        assert!(run(&nots, &["selection"], &[true]));
        assert!(run(&mixed, &["selection"], &[true]));
        let (parens, nots, mixed) = deep(200_000);
        for text in [parens, nots, mixed] {
            let refused = Condition::parse(&text, &n).expect_err("too deep");
            assert!(refused.to_string().contains("nested more than 64 levels deep"), "{refused}");
        }
    }
}
