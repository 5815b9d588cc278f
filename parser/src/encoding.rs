//! Text as Windows tools re-save it. PowerShell's `>` and Notepad's
//! "Unicode" write UTF-16 with a byte-order mark (`wevtutil qe ... /f:xml >
//! events.xml` in Windows PowerShell gives UTF-16LE); the readers take UTF-8.
//! Such a file is transcoded as it streams, into memory when small and into
//! a mapped temporary file when large, so a multi-gigabyte UTF-16 log keeps a
//! flat heap and is still read in parallel chunks. Lines stay lines, so
//! records and line numbers are those of the file's UTF-8 twin.

use std::io::{self, Read};

use crate::source::Bytes;
use crate::source::spool::{IN_MEMORY, SpoolError, spool};

/// The byte order of UTF-16 or UTF-32 text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ByteOrder {
    /// Little-endian (`FF FE`), what Windows writes.
    Le,
    /// Big-endian (`FE FF`).
    Be,
}

/// Text stored in code units wider than a byte: UTF-16 or UTF-32, in one
/// byte order, with or without a byte-order mark.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WideText {
    /// The byte order of its units.
    pub order: ByteOrder,
    /// Bytes per code unit: 2 (UTF-16) or 4 (UTF-32).
    pub unit: usize,
    /// Bytes of byte-order mark before the text (0: none).
    pub bom: usize,
}

impl WideText {
    /// What the text is called (`UTF-16LE`).
    pub fn name(self) -> &'static str {
        match (self.unit, self.order) {
            (2, ByteOrder::Le) => "UTF-16LE",
            (2, ByteOrder::Be) => "UTF-16BE",
            (_, ByteOrder::Le) => "UTF-32LE",
            (_, ByteOrder::Be) => "UTF-32BE",
        }
    }
}

/// How far into text its units are looked at past NUL padding.
const NUL_LOOKAHEAD: usize = 1 << 20;

/// How many code units of a head without a byte-order mark are looked at.
const SNIFFED_UNITS: usize = 512;

/// Whether `head` is UTF-16 or UTF-32 text: by its byte-order mark, or,
/// without one, by its code units: nine in ten of the first few hundred
/// that are not zero (and at least eight) an ASCII character, its other
/// bytes zero (a Windows tool's `Encoding.Unicode` writes no mark; an IIS
/// log or event export is ASCII but for a few values).
pub fn wide_text(head: &[u8]) -> Option<WideText> {
    let text_byte = |b: u8| matches!(b, b'\t' | b'\n' | b'\r' | b' '..=b'~');
    // Of the units of `body`, whether nine in ten of those not zero (NUL
    // padding after a short log counts for neither) are an ASCII character.
    let fits = |body: &[u8], unit: usize, order: ByteOrder| {
        let (mut ascii, mut other) = (0usize, 0usize);
        let body = &body[..body.len().min(NUL_LOOKAHEAD)];
        for u in body.chunks_exact(unit).filter(|u| u.iter().any(|&b| b != 0)).take(SNIFFED_UNITS) {
            let (low, rest) = match order {
                ByteOrder::Le => (u[0], &u[1..]),
                ByteOrder::Be => (u[unit - 1], &u[..unit - 1]),
            };
            if text_byte(low) && rest.iter().all(|&b| b == 0) {
                ascii += 1;
            } else {
                other += 1;
            }
        }
        ascii >= 8 && ascii >= 9 * other
    };
    let marked =
        |unit, order, bom: &[u8]| head.starts_with(bom).then_some(WideText { order, unit, bom: bom.len() });
    // UTF-32LE's mark starts as UTF-16LE's does, then a U+0000: UTF-32 when
    // what follows is, else UTF-16 starting with a NUL character.
    let utf32le = marked(4, ByteOrder::Le, b"\xFF\xFE\0\0").filter(|_| {
        let rest = &head[4..];
        rest.len() < 32 || fits(rest, 4, ByteOrder::Le) || !fits(rest, 2, ByteOrder::Le)
    });
    let by_mark = utf32le
        .or_else(|| marked(4, ByteOrder::Be, b"\0\0\xFE\xFF"))
        .or_else(|| marked(2, ByteOrder::Le, b"\xFF\xFE"))
        .or_else(|| marked(2, ByteOrder::Be, b"\xFE\xFF"));
    if by_mark.is_some() {
        return by_mark;
    }
    [(4, ByteOrder::Le), (4, ByteOrder::Be), (2, ByteOrder::Le), (2, ByteOrder::Be)]
        .into_iter()
        .find(|&(unit, order)| fits(head, unit, order))
        .map(|(unit, order)| WideText { order, unit, bom: 0 })
}

