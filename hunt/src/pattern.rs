//! How one Sigma value is compared with one field value: the value's
//! wildcards and the field's modifiers (`contains`, `startswith`,
//! `endswith`, `re`, `cidr`, `exists`, `windash`, `cased`, `gt`, `base64`,
//! `base64offset`, `utf16le`, `fieldref`...) turned
//! into a matcher once, when the rule is loaded.

use std::net::IpAddr;

use regex::Regex;

use crate::rule::Unsupported;

/// A compiled comparison. Strings compare case-insensitively (Sigma's
/// default) unless the rule says `cased`: needles are kept lower-case and
/// values are lower-cased once per record.
#[derive(Debug, Clone)]
pub enum Pattern {
    /// The whole value.
    Equals(String),
    /// Anywhere in the value (with its searcher, built once).
    Contains(Box<Needle>),
    /// At the start.
    StartsWith(String),
    /// At the end.
    EndsWith(String),
    /// A regular expression (`re`).
    Regex(Regex),
    /// A value with wildcards inside, compiled to a regular expression,
    /// with literal runs every match holds, each within one value (the
    /// longest first): a value a run is not in cannot match, which is
    /// checked first (and lets an engine skip the record).
    Wildcard(Regex, Vec<Needle>),
    /// An address inside a network.
    Cidr(IpAddr, u8),
    /// The field is present (or absent).
    Exists(bool),
    /// The field is absent or empty (`null` in the rule).
    Null,
    /// A number compared with the value.
    Number(Compare, f64),
    /// The value equals a value of another field of the same record
    /// (`fieldref`; the lower-case name of that field), read by the engine,
    /// which holds the record.
    FieldRef(String),
}

/// A substring and its searcher, built once when the rule loads (building
/// one per comparison cost a fifth of a hunt).
#[derive(Clone)]
pub struct Needle {
    finder: memchr::memmem::Finder<'static>,
    /// Its number among the engine's needles for its field, once an engine
    /// has indexed it (then one automaton per field finds them all at once).
    pub id: Option<usize>,
    /// A stretch of a keyword needle that a space follows there: where it
    /// lies in keyword text, it ends a value or a space follows it.
    space_after: bool,
}

impl Needle {
    fn new(text: String) -> Needle {
        Needle {
            finder: memchr::memmem::Finder::new(text.as_bytes()).into_owned(),
            id: None,
            space_after: false,
        }
    }

    /// Whether a space follows this stretch in its keyword needle.
    pub fn space_after(&self) -> bool {
        self.space_after
    }

    /// The text searched for.
    pub fn text(&self) -> &[u8] {
        self.finder.needle()
    }
}

impl std::fmt::Debug for Needle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.finder.needle()))
    }
}

/// A numeric comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compare {
    /// `gt`.
    Greater,
    /// `gte`.
    GreaterOrEqual,
    /// `lt`.
    Less,
    /// `lte`.
    LessOrEqual,
    /// `eq` (correlation conditions).
    Equal,
}

/// The modifiers of one field, parsed from `field|mod|mod`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Modifiers {
    contains: bool,
    starts: bool,
    ends: bool,
    regex: bool,
    regex_insensitive: bool,
    cidr: bool,
    exists: bool,
    windash: bool,
    cased: bool,
    compare: Option<Compare>,
    /// How the value is encoded before it is compared (`base64`,
    /// `base64offset`).
    encoding: Option<Encoding>,
    /// The text form encoded (`utf16le`, `wide`...); UTF-8 when none.
    utf16: Option<Utf16>,
    /// The value names another field of the record (`fieldref`).
    field_ref: bool,
    /// Every value must match (`all`), not any.
    pub all: bool,
}

/// A value encoded as a command line or script carries it (`powershell
/// -enc ...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    /// The value's Base64 form.
    Base64,
    /// The value's three Base64 forms as part of a longer encoded text,
    /// one per offset modulo 3 (the characters its neighbours change cut
    /// off).
    Base64Offset,
}

/// UTF-16 forms of a value before it is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Utf16 {
    /// Little-endian (`utf16le`, `wide`: what Windows and PowerShell's
    /// `-EncodedCommand` use).
    Le,
    /// Big-endian (`utf16be`).
    Be,
    /// Little-endian after a byte-order mark (`utf16`).
    Bom,
}

