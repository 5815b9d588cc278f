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

/// The byte order of UTF-16 text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Utf16 {
    /// Little-endian (`FF FE`), what Windows writes.
    Le,
    /// Big-endian (`FE FF`).
    Be,
}

/// The byte order a UTF-16 byte-order mark at the start of `head` names.
pub fn utf16_bom(head: &[u8]) -> Option<Utf16> {
    if head.starts_with(b"\xFF\xFE") {
        Some(Utf16::Le)
    } else if head.starts_with(b"\xFE\xFF") {
        Some(Utf16::Be)
    } else {
        None
    }
}

/// The UTF-8 text of UTF-16 `data` (its byte-order mark dropped; unpaired
/// surrogates and a trailing odd byte become U+FFFD).
pub(crate) fn transcode(data: &[u8], order: Utf16) -> Result<Bytes, SpoolError> {
    let body = data.get(2..).unwrap_or_default();
    let reader = Utf16Reader { data: body, pos: 0, order, out: Vec::new(), out_pos: 0 };
    // ASCII text halves; that is the likely size.
    spool(reader, u64::MAX, IN_MEMORY, body.len() as u64 / 2)
}

/// Reads UTF-16 bytes as UTF-8, a batch of code units at a time.
struct Utf16Reader<'a> {
    data: &'a [u8],
    pos: usize,
    order: Utf16,
    out: Vec<u8>,
    out_pos: usize,
}

/// The code unit at byte `at`.
fn unit(data: &[u8], order: Utf16, at: usize) -> u16 {
    let pair = [data[at], data[at + 1]];
    match order {
        Utf16::Le => u16::from_le_bytes(pair),
        Utf16::Be => u16::from_be_bytes(pair),
    }
}

/// Code units decoded per batch.
const BATCH_UNITS: usize = 32 * 1024;

impl Utf16Reader<'_> {
    fn unit(&self, at: usize) -> u16 {
        unit(self.data, self.order, at)
    }

    /// Decodes the next batch into `out`; false when the input is done.
    fn refill(&mut self) -> bool {
        self.out.clear();
        self.out_pos = 0;
        let whole = (self.data.len() - self.pos) / 2;
        if whole == 0 {
            if self.pos < self.data.len() {
                // A trailing odd byte: the file was cut mid-character.
                self.pos = self.data.len();
                self.out.extend_from_slice("\u{FFFD}".as_bytes());
                return true;
            }
            return false;
        }
        let mut units = whole.min(BATCH_UNITS);
        // A high surrogate at the end of the batch waits for its pair.
        if units < whole && (0xD800..0xDC00).contains(&self.unit(self.pos + 2 * (units - 1))) {
            units -= 1;
        }
        let (data, order, start) = (self.data, self.order, self.pos);
        let decoded = char::decode_utf16((0..units).map(|i| unit(data, order, start + 2 * i)));
        let mut buf = [0u8; 4];
        for c in decoded {
            let c = c.unwrap_or(char::REPLACEMENT_CHARACTER);
            self.out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
        self.pos += 2 * units;
        true
    }
}

impl Read for Utf16Reader<'_> {
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

    fn utf16(text: &str, order: Utf16) -> Vec<u8> {
        let mut out = match order {
            Utf16::Le => vec![0xFF, 0xFE],
            Utf16::Be => vec![0xFE, 0xFF],
        };
        for u in text.encode_utf16() {
            out.extend(match order {
                Utf16::Le => u.to_le_bytes(),
                Utf16::Be => u.to_be_bytes(),
            });
        }
        out
    }

    #[test]
    fn both_byte_orders_give_the_utf8_text() {
        let text = "#Fields: date time cs-uri-stem\r\n2025-11-24 10:00:00 /käse/😀\r\n";
        for order in [Utf16::Le, Utf16::Be] {
            let data = utf16(text, order);
            assert_eq!(utf16_bom(&data), Some(order));
            let out = transcode(&data, order).expect("transcodes");
            assert_eq!(std::str::from_utf8(&out), Ok(text));
        }
        assert_eq!(utf16_bom(b"#Fields"), None);
    }

    #[test]
    fn surrogate_pairs_across_batches_and_damage_are_handled() {
        // A pair straddling the batch boundary, then a lone surrogate and an
        // odd trailing byte.
        let mut text = "a".repeat(BATCH_UNITS - 1);
        text.push('😀');
        text.push('z');
        let mut data = utf16(&text, Utf16::Le);
        data.extend(0xD800u16.to_le_bytes());
        data.extend(b"x".iter());
        let out = transcode(&data, Utf16::Le).expect("transcodes");
        let out = std::str::from_utf8(&out).expect("UTF-8");
        assert!(out.starts_with(&text), "the pair survives the boundary");
        assert!(out.ends_with("z\u{FFFD}\u{FFFD}"), "{:?}", &out[out.len() - 8..]);
    }
}
