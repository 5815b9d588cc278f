//! Typed values as they appear in IIS text logs: `-` for empty, decimal
//! numbers, IPv4/IPv6 addresses with optional zone ids.

use std::borrow::Cow;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::{Serialize, Serializer};

/// `None` for the W3C empty marker `-` (and for an empty token).
#[inline]
pub fn present(b: &[u8]) -> Option<&[u8]> {
    if b == b"-" || b.is_empty() { None } else { Some(b) }
}

/// Whether `text` ends with `suffix`, ASCII letters in either case (a
/// Windows path's extension or file name).
pub fn ends_with_ignore_case(text: &[u8], suffix: &[u8]) -> bool {
    text.len() >= suffix.len() && text[text.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
}

/// Whether `text` holds `word`, ASCII letters in either case (a program's
/// name in a command line, a word in a path), with no copy made: only the
/// places its first letter is at, in either case, are compared.
pub fn contains_ignore_case(text: &[u8], word: &[u8]) -> bool {
    let Some(&first) = word.first() else { return true };
    let at = |i: usize| text.get(i..i + word.len()).is_some_and(|w| w.eq_ignore_ascii_case(word));
    memchr::memchr2_iter(first.to_ascii_lowercase(), first.to_ascii_uppercase(), text).any(at)
}

/// Parses an unsigned decimal number with no sign, no spaces and no overflow.
#[inline]
pub fn parse_u64(b: &[u8]) -> Option<u64> {
    if b.is_empty() || b.len() > 20 {
        return None;
    }
    let mut v: u64 = 0;
    for &c in b {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(d))?;
    }
    Some(v)
}

/// Parses an unsigned decimal that must fit in `u32`.
#[inline]
pub fn parse_u32(b: &[u8]) -> Option<u32> {
    parse_u64(b).and_then(|v| u32::try_from(v).ok())
}

/// Parses a TCP port.
#[inline]
pub fn parse_port(b: &[u8]) -> Option<u16> {
    parse_u64(b).and_then(|v| u16::try_from(v).ok())
}

/// Parses an HTTP status code (100–999).
#[inline]
pub fn parse_status(b: &[u8]) -> Option<u16> {
    match b {
        [a, b, c] if (b'1'..=b'9').contains(a) && b.is_ascii_digit() && c.is_ascii_digit() => {
            Some(u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0'))
        }
        _ => None,
    }
}

/// A network address as logged: an IP (IPv6 possibly with a `%zone`), or a
/// host name where the producer resolved names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Addr<'a> {
    /// An IP address, with the zone id of a link-local IPv6 address if any.
    Ip {
        /// The address.
        ip: IpAddr,
        /// The text after `%`, e.g. `13` in `fe80::1%13`.
        zone: Option<&'a [u8]>,
    },
    /// Not an IP address: a name, kept as written.
    Name(&'a [u8]),
}

impl Addr<'_> {
    /// The IP address, if this is one.
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            Addr::Ip { ip, .. } => Some(*ip),
            Addr::Name(_) => None,
        }
    }

    /// Hands `f` the address as `Display` writes it, an IPv4 address
    /// without the formatting machinery (a request summary or a rule's
    /// value names one per row).
    pub fn with_text<R>(&self, f: impl FnOnce(&str) -> R) -> R {
        match self {
            Addr::Ip { ip: IpAddr::V4(v4), zone: None } => f(dotted_quad(*v4, &mut [0; 15])),
            other => f(&other.to_string()),
        }
    }
}

impl fmt::Display for Addr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Addr::Ip { ip: IpAddr::V4(v4), zone: None } => f.pad(dotted_quad(*v4, &mut [0; 15])),
            Addr::Ip { ip, zone: None } => write!(f, "{ip}"),
            Addr::Ip { ip, zone: Some(z) } => write!(f, "{ip}%{}", String::from_utf8_lossy(z)),
            Addr::Name(n) => f.write_str(&String::from_utf8_lossy(n)),
        }
    }
}

impl Serialize for Addr<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// An IPv4 address as `Display` writes it, into `buf`: by hand, since
/// through the formatting machinery it showed in profiles of every row that
/// names its client.
pub fn dotted_quad(v4: Ipv4Addr, buf: &mut [u8; 15]) -> &str {
    let mut n = 0;
    for (i, o) in v4.octets().into_iter().enumerate() {
        if i > 0 {
            buf[n] = b'.';
            n += 1;
        }
        for (digit, shown_from) in [(o / 100, 100), (o / 10 % 10, 10), (o % 10, 0)] {
            if o >= shown_from {
                buf[n] = b'0' + digit;
                n += 1;
            }
        }
    }
    std::str::from_utf8(&buf[..n]).unwrap_or_default()
}

/// `v` in decimal, written into `buf` (no allocation and no formatting
/// machinery: a status or a port is written for many rows).
pub fn decimal(mut v: u64, buf: &mut [u8; 20]) -> &str {
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    std::str::from_utf8(&buf[at..]).unwrap_or_default()
}

/// Parses an address token. Returns `None` for tokens that are neither an
/// address nor a plausible host name.
pub fn parse_addr(b: &[u8]) -> Option<Addr<'_>> {
    if let Some(v4) = parse_ipv4(b) {
        return Some(Addr::Ip { ip: IpAddr::V4(v4), zone: None });
    }
    if b.contains(&b':') {
        let (addr, zone) = match memchr::memchr(b'%', b) {
            Some(p) => (&b[..p], Some(&b[p + 1..])),
            None => (b, None),
        };
        let addr = addr.strip_prefix(b"[").and_then(|a| a.strip_suffix(b"]")).unwrap_or(addr);
        let text = std::str::from_utf8(addr).ok()?;
        let v6: Ipv6Addr = text.parse().ok()?;
        return Some(Addr::Ip { ip: IpAddr::V6(v6), zone });
    }
    let plausible_name =
        b.len() <= 255 && b.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_'));
    plausible_name.then_some(Addr::Name(b))
}