impl Modifiers {
    /// Reads the modifiers after a field name.
    pub fn parse<'a>(names: impl Iterator<Item = &'a str>) -> Result<Modifiers, Unsupported> {
        let mut m = Modifiers::default();
        for name in names {
            match name {
                "contains" => m.contains = true,
                "startswith" => m.starts = true,
                "endswith" => m.ends = true,
                "all" => m.all = true,
                "re" => m.regex = true,
                "i" => m.regex_insensitive = true,
                "m" | "s" => {}
                "cidr" => m.cidr = true,
                "exists" => m.exists = true,
                "windash" => m.windash = true,
                "cased" => m.cased = true,
                "gt" => m.compare = Some(Compare::Greater),
                "gte" => m.compare = Some(Compare::GreaterOrEqual),
                "lt" => m.compare = Some(Compare::Less),
                "lte" => m.compare = Some(Compare::LessOrEqual),
                "base64" => m.encoding = Some(Encoding::Base64),
                "base64offset" => m.encoding = Some(Encoding::Base64Offset),
                // A text form is chosen before it is encoded.
                "utf16le" | "wide" | "utf16be" | "utf16" if m.encoding.is_some() => {
                    return Err(Unsupported::Modifier(format!("{name} after base64")));
                }
                "fieldref" => m.field_ref = true,
                "utf16le" | "wide" => m.utf16 = Some(Utf16::Le),
                "utf16be" => m.utf16 = Some(Utf16::Be),
                "utf16" => m.utf16 = Some(Utf16::Bom),
                other => return Err(Unsupported::Modifier(other.to_string())),
            }
        }
        // Fields are read as text: a UTF-16 form means something only
        // encoded as Base64, and an encoded value is text to look for,
        // not an expression, a network, a number or a presence.
        if m.utf16.is_some() && m.encoding.is_none() {
            return Err(Unsupported::Modifier("utf16 without base64 or base64offset".to_string()));
        }
        if m.encoding.is_some() && (m.regex || m.cidr || m.exists || m.compare.is_some()) {
            return Err(Unsupported::Modifier("base64 with re, cidr, exists or a comparison".to_string()));
        }
        // A reference compares two values whole, as they are written.
        let transformed = m.encoding.is_some() || m.windash || m.regex || m.cidr || m.exists;
        if m.field_ref && (transformed || m.contains || m.starts || m.ends || m.compare.is_some()) {
            return Err(Unsupported::Modifier(
                "fieldref with another modifier than cased or all".to_string(),
            ));
        }
        Ok(m)
    }

    /// Whether values must be compared with their case (Base64's letters
    /// are its data).
    pub fn cased(self) -> bool {
        self.cased || self.regex || self.encoding.is_some()
    }

    /// The patterns one rule value stands for (`windash` gives several).
    pub fn compile(self, value: &SigmaValue) -> Result<Vec<Pattern>, Unsupported> {
        let text = match value {
            SigmaValue::Null if self.field_ref => return Err(Unsupported::Value("null".to_string())),
            SigmaValue::Null => return Ok(vec![Pattern::Null]),
            SigmaValue::Bool(b) if self.exists => return Ok(vec![Pattern::Exists(*b)]),
            SigmaValue::Bool(b) => b.to_string(),
            SigmaValue::Number(n) => {
                if let Some(c) = self.compare {
                    return Ok(vec![Pattern::Number(c, *n)]);
                }
                number_text(*n)
            }
            SigmaValue::Text(t) => t.clone(),
        };
        if self.field_ref {
            let name = crate::record::canonical_field(&text.trim().to_ascii_lowercase()).to_string();
            return Ok(vec![Pattern::FieldRef(name)]);
        }
        if let Some(c) = self.compare {
            let n = text.trim().parse().map_err(|_| Unsupported::Value(text.clone()))?;
            return Ok(vec![Pattern::Number(c, n)]);
        }
        if self.regex {
            let source = if self.regex_insensitive { format!("(?i){text}") } else { text };
            let re = Regex::new(&source).map_err(regex_refused)?;
            return Ok(vec![Pattern::Regex(re)]);
        }
        if self.cidr {
            let (ip, bits) = parse_cidr(&text).ok_or_else(|| Unsupported::Value(text.clone()))?;
            return Ok(vec![Pattern::Cidr(ip, bits)]);
        }
        let variants = if self.windash { windash(&text) } else { vec![text] };
        match self.encoding {
            None => variants.into_iter().map(|v| self.wildcard(&v)).collect(),
            Some(encoding) => {
                let mut out = Vec::new();
                for v in variants {
                    // Wildcards cannot be encoded: an encoded `*` is no
                    // longer one.
                    let literal = unescape(&v).ok_or_else(|| Unsupported::Value(v.clone()))?;
                    let bytes = match self.utf16 {
                        Some(u) => u.bytes(&literal),
                        None => literal.into_bytes(),
                    };
                    for form in encoding.forms(&bytes) {
                        out.push(self.wildcard(&form)?);
                    }
                }
                if out.is_empty() {
                    return Err(Unsupported::Value(String::new()));
                }
                Ok(out)
            }
        }
    }

    /// A plain value with Sigma's wildcards (`*`, `?`, `\` escapes) under
    /// this field's position modifiers.
    fn wildcard(self, value: &str) -> Result<Pattern, Unsupported> {
        let (mut head, mut tail) = (self.starts || self.contains, self.ends || self.contains);
        let mut core = value;
        // Leading and trailing `*` are the cheap forms of contains.
        if !self.contains {
            if let Some(rest) = core.strip_prefix('*').filter(|r| !r.ends_with('\\')) {
                core = rest;
                tail = true;
            }
            if core.ends_with('*') && !core.ends_with("\\*") {
                core = &core[..core.len() - 1];
                head = true;
            }
        }
        let has_wildcard = core.chars().any(|c| matches!(c, '*' | '?'));
        let literal = unescape(core);
        let literal = if self.cased() { literal } else { literal.map(|l| l.to_lowercase()) };
        if !has_wildcard || literal.is_none() {
            let text = match literal {
                Some(t) => t,
                None => return self.glob_regex(value),
            };
            return Ok(match (head, tail) {
                (true, true) => Pattern::Contains(Box::new(Needle::new(text))),
                (true, false) => Pattern::StartsWith(text),
                (false, true) => Pattern::EndsWith(text),
                (false, false) => Pattern::Equals(text),
            });
        }
        self.glob_regex(value)
    }

    /// A wildcard value as an anchored regular expression.
    fn glob_regex(self, value: &str) -> Result<Pattern, Unsupported> {
        let mut re = String::from(if self.cased() { "" } else { "(?i)" });
        if !(self.contains || self.ends) {
            re.push('^');
        }
        let mut chars = value.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' if matches!(chars.peek(), Some('*' | '?' | '\\')) => {
                    re.push_str(&regex::escape(&chars.next().unwrap_or('\\').to_string()));
                }
                '*' => re.push_str(".*"),
                '?' => re.push('.'),
                other => re.push_str(&regex::escape(&other.to_string())),
            }
        }
        if !(self.contains || self.starts) {
            re.push('$');
        }
        let regex = Regex::new(&re).map_err(regex_refused)?;
        // An ASCII run only: needles are found without ASCII case, and a
        // run lower-cased through Unicode's tables could miss its value.
        let run = literal_runs(value)
            .into_iter()
            .filter(|r| r.is_ascii())
            .max_by_key(|r| r.len())
            .filter(|r| r.len() >= 3);
        let run = if self.cased() { run } else { run.map(|r| r.to_lowercase()) };
        Ok(Pattern::Wildcard(regex, run.map(Needle::new).into_iter().collect()))
    }
}