/// The UTF-8 text of wide `data` (its byte-order mark dropped; unpaired
/// surrogates, code points that are none and a trailing part of a unit
/// become U+FFFD).
pub(crate) fn transcode(data: &[u8], wide: WideText) -> Result<Bytes, SpoolError> {
    let body = data.get(wide.bom..).unwrap_or_default();
    let reader = WideReader { data: body, pos: 0, wide, out: Vec::new(), out_pos: 0 };
    // ASCII text halves (or quarters); that is the likely size.
    spool(reader, u64::MAX, IN_MEMORY, (body.len() / wide.unit) as u64)
}

/// Reads UTF-16 or UTF-32 bytes as UTF-8, a batch of code units at a time.
struct WideReader<'a> {
    data: &'a [u8],
    pos: usize,
    wide: WideText,
    out: Vec<u8>,
    out_pos: usize,
}

/// The UTF-16 code unit at byte `at`.
fn unit(data: &[u8], order: ByteOrder, at: usize) -> u16 {
    let pair = [data[at], data[at + 1]];
    match order {
        ByteOrder::Le => u16::from_le_bytes(pair),
        ByteOrder::Be => u16::from_be_bytes(pair),
    }
}

/// The UTF-32 code unit at byte `at`.
fn unit32(data: &[u8], order: ByteOrder, at: usize) -> u32 {
    let quad = [data[at], data[at + 1], data[at + 2], data[at + 3]];
    match order {
        ByteOrder::Le => u32::from_le_bytes(quad),
        ByteOrder::Be => u32::from_be_bytes(quad),
    }
}

/// Code units decoded per batch.
const BATCH_UNITS: usize = 32 * 1024;

impl WideReader<'_> {
    fn unit(&self, at: usize) -> u16 {
        unit(self.data, self.wide.order, at)
    }

    /// Decodes the next batch into `out`; false when the input is done.
    fn refill(&mut self) -> bool {
        self.out.clear();
        self.out_pos = 0;
        let width = self.wide.unit;
        let whole = (self.data.len() - self.pos) / width;
        if whole == 0 {
            if self.pos < self.data.len() {
                // A trailing part of a unit: the file was cut mid-character.
                self.pos = self.data.len();
                self.out.extend_from_slice("\u{FFFD}".as_bytes());
                return true;
            }
            return false;
        }
        let mut units = whole.min(BATCH_UNITS);
        let (data, order, start) = (self.data, self.wide.order, self.pos);
        let mut buf = [0u8; 4];
        if width == 4 {
            for i in 0..units {
                let c =
                    char::from_u32(unit32(data, order, start + 4 * i)).unwrap_or(char::REPLACEMENT_CHARACTER);
                self.out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        } else {
            // A high surrogate at the end of the batch waits for its pair.
            if units < whole && (0xD800..0xDC00).contains(&self.unit(self.pos + 2 * (units - 1))) {
                units -= 1;
            }
            let decoded = char::decode_utf16((0..units).map(|i| unit(data, order, start + 2 * i)));
            for c in decoded {
                let c = c.unwrap_or(char::REPLACEMENT_CHARACTER);
                self.out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
        self.pos += width * units;
        true
    }
}

impl Read for WideReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.out_pos == self.out.len() {
            if !self.refill() {
                return Ok(0);
            }
        }
        let n = buf.len().min(self.out.len() - self.out_pos);
        buf[..n].copy_from_slice(&self.out[self.out_pos..self.out_pos + n]);
        self.out_pos += n;
        Ok(n)
    }
}

