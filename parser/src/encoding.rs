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
    let text_byte = is_text_byte;
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
    transcode_in_step(data, wide).map(|(text, _)| text)
}

/// [`transcode`], stepping over a stray byte of UTF-16 text, and where it
/// did. A byte lost or added inside a UTF-16 file (a copy cut at an odd
/// byte and written on, a stray NUL) puts every unit after it out of step:
/// ASCII text then reads as units whose low byte is zero, no line ends any
/// more, and the rest of the file is one line of CJK-looking garbage. Such
/// a run of units is taken for text out of step, and the byte that put it
/// so is skipped.
pub(crate) fn transcode_in_step(data: &[u8], wide: WideText) -> Result<(Bytes, Realigned), SpoolError> {
    let body = data.get(wide.bom..).unwrap_or_default();
    let mut reader = WideReader {
        data: body,
        pos: 0,
        wide,
        out: Vec::new(),
        out_pos: 0,
        emitted: 0,
        realigned: Realigned::default(),
    };
    // ASCII text halves (or quarters); that is the likely size.
    let text = spool(&mut reader, u64::MAX, IN_MEMORY, (body.len() / wide.unit) as u64)?;
    let mut realigned = reader.realigned;
    if let Some(first) = &mut realigned.first {
        first.file_offset += wide.bom as u64;
    }
    Ok((text, realigned))
}

/// [`transcode_in_step`] for a caller outside the crate (the fuzz target),
/// a copy that could not be made said in words.
pub fn utf8_in_step(data: &[u8], wide: WideText) -> Result<(Bytes, Realigned), String> {
    transcode_in_step(data, wide).map_err(|e| e.describe("the UTF-8 copy"))
}

/// Where transcoding stepped over a byte that put UTF-16 text out of step.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Realigned {
    /// How many bytes were stepped over.
    pub count: u64,
    /// The first of them.
    pub first: Option<StepOver>,
}

/// A byte stepped over: where it is in the file and where the text goes on
/// in the UTF-8 copy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StepOver {
    /// The byte's offset in the file.
    pub file_offset: u64,
    /// Where the text goes on in the UTF-8 copy.
    pub text_offset: u64,
}

/// How many units in a row that read as ASCII out of step (a zero low byte,
/// a text byte above it) tell text out of step: eight such characters in a
/// row (U+0A00, U+2000, U+4100...) are not written in step.
const OUT_OF_STEP_RUN: usize = 8;

fn is_text_byte(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | b'\r' | b' '..=b'~')
}

/// A UTF-16 unit that is an ASCII text character.
fn in_step(u: u16) -> bool {
    u < 0x80 && is_text_byte(u as u8)
}

/// A UTF-16 unit that is an ASCII text character read one byte out of step.
fn out_of_step(u: u16) -> bool {
    u & 0xFF == 0 && is_text_byte((u >> 8) as u8)
}

/// A step over a stray byte of UTF-16 text: the units before the step
/// are decoded, then `kept` (a character whose unit held the stray), and
/// the text goes on at `resume`.
#[derive(Clone, Copy, Debug)]
struct Step {
    /// Where the units decoded before the step end.
    decoded_to: usize,
    /// The byte stepped over.
    stray: usize,
    kept: Option<u8>,
    resume: usize,
}

impl Step {
    /// The step over the byte at `at` alone.
    fn at(at: usize) -> Step {
        Step { decoded_to: at, stray: at, kept: None, resume: at + 1 }
    }
}

/// A run of UTF-16 units out of step in a batch.
#[derive(Clone, Copy, Debug)]
struct Run {
    /// Its first unit.
    from: usize,
    /// The UTF-8 text's length before it.
    at_from: usize,
    /// The UTF-8 text's length before the unit before it, when that unit
    /// was a character of its own in the batch.
    at_before: Option<usize>,
    /// How many units it holds.
    len: usize,
}