impl Utf16 {
    fn bytes(self, text: &str) -> Vec<u8> {
        let units = text.encode_utf16();
        match self {
            Utf16::Le => units.flat_map(u16::to_le_bytes).collect(),
            Utf16::Be => units.flat_map(u16::to_be_bytes).collect(),
            Utf16::Bom => [0xFF, 0xFE].into_iter().chain(units.flat_map(u16::to_le_bytes)).collect(),
        }
    }
}

impl Encoding {
    /// The texts an encoded value is looked for as (of `base64offset`,
    /// none empty).
    fn forms(self, bytes: &[u8]) -> Vec<String> {
        match self {
            Encoding::Base64 => vec![base64(bytes)],
            Encoding::Base64Offset => (0..3)
                .map(|shift| {
                    // The value after `shift` bytes of anything: the first
                    // characters hold those bytes too, the last ones the
                    // bytes after it.
                    let mut shifted = vec![b' '; shift];
                    shifted.extend_from_slice(bytes);
                    let text = base64(&shifted);
                    let start = [0, 2, 3][shift];
                    let cut = [0, 3, 2][(bytes.len() + shift) % 3];
                    text.get(start..text.len().saturating_sub(cut)).unwrap_or_default().to_string()
                })
                .filter(|form| !form.is_empty())
                .collect(),
        }
    }
}