/// Whether text's lines end in a carriage return alone (classic Mac OS, an
/// editor set to "CR"): two CRs not followed by LF before the first LF, or
/// one in a head with no LF at all; never with a NUL (binary formats hold
/// both). One stray CR before a CRLF (`...\r\r\n`) is not a line end.
pub fn lone_cr_lines(head: &[u8]) -> bool {
    if memchr::memchr(0, head).is_some() {
        return false;
    }
    let first_lf = memchr::memchr(b'\n', head);
    let before = &head[..first_lf.unwrap_or(head.len())];
    let lone =
        memchr::memchr_iter(b'\r', before).filter(|&at| head.get(at + 1) != Some(&b'\n')).take(2).count();
    lone >= 2 || (lone == 1 && first_lf.is_none())
}

/// `data` with every CR that no LF follows an LF: lines keep their
/// numbers, and CRLF line ends further on stay one line end each.
pub(crate) fn lone_cr_to_lf(data: &[u8]) -> Result<Bytes, SpoolError> {
    spool(CrReader { data, at: 0 }, u64::MAX, IN_MEMORY, data.len() as u64)
}

/// [`lone_cr_to_lf`] for callers outside the reader (the fuzz targets),
/// its error as an I/O error.
pub fn relined(data: &[u8]) -> io::Result<Bytes> {
    lone_cr_to_lf(data).map_err(|e| io::Error::other(e.describe("the copy with its lines ended by LF")))
}

/// Reads `data` with its lone CRs as LFs.
struct CrReader<'a> {
    data: &'a [u8],
    at: usize,
}