/// Reads UTF-16 or UTF-32 bytes as UTF-8, a batch of code units at a time.
struct WideReader<'a> {
    data: &'a [u8],
    pos: usize,
    wide: WideText,
    out: Vec<u8>,
    out_pos: usize,
    /// UTF-8 bytes of the batches before `out`.
    emitted: u64,
    realigned: Realigned,
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

    /// The step over the byte that put the run of units from `run` out of
    /// step. When the unit before the run is in step, the run's first byte
    /// is a NUL too many (the stray, or a character's zero whose stray came
    /// just before it): that byte is skipped. Otherwise the unit before the
    /// run holds the stray and one byte of a character. In little-endian
    /// text its second byte is kept as that character (a byte was added
    /// before it), unless its first is a line end and the second is not,
    /// or the second is no text byte (a byte was added after the first):
    /// then the first is kept. Lines stay lines.
    fn step_before(&self, run: usize) -> Step {
        let before = run - 2;
        if in_step(self.unit(before)) {
            return Step::at(run);
        }
        let (first, second) = (self.data[before], self.data[before + 1]);
        let line_end = |b: u8| matches!(b, b'\n' | b'\r');
        let keep_first = self.wide.order == ByteOrder::Le
            && is_text_byte(first)
            && (line_end(first) && !line_end(second) || !is_text_byte(second));
        if keep_first {
            // Its zero is the byte at `run`.
            Step { decoded_to: before, stray: before + 1, kept: Some(first), resume: run + 1 }
        } else {
            Step::at(before)
        }
    }

    /// Decodes the next batch into `out`; false when the input is done.
    fn refill(&mut self) -> bool {
        self.emitted += self.out.len() as u64;
        self.out.clear();
        self.out_pos = 0;
        let width = self.wide.unit;
        let whole = (self.data.len() - self.pos) / width;
        if whole == 0 {
            if self.pos < self.data.len() {
                // A trailing part of a unit: the file was cut mid-character,
                // or, zeros, it is the half of a character's unit that
                // a file read one byte out of step ends in (its ASCII
                // character whole before it).
                let part = &self.data[self.pos..];
                self.pos = self.data.len();
                if part.iter().any(|&b| b != 0) {
                    self.out.extend_from_slice("\u{FFFD}".as_bytes());
                }
                return true;
            }
            return false;
        }
        let units = whole.min(BATCH_UNITS);
        if width == 2 {
            self.decode_utf16(units, units < whole);
            return true;
        }
        let (data, order, start) = (self.data, self.wide.order, self.pos);
        let mut buf = [0u8; 4];
        for i in 0..units {
            let c = char::from_u32(unit32(data, order, start + 4 * i)).unwrap_or(char::REPLACEMENT_CHARACTER);
            self.out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
        self.pos += width * units;
        true
    }

    /// Decodes up to `units` UTF-16 units into `out` (`more`: the text
    /// goes on past them), in one pass that also watches for a run of
    /// units out of step: at one, what was decoded from the unit that put
    /// them so is taken back, that unit's stray byte is stepped over
    /// ([`WideReader::step_before`]), and the batch ends there. A run
    /// the batch ends in is left to the next one, with the unit before it.
    fn decode_utf16(&mut self, units: usize, more: bool) {
        let (data, order, start) = (self.data, self.wide.order, self.pos);
        let unit_at = |i: usize| unit(data, order, start + 2 * i);
        let mut run: Option<Run> = None;
        // `out`'s length before the last unit, when it was a character of
        // its own.
        let mut last: Option<usize> = None;
        let mut buf = [0u8; 4];
        let mut i = 0;
        while i < units {
            let u = unit_at(i);
            let before = self.out.len();
            if u < 0x80 {
                // ASCII, the common case: in step.
                self.out.push(u as u8);
                run = None;
                last = Some(before);
                i += 1;
                continue;
            }
            if out_of_step(u) {
                let r = run.get_or_insert(Run { from: i, at_from: before, at_before: last, len: 0 });
                r.len += 1;
                if r.len == OUT_OF_STEP_RUN {
                    self.step_over(start + 2 * r.from, r.at_from, r.at_before);
                    return;
                }
            } else {
                run = None;
            }
            let c = match u {
                0xD800..0xDC00 => match (i + 1 < units).then(|| unit_at(i + 1)) {
                    Some(low @ 0xDC00..0xE000) => {
                        i += 1;
                        let code = 0x10000 + ((u32::from(u) - 0xD800) << 10) + (u32::from(low) - 0xDC00);
                        char::from_u32(code)
                    }
                    // A high surrogate ending the batch waits for its pair.
                    None if more && i > 0 => {
                        self.pos = start + 2 * i;
                        return;
                    }
                    _ => None,
                },
                _ => char::from_u32(u32::from(u)),
            };
            let c = c.unwrap_or(char::REPLACEMENT_CHARACTER);
            self.out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            last = (c.len_utf16() == 1).then_some(before);
            i += 1;
        }
        // A run the batch ends in: left to the next batch, with the unit
        // before it, so that a step can take that unit back. One the text
        // ends in is out of step however short (the last characters
        // after a stray byte), but for one character.
        match run {
            Some(r) if more => {
                let (cut, len) = match r.at_before {
                    Some(len) if r.from > 1 => (r.from - 1, len),
                    _ => (r.from, r.at_from),
                };
                if cut > 0 {
                    self.out.truncate(len);
                    self.pos = start + 2 * cut;
                    return;
                }
            }
            Some(r) if r.len > 1 => {
                self.step_over(start + 2 * r.from, r.at_from, r.at_before);
                return;
            }
            _ => {}
        }
        self.pos = start + 2 * units;
    }

    /// Steps over the stray byte before the run of units out of step at
    /// `run`: takes back what was decoded from the unit the stray is in
    /// (`out` held `at_run` bytes before the run, `at_before` before the
    /// unit before it, when that was a character of its own), and goes on
    /// after the stray.
    fn step_over(&mut self, run: usize, at_run: usize, at_before: Option<usize>) {
        let step = match at_before {
            Some(_) => self.step_before(run),
            None => Step::at(run),
        };
        let kept_len = if step.decoded_to == run { at_run } else { at_before.unwrap_or(at_run) };
        self.out.truncate(kept_len);
        self.out.extend(step.kept);
        self.pos = step.resume;
        self.realigned.count += 1;
        let text_offset = self.emitted + self.out.len() as u64;
        self.realigned.first.get_or_insert(StepOver { file_offset: step.stray as u64, text_offset });
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

    /// `text` as UTF-16LE without a mark, read in step.
    fn read_in_step(data: &[u8]) -> (String, Realigned) {
        let wide = WideText { order: ByteOrder::Le, unit: 2, bom: 0 };
        let (out, realigned) = transcode_in_step(data, wide).expect("transcodes");
        (String::from_utf8(out.to_vec()).expect("UTF-8"), realigned)
    }

    /// The lines of `got` that differ from those of `want`, which has as
    /// many.
    fn lines_changed(want: &str, got: &str) -> usize {
        let (w, g): (Vec<&str>, Vec<&str>) = (want.lines().collect(), got.lines().collect());
        assert_eq!(w.len(), g.len(), "{got:?}");
        w.iter().zip(&g).filter(|(a, b)| a != b).count()
    }

    #[test]
    fn a_stray_byte_in_utf16_text_is_stepped_over() {
        let text: String =
            (0..40).map(|i| format!("2025-11-24 10:00:{i:02} GET /page{i}.aspx 200\r\n")).collect();
        let le = &utf16(&text, ByteOrder::Le)[2..];
        let row = 2 * text.find("GET /page20").expect("row 20");
        // A NUL and another byte added, in a unit's first byte and in its
        // second, and a byte lost: one row changed, every other read.
        for (what, at, added) in [
            ("a NUL added between units", row, Some(0u8)),
            ("a NUL added inside a unit", row + 1, Some(0)),
            ("a byte added between units", row, Some(b'x')),
            ("a byte added inside a unit", row + 1, Some(0xC3)),
            ("a byte lost", row + 1, None),
            ("a byte lost from a unit's start", row, None),
        ] {
            let mut data = le.to_vec();
            match added {
                Some(b) => data.insert(at, b),
                None => {
                    data.remove(at);
                }
            }
            let (got, realigned) = read_in_step(&data);
            assert!(lines_changed(&text, &got) <= 1, "{what}: {got:?}");
            assert_eq!(realigned.count, 1, "{what}");
            let first = realigned.first.expect("said");
            assert!((at as u64).abs_diff(first.file_offset) <= 2, "{what}: {first:?}");
            // Said at the line the text goes on in step, the one changed.
            let line_of_step =
                got.as_bytes()[..first.text_offset as usize].iter().filter(|&&b| b == b'\n').count();
            let changed = text.lines().zip(got.lines()).position(|(a, b)| a != b);
            assert!(changed.is_none_or(|c| c == line_of_step), "{what}: {changed:?} {line_of_step}");
        }
        // A byte added among the last characters: the run out of step the
        // text ends in is short, and still stepped over.
        let short_tail = "row one\r\nrow two\r\n\r\n";
        let mut data = utf16(short_tail, ByteOrder::Le)[2..].to_vec();
        data.insert(data.len() - 5, b'x');
        let (got, realigned) = read_in_step(&data);
        assert_eq!(lines_changed(short_tail, &got), 0, "{got:?}");
        assert_eq!(realigned.count, 1);
        // Text in step says nothing.
        let (got, realigned) = read_in_step(le);
        assert_eq!((got.as_str(), realigned), (text.as_str(), Realigned::default()));
        // A mark, then a byte: the whole text out of step from the start.
        let mut marked = vec![0xFF, 0xFE, 0];
        marked.extend_from_slice(le);
        let wide = WideText { order: ByteOrder::Le, unit: 2, bom: 2 };
        let (out, realigned) = transcode_in_step(&marked, wide).expect("transcodes");
        assert_eq!(std::str::from_utf8(&out), Ok(text.as_str()));
        assert_eq!(realigned.first.map(|f| f.file_offset), Some(2));
        // A byte added where a batch of units ends: the run of units out of
        // step straddles it, and is still found, once.
        let long: String = (0..BATCH_UNITS / 16).map(|i| format!("row {i:08} of text\n")).collect();
        let long_le = &utf16(&long, ByteOrder::Le)[2..];
        for at in (2 * BATCH_UNITS - 20..2 * BATCH_UNITS + 4).step_by(3) {
            let mut data = long_le.to_vec();
            data.insert(at, b'#');
            let (got, realigned) = read_in_step(&data);
            assert!(lines_changed(&long, &got) <= 1, "at {at}");
            assert_eq!(realigned.count, 1, "at {at}");
        }
    }

    #[test]
    fn text_of_characters_that_look_out_of_step_is_read_as_written() {
        // CJK text holds characters whose low byte is zero and whose high
        // byte is a text byte (U+4E00, U+5B00): seven in a row are not a
        // run out of step, nor is ordinary CJK text.
        for text in [
            "/\u{4E00}\u{5B00}\u{4E00}\u{5B00}\u{4E00}\u{5B00}\u{4E00}/a\r\n".repeat(20),
            "/\u{6F22}\u{5B57}\u{4E00}\u{89A7}/\u{4E0A}\u{4E0B}\u{5DE6}\u{53F3}\r\n".repeat(20),
        ] {
            let (got, realigned) = read_in_step(&utf16(&text, ByteOrder::Le)[2..]);
            assert_eq!((got.as_str(), realigned), (text.as_str(), Realigned::default()));
        }
    }

    proptest::proptest! {
        /// One byte added anywhere in UTF-16 lines (in either byte order),
        /// or one lost: at most two lines read otherwise than written (the stray byte's, and,
        /// when it falls on a line end, the next), every line still a line.
        #[test]
        fn one_stray_byte_changes_at_most_its_lines(
            rows in proptest::collection::vec("[ -~]{0,60}", 1..40),
            at in proptest::prelude::any::<proptest::sample::Index>(),
            added in proptest::option::of(proptest::prelude::any::<u8>()),
            big_endian in proptest::prelude::any::<bool>(),
        ) {
            let text: String = rows.iter().map(|r| format!("{r}\r\n")).collect();
            let order = if big_endian { ByteOrder::Be } else { ByteOrder::Le };
            let mut data = utf16(&text, order)[2..].to_vec();
            let at = at.index(data.len());
            match added {
                Some(b) => data.insert(at, b),
                None => { data.remove(at); }
            }
            let wide = WideText { order, unit: 2, bom: 0 };
            let (got, _) = transcode_in_step(&data, wide).expect("transcodes");
            let got = String::from_utf8(got.to_vec()).expect("UTF-8");
            let (want, got): (Vec<&str>, Vec<&str>) = (text.lines().collect(), got.lines().collect());
            proptest::prop_assert!(want.len().abs_diff(got.len()) <= 1, "{:?}", got);
            let same_start = want.iter().zip(&got).take_while(|(a, b)| a == b).count();
            let same_end = want.iter().rev().zip(got.iter().rev()).take_while(|(a, b)| a == b).count();
            proptest::prop_assert!(same_start + same_end + 2 >= want.len(), "{:?}", got);
        }
    }
}