/// Standard Base64 with padding (RFC 4648).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for group in bytes.chunks(3) {
        let n = group.iter().enumerate().fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= group.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// `\*`, `\?` and `\\` unescaped; `None` when an unescaped wildcard is left.
fn unescape(value: &str) -> Option<String> {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if matches!(chars.peek(), Some('*' | '?' | '\\')) => out.push(chars.next()?),
            '*' | '?' => return None,
            other => out.push(other),
        }
    }
    Some(out)
}

/// The literal runs between a value's unescaped wildcards, unescaped.
fn literal_runs(value: &str) -> Vec<String> {
    let mut runs = vec![String::new()];
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if matches!(chars.peek(), Some('*' | '?' | '\\')) => {
                runs.last_mut().into_iter().for_each(|r| r.extend(chars.next()));
            }
            '*' | '?' => runs.push(String::new()),
            other => runs.last_mut().into_iter().for_each(|r| r.push(other)),
        }
    }
    runs.retain(|r| !r.is_empty());
    runs
}

/// The dash forms Windows command lines accept for a `-flag`.
fn windash(value: &str) -> Vec<String> {
    const DASHES: [char; 5] = ['-', '/', '\u{2013}', '\u{2014}', '\u{2015}'];
    if !value.contains('-') {
        return vec![value.to_string()];
    }
    DASHES.iter().map(|d| value.replace('-', &d.to_string())).collect()
}

fn number_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 { format!("{}", n as i64) } else { n.to_string() }
}

/// A value as a rule writes it.
#[derive(Debug, Clone, PartialEq)]
pub enum SigmaValue {
    /// A string.
    Text(String),
    /// A number.
    Number(f64),
    /// `true` or `false`.
    Bool(bool),
    /// `null`.
    Null,
}

/// A network in CIDR notation (`10.0.0.0/8`, `2001:db8::/32`, or one
/// address).
pub fn parse_cidr(text: &str) -> Option<(IpAddr, u8)> {
    let text = text.trim();
    let (ip, bits) = text.split_once('/').unwrap_or((text, ""));
    let ip: IpAddr = ip.parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let bits = if bits.is_empty() { max } else { bits.parse().ok()? };
    (bits <= max).then_some((ip, bits))
}

impl Pattern {
    /// The pattern as a keyword search reads it: keyword text is every
    /// value joined by spaces, so a needle with a space may span two
    /// values. Such a needle becomes a literal regular expression over
    /// that text, with its space-free stretches (two characters or more,
    /// the longest first) as needles that must each be in one value
    /// (`order by ` needs `order` and `by`, and `order` alone is in every
    /// `/api/orders` request); a wildcard value's run is cut at spaces too.
    pub fn for_keywords(self) -> Pattern {
        fn stretches(text: &[u8]) -> Vec<Needle> {
            let split: Vec<&[u8]> = text.split(|&b| b == b' ').collect();
            let last = split.len() - 1;
            let mut parts: Vec<(&[u8], bool)> = split
                .into_iter()
                .enumerate()
                .map(|(i, s)| (s, i < last))
                .filter(|(s, _)| s.len() >= 2)
                .collect();
            // Equal stretches side by side, so that each is kept once: as
            // followed by a space if one of them is.
            parts.sort_by_key(|&(s, after)| (std::cmp::Reverse(s.len()), s, !after));
            parts.dedup_by_key(|(s, _)| *s);
            let needle = |(p, space_after): (&[u8], bool)| Needle {
                space_after,
                ..Needle::new(String::from_utf8_lossy(p).into_owned())
            };
            parts.into_iter().map(needle).collect()
        }
        match self {
            Pattern::Contains(n) if n.text().contains(&b' ') => {
                let text = String::from_utf8_lossy(n.text()).into_owned();
                match Regex::new(&regex::escape(&text)) {
                    Ok(re) => Pattern::Wildcard(re, stretches(n.text())),
                    Err(_) => Pattern::Contains(n),
                }
            }
            Pattern::Wildcard(re, runs) if runs.iter().any(|r| r.text().contains(&b' ')) => {
                let runs = runs.iter().flat_map(|r| stretches(r.text())).collect();
                Pattern::Wildcard(re, runs)
            }
            other => other,
        }
    }
}