/// Dotted-quad IPv4 without leading `+`/spaces; faster than going through
/// `str::parse` for the common case.
#[inline]
fn parse_ipv4(b: &[u8]) -> Option<Ipv4Addr> {
    if b.len() < 7 || b.len() > 15 {
        return None;
    }
    let mut octets = [0u8; 4];
    let mut idx = 0;
    let mut value: u32 = 0;
    let mut digits = 0;
    for &c in b {
        if c == b'.' {
            if digits == 0 || idx == 3 {
                return None;
            }
            octets[idx] = u8::try_from(value).ok()?;
            idx += 1;
            value = 0;
            digits = 0;
        } else {
            let d = c.wrapping_sub(b'0');
            if d > 9 || digits == 3 {
                return None;
            }
            value = value * 10 + u32::from(d);
            digits += 1;
        }
    }
    if idx != 3 || digits == 0 {
        return None;
    }
    octets[3] = u8::try_from(value).ok()?;
    Some(Ipv4Addr::from(octets))
}

/// Windows-1252 code points for bytes 0x80–0x9F (the rest of the upper half
/// maps to the same Unicode scalar as Latin-1). Undefined bytes map to the
/// C1 control of the same value so the text stays lossless.
const CP1252_HIGH: [char; 32] = [
    '\u{20AC}', '\u{81}', '\u{201A}', '\u{0192}', '\u{201E}', '\u{2026}', '\u{2020}', '\u{2021}', '\u{02C6}',
    '\u{2030}', '\u{0160}', '\u{2039}', '\u{0152}', '\u{8D}', '\u{017D}', '\u{8F}', '\u{90}', '\u{2018}',
    '\u{2019}', '\u{201C}', '\u{201D}', '\u{2022}', '\u{2013}', '\u{2014}', '\u{02DC}', '\u{2122}',
    '\u{0161}', '\u{203A}', '\u{0153}', '\u{9D}', '\u{017E}', '\u{0178}',
];

/// Decodes log text: UTF-8 when it is valid, otherwise Windows-1252 (the ANSI
/// code page of most IIS servers writing non-`u_` files).
pub fn decode_text(b: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(b) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => Cow::Owned(
            b.iter()
                .map(|&c| match c {
                    0x80..=0x9F => CP1252_HIGH[usize::from(c - 0x80)],
                    _ => char::from(c),
                })
                .collect(),
        ),
    }
}

/// Decodes a W3C field for display: `+` stands for a space in IIS logs.
pub fn decode_field(b: &[u8]) -> Cow<'_, str> {
    let text = decode_text(b);
    if text.contains('+') { Cow::Owned(text.replace('+', " ")) } else { text }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_suffix_matches_in_either_case_and_not_past_the_start() {
        assert!(ends_with_ignore_case(b"C:\\inetpub\\x.ASPX", b".aspx"));
        assert!(!ends_with_ignore_case(b".aspx.txt", b".aspx"));
        assert!(!ends_with_ignore_case(b"spx", b".aspx"), "shorter than the suffix");
    }

    #[test]
    fn a_word_is_found_in_either_case_anywhere_and_not_past_the_end() {
        assert!(contains_ignore_case(b"cmd /c C:\\Windows\\System32\\inetsrv\\AppCmd.exe list", b"appcmd"));
        assert!(contains_ignore_case(b"IISRESET", b"iisreset"));
        assert!(!contains_ignore_case(b"cmd /c appcm", b"appcmd"), "cut at the end");
        assert!(!contains_ignore_case(b"notepad.exe", b"appcmd"));
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_u64(b"0"), Some(0));
        assert_eq!(parse_u64(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64(b"18446744073709551616"), None);
        assert_eq!(parse_u64(b"-1"), None);
        assert_eq!(parse_u64(b""), None);
        assert_eq!(parse_status(b"404"), Some(404));
        assert_eq!(parse_status(b"099"), None);
        assert_eq!(parse_status(b"4040"), None);
        assert_eq!(parse_port(b"65536"), None);
    }

    #[test]
    fn an_ipv4_address_is_written_as_std_writes_it() {
        for ip in ["0.0.0.0", "10.0.1.192", "255.255.255.255", "100.9.10.99", "1.20.103.4"] {
            let a = Addr::Ip { ip: ip.parse().expect("ip"), zone: None };
            assert_eq!(a.to_string(), ip);
            assert_eq!(format!("[{a:>16}]"), format!("[{ip:>16}]"));
        }
    }

    #[test]
    fn addresses() {
        assert_eq!(parse_addr(b"10.0.0.1").and_then(|a| a.ip()), Some("10.0.0.1".parse().expect("ip")));
        assert_eq!(parse_addr(b"256.0.0.1"), Some(Addr::Name(b"256.0.0.1")));
        let a = parse_addr(b"fe80::1%13").expect("v6");
        assert_eq!(a.to_string(), "fe80::1%13");
        assert_eq!(parse_addr(b"::1%0").expect("v6").ip(), Some("::1".parse().expect("ip")));
        assert_eq!(parse_addr(b"host-01.example"), Some(Addr::Name(b"host-01.example")));
        assert_eq!(parse_addr(b"a b"), None);
        assert_eq!(parse_addr(b"::zz"), None);
    }

    #[test]
    fn text_decoding() {
        assert_eq!(decode_text(b"caf\xc3\xa9"), "café");
        assert_eq!(decode_text(b"caf\xe9 \x80"), "café €");
        assert_eq!(decode_field(b"Mozilla/5.0+(X11)"), "Mozilla/5.0 (X11)");
    }
}