impl Read for CrReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(self.data.len() - self.at);
        let (data, at) = (self.data, self.at);
        for (k, out) in buf[..n].iter_mut().enumerate() {
            let i = at + k;
            // The whole input is at hand: a CR at a buffer's end still
            // sees the byte after it.
            *out = match data[i] {
                b'\r' if data.get(i + 1) != Some(&b'\n') => b'\n',
                b => b,
            };
        }
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_ended_by_a_lone_cr_become_lines() {
        assert!(lone_cr_lines(b"#Fields: date time\r2025-11-24 10:00:00\r"));
        assert!(lone_cr_lines(b"#Fields: date\r2025-11-24\r2025-11-25\r\n"), "CR lines, then CRLF");
        assert!(!lone_cr_lines(b"#Fields: date time\r\n2025-11-24 10:00:00\r\n"));
        assert!(!lone_cr_lines(b"#Software: IIS\r\r\n#Fields: date\r\n"), "one stray CR");
        assert!(!lone_cr_lines(b"ElfFile\0\r"), "binary");
        assert!(!lone_cr_lines(b"one line"));
        let text = lone_cr_to_lf(b"a\rb\rc\r\nd\r").expect("in memory");
        assert_eq!(&*text, b"a\nb\nc\r\nd\n", "a CRLF stays one line end");
    }

    fn utf16(text: &str, order: ByteOrder) -> Vec<u8> {
        let mut out = match order {
            ByteOrder::Le => vec![0xFF, 0xFE],
            ByteOrder::Be => vec![0xFE, 0xFF],
        };
        for u in text.encode_utf16() {
            out.extend(match order {
                ByteOrder::Le => u.to_le_bytes(),
                ByteOrder::Be => u.to_be_bytes(),
            });
        }
        out
    }

    #[test]
    fn wide_text_is_told_with_or_without_its_mark() {
        let text = "#Software: Microsoft Internet Information Services 10.0\r\n#Fields: date time cs-uri-stem\r\n\
                    2025-11-24 10:00:00 /k\u{e4}se/\u{1F600}\r\n";
        let wide = |unit: usize, order: ByteOrder, bom: bool| -> Vec<u8> {
            let mut out = Vec::new();
            let mut put = |c: u32| {
                let bytes = c.to_le_bytes();
                let mut unit_bytes = bytes[..unit].to_vec();
                if order == ByteOrder::Be {
                    unit_bytes.reverse();
                }
                out.extend(unit_bytes);
            };
            if bom {
                put(0xFEFF);
            }
            if unit == 4 {
                text.chars().for_each(|c| put(c as u32));
            } else {
                text.encode_utf16().for_each(|u| put(u32::from(u)));
            }
            out
        };
        for unit in [2, 4] {
            for order in [ByteOrder::Le, ByteOrder::Be] {
                for bom in [true, false] {
                    let data = wide(unit, order, bom);
                    let found = wide_text(&data);
                    let expected = WideText { order, unit, bom: if bom { unit } else { 0 } };
                    assert_eq!(found, Some(expected), "{unit} {order:?} {bom}");
                    let out = transcode(&data, expected).expect("transcodes");
                    assert_eq!(std::str::from_utf8(&out), Ok(text), "{}", expected.name());
                }
            }
        }
        assert_eq!(wide_text(text.as_bytes()), None, "UTF-8");
        assert_eq!(
            wide_text(b"ElfFile\0\0\0\0\0\0\0\0\0\0\0\0\0\x80\0\0\0\x01\0\x03\0"),
            None,
            "an event log's header"
        );
        assert_eq!(wide_text(&[0u8; 4096]), None, "zeros");
        assert_eq!(wide_text(b"a\0b\0"), None, "too little to tell");
        // A short log, then a long stretch of NUL padding: told by its text.
        let mut padded = wide(2, ByteOrder::Le, false);
        padded.truncate(40);
        padded.resize(200_000, 0);
        assert_eq!(wide_text(&padded), Some(WideText { order: ByteOrder::Le, unit: 2, bom: 0 }));
        // UTF-16's mark, then a NUL character: not UTF-32's mark.
        let mut nul_first = vec![0xFF, 0xFE, 0, 0];
        nul_first.extend(wide(2, ByteOrder::Le, false));
        assert_eq!(wide_text(&nul_first), Some(WideText { order: ByteOrder::Le, unit: 2, bom: 2 }));
        let mut cut = wide(4, ByteOrder::Le, true);
        cut.pop();
        let out = transcode(&cut, WideText { order: ByteOrder::Le, unit: 4, bom: 4 }).expect("transcodes");
        assert!(std::str::from_utf8(&out).is_ok_and(|t| t.ends_with("\r\u{FFFD}")), "a unit cut short");
    }

    #[test]
    fn both_byte_orders_give_the_utf8_text() {
        let text = "#Fields: date time cs-uri-stem\r\n2025-11-24 10:00:00 /käse/😀\r\n";
        for order in [ByteOrder::Le, ByteOrder::Be] {
            let data = utf16(text, order);
            assert_eq!(wide_text(&data), Some(WideText { order, unit: 2, bom: 2 }));
            let out = transcode(&data, WideText { order, unit: 2, bom: 2 }).expect("transcodes");
            assert_eq!(std::str::from_utf8(&out), Ok(text));
        }
        assert_eq!(wide_text(b"#Fields"), None);
    }

    #[test]
    fn surrogate_pairs_across_batches_and_damage_are_handled() {
        // A pair straddling the batch boundary, then a lone surrogate and an
        // odd trailing byte.
        let mut text = "a".repeat(BATCH_UNITS - 1);
        text.push('😀');
        text.push('z');
        let mut data = utf16(&text, ByteOrder::Le);
        data.extend(0xD800u16.to_le_bytes());
        data.extend(b"x".iter());
        let out = transcode(&data, WideText { order: ByteOrder::Le, unit: 2, bom: 2 }).expect("transcodes");
        let out = std::str::from_utf8(&out).expect("UTF-8");
        assert!(out.starts_with(&text), "the pair survives the boundary");
        assert!(out.ends_with("z\u{FFFD}\u{FFFD}"), "{:?}", &out[out.len() - 8..]);
    }
}