impl Pattern {
    /// Whether `value` (lower-cased unless the field is `cased`) matches.
    pub fn matches(&self, value: &str) -> bool {
        match self {
            Pattern::Equals(n) => value == n,
            Pattern::Contains(n) => n.finder.find(value.as_bytes()).is_some(),
            Pattern::StartsWith(n) => value.starts_with(n.as_str()),
            Pattern::EndsWith(n) => value.ends_with(n.as_str()),
            Pattern::Regex(re) => re.is_match(value),
            Pattern::Wildcard(re, runs) => {
                runs.iter().all(|n| n.finder.find(value.as_bytes()).is_some()) && re.is_match(value)
            }
            Pattern::Cidr(net, bits) => {
                value.trim().parse::<IpAddr>().is_ok_and(|ip| in_network(ip, *net, *bits))
            }
            Pattern::Exists(want) => *want,
            // Decided by the engine, which holds the record.
            Pattern::FieldRef(_) => false,
            Pattern::Null => value.is_empty() || value == "-",
            Pattern::Number(c, n) => value.trim().parse::<f64>().is_ok_and(|v| match c {
                Compare::Greater => v > *n,
                Compare::GreaterOrEqual => v >= *n,
                Compare::Less => v < *n,
                Compare::LessOrEqual => v <= *n,
                Compare::Equal => v == *n,
            }),
        }
    }

    /// The other field a `fieldref` compares with.
    pub fn referenced_field(&self) -> Option<&str> {
        match self {
            Pattern::FieldRef(other) => Some(other),
            _ => None,
        }
    }

    /// What the pattern says when the field is missing from the record.
    pub fn matches_missing(&self) -> bool {
        matches!(self, Pattern::Exists(false) | Pattern::Null)
    }
}

/// Whether `ip` is inside `net/bits`.
pub fn in_network(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let mask = if bits == 0 { 0 } else { u32::MAX << (32 - u32::from(bits)) };
            u32::from(a) & mask == u32::from(b) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let mask = if bits == 0 { 0 } else { u128::MAX << (128 - u32::from(bits)) };
            u128::from(a) & mask == u128::from(b) & mask
        }
        // A dual-stack server logs an IPv4 client as `::ffff:10.1.2.3`: the
        // same address as `10.1.2.3`, in either family's network.
        (IpAddr::V6(a), IpAddr::V4(_)) => {
            a.to_ipv4_mapped().is_some_and(|a| in_network(IpAddr::V4(a), net, bits))
        }
        (IpAddr::V4(_), IpAddr::V6(b)) => match b.to_ipv4_mapped() {
            Some(b) if bits >= 96 => in_network(ip, IpAddr::V4(b), bits - 96),
            _ => false,
        },
    }
}

/// Why a regular expression was refused, on one line: the engine's message
/// draws the expression with a caret under the fault over several lines,
/// which a load report would show as lines of its own.
fn regex_refused(e: regex::Error) -> Unsupported {
    let text = e.to_string();
    let reason = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("error: "))
        .map_or_else(|| text.split_whitespace().collect::<Vec<_>>().join(" "), str::to_string);
    Unsupported::Regex(reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compile(mods: &[&str], value: &str) -> Vec<Pattern> {
        Modifiers::parse(mods.iter().copied())
            .and_then(|m| m.compile(&SigmaValue::Text(value.into())))
            .expect("compiles")
    }

    fn any(p: &[Pattern], v: &str) -> bool {
        p.iter().any(|p| p.matches(v))
    }

    #[test]
    fn wildcards_and_position_modifiers() {
        assert!(any(&compile(&[], "*\\cmd.exe"), "c:\\windows\\system32\\cmd.exe"));
        assert!(!any(&compile(&[], "*\\cmd.exe"), "c:\\windows\\system32\\cmd.exe.bak"));
        assert!(any(&compile(&["contains"], "../etc/"), "/x/../../etc/passwd"));
        assert!(any(&compile(&["startswith"], "/ECP/"), "/ecp/default.flt"));
        assert!(any(&compile(&[], "a?c*"), "abcdef"));
        assert!(!any(&compile(&[], "a\\*c"), "abbc"));
        assert!(any(&compile(&[], "a\\*c"), "a*c"));
        assert!(any(&compile(&["windash", "contains"], " -enc "), "powershell /enc abc"));
        // The literal run is a necessary part, not the whole test.
        let p = compile(&[], "*/config/keystore/*.js*");
        assert!(matches!(&p[0], Pattern::Wildcard(_, runs) if runs[0].text() == b"/config/keystore/"));
        assert!(any(&p, "/ws_utc/resources/setting/config/keystore/x.jsp"));
        assert!(!any(&p, "/config/keystore/x.css"));
        assert!(literal_runs("?doas=`").contains(&"doas=`".to_string()));
        assert_eq!(literal_runs("a\\*b*c"), ["a*b", "c"]);
    }

    #[test]
    fn keyword_needles_with_spaces_may_span_values() {
        // "get /admin" spans the method and the path in keyword text.
        let p = compile(&["contains"], "GET /admin").remove(0).for_keywords();
        assert!(matches!(&p, Pattern::Wildcard(_, runs)
            if runs[0].text() == b"/admin" && !runs[0].space_after() && runs[1].text() == b"get"));
        assert!(p.matches("get /admin/users 200"));
        assert!(!p.matches("post /admin get"));
        // Every stretch of two characters or more must be in some value.
        let p = compile(&["contains"], "order by ").remove(0).for_keywords();
        let Pattern::Wildcard(_, runs) = &p else { panic!("{p:?}") };
        // Both are followed by a space; "get /admin"'s last stretch is not.
        assert_eq!(
            runs.iter().map(|r| (r.text(), r.space_after())).collect::<Vec<_>>(),
            [(&b"order"[..], true), (&b"by"[..], true)]
        );
        assert!(p.matches("get /list?sort=name order by date 200"));
        assert!(!p.matches("get /api/orders 200"));
        let p = compile(&["contains"], "whoami").remove(0).for_keywords();
        assert!(matches!(p, Pattern::Contains(_)), "a needle without a space stays one");
        // A stretch written twice is one needle.
        let p = compile(&["contains"], "a bc de bc").remove(0).for_keywords();
        assert!(matches!(&p, Pattern::Wildcard(_, runs) if runs.len() == 2), "{p:?}");
        // As followed by a space: one of its places is.
        let p = compile(&["contains"], "bc de bc").remove(0).for_keywords();
        let Pattern::Wildcard(_, runs) = &p else { panic!("{p:?}") };
        assert!(runs.iter().all(|r| r.space_after()), "{runs:?}");
    }

    /// The texts each pattern looks for.
    fn needles(p: &[Pattern]) -> Vec<String> {
        p.iter()
            .map(|p| match p {
                Pattern::Contains(n) => String::from_utf8_lossy(n.text()).into_owned(),
                Pattern::Equals(t) => t.clone(),
                other => panic!("{other:?}"),
            })
            .collect()
    }

    /// Base64 forms as PowerShell's `-EncodedCommand` and droppers carry a
    /// value; the expected texts were made by another Base64 encoder.
    #[test]
    fn encoded_values() {
        assert_eq!(needles(&compile(&["base64"], "whoami")), ["d2hvYW1p"]);
        assert_eq!(needles(&compile(&["wide", "base64"], "whoami")), ["dwBoAG8AYQBtAGkA"]);
        assert_eq!(needles(&compile(&["utf16le", "base64"], "whoami")), ["dwBoAG8AYQBtAGkA"]);
        assert_eq!(needles(&compile(&["utf16be", "base64"], "whoami")), ["AHcAaABvAGEAbQBp"]);
        assert_eq!(needles(&compile(&["utf16", "base64"], "whoami")), ["//53AGgAbwBhAG0AaQA="]);
        let offsets = compile(&["base64offset", "contains"], "http://");
        assert_eq!(needles(&offsets), ["aHR0cDovL", "h0dHA6Ly", "odHRwOi8v"]);
        // At offset 0 of a request, and deep inside a dropper's command.
        assert!(any(&offsets, "R0VUIC94P3E9aHR0cDovL2V2aWw="), "GET /x?q=http://evil");
        let dropper = "eHhJRVggKE5ldy1PYmplY3QgTmV0LldlYmNsaWVudCkuRG93bmxvYWRTdHJpbmcoJ2h0dHA6Ly8xMjcuMC4wLjE6ODA4MC9hJyk=";
        assert!(any(&offsets, dropper));
        assert!(!any(&offsets, &dropper.to_lowercase()), "Base64's letters are its data: cased");
        let wide = compile(&["utf16le", "base64offset", "contains"], "whoami");
        assert_eq!(needles(&wide), ["dwBoAG8AYQBtAGkA", "cAaABvAGEAbQBpA", "3AGgAbwBhAG0AaQ"]);
        assert!(any(&wide, "powershell -enc YwBtAGQAIAAvAGMAIAB3AGgAbwBhAG0AaQA="), "cmd /c whoami");
        assert!(!any(&wide, "powershell -enc YwBtAGQAIAAvAGMAIABkAGkAcgA="), "cmd /c dir");
        // A one-byte value has no middle at one offset: that form is dropped.
        assert_eq!(needles(&compile(&["base64offset", "contains"], "a")), ["Y", "h"]);
        let mods = Modifiers::parse(["base64offset", "contains"].into_iter()).expect("mods");
        assert!(
            matches!(mods.compile(&SigmaValue::Text("http*".into())), Err(Unsupported::Value(_))),
            "a wildcard cannot be encoded"
        );
        let escaped = compile(&["base64"], "a\\*b");
        assert_eq!(needles(&escaped), ["YSpi"], "an escaped `*` is a character");
    }

    #[test]
    fn regex_cidr_numbers_and_presence() {
        assert!(any(&compile(&["re"], "^/[a-z]+\\.aspx$"), "/shell.aspx"));
        assert!(any(&compile(&["cidr"], "10.0.0.0/8"), "10.1.2.3"));
        assert!(!any(&compile(&["cidr"], "10.0.0.0/8"), "11.1.2.3"));
        // An IPv4 client as a dual-stack server logs it, and the other way round.
        assert!(any(&compile(&["cidr"], "10.0.0.0/8"), "::ffff:10.1.2.3"));
        assert!(!any(&compile(&["cidr"], "10.0.0.0/8"), "::ffff:11.1.2.3"));
        assert!(!any(&compile(&["cidr"], "10.0.0.0/8"), "2001:db8::a01:203"), "not a mapped address");
        assert!(any(&compile(&["cidr"], "::ffff:10.0.0.0/104"), "10.1.2.3"));
        assert!(!any(&compile(&["cidr"], "::ffff:10.0.0.0/104"), "11.1.2.3"));
        assert!(any(&compile(&["gte"], "400"), "401"));
        for refused in [
            &["utf16le", "contains"][..],
            &["base64", "utf16le"],
            &["base64", "re"],
            &["base64offset", "cidr"],
            &["base64", "gte"],
            &["base64", "exists"],
        ] {
            assert!(Modifiers::parse(refused.iter().copied()).is_err(), "{refused:?}");
        }
        let exists = Modifiers::parse(["exists"].into_iter()).expect("mods");
        assert!(exists.compile(&SigmaValue::Bool(false)).expect("compiles")[0].matches_missing());
    }
}
