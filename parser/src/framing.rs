//! Line framing for text sources: split a buffer into chunks that start at
//! line starts, so that chunks can be parsed in parallel.

use std::ops::Range;

/// Hints about which parts of a source are being read, so a memory-mapped
/// file can be paged in ahead and dropped behind.
pub trait Paging: Sync {
    /// The range is about to be read.
    fn will_read(&self, _range: Range<usize>) {}
    /// The range will not be read again.
    fn done(&self, _range: Range<usize>) {}
}

/// No paging hints (in-memory data).
#[derive(Clone, Copy, Debug, Default)]
pub struct InMemory;

impl Paging for InMemory {}

/// UTF-8 byte-order mark.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Splits `data` into ranges of about `size` bytes, each ending just after a
/// newline (or at the end of the data). A line longer than `size` makes its
/// chunk longer; no line is ever split.
pub fn plan_chunks(data: &[u8], size: usize) -> Vec<Range<usize>> {
    let size = size.max(1);
    let mut chunks = Vec::with_capacity(data.len() / size + 1);
    let mut start = 0;
    while start < data.len() {
        let nominal = start.saturating_add(size);
        if nominal >= data.len() {
            chunks.push(start..data.len());
            break;
        }
        let end = match memchr::memchr(b'\n', &data[nominal - 1..]) {
            Some(p) => nominal + p,
            None => data.len(),
        };
        chunks.push(start..end);
        start = end;
    }
    chunks
}

/// One line of a chunk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Line<'a> {
    /// The bytes without the line terminator (`\n` or `\r\n`).
    pub text: &'a [u8],
    /// Byte offset of the line's first byte in the whole source.
    pub offset: usize,
    /// Whether the line ended with `\n` (a final line without one may be torn).
    pub terminated: bool,
}

/// Iterates the lines of `data`, which starts at `base` in its source.
pub fn lines(data: &[u8], base: usize) -> impl Iterator<Item = Line<'_>> {
    let mut pos = 0;
    std::iter::from_fn(move || {
        if pos >= data.len() {
            return None;
        }
        let (end, next, terminated) = match memchr::memchr(b'\n', &data[pos..]) {
            Some(p) => (pos + p, pos + p + 1, true),
            None => (data.len(), data.len(), false),
        };
        let mut text = &data[pos..end];
        if let [rest @ .., b'\r'] = text {
            text = rest;
        }
        let line = Line { text, offset: base + pos, terminated };
        pos = next;
        Some(line)
    })
}

/// Counts newlines.
pub fn count_lines(data: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', data).count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_end_on_line_boundaries_and_cover_everything() {
        let data = b"aaa\nbb\n\ncccccccc\nd";
        for size in 1..=data.len() + 2 {
            let chunks = plan_chunks(data, size);
            assert_eq!(chunks.first().map(|c| c.start), Some(0));
            assert_eq!(chunks.last().map(|c| c.end), Some(data.len()));
            for pair in chunks.windows(2) {
                assert_eq!(pair[0].end, pair[1].start);
                assert_eq!(data[pair[0].end - 1], b'\n');
            }
        }
        assert!(plan_chunks(b"", 4).is_empty());
    }

    #[test]
    fn lines_strip_crlf_and_flag_the_torn_tail() {
        let got: Vec<_> = lines(b"a\r\nb\n\nc", 10).collect();
        assert_eq!(got.len(), 4);
        assert_eq!(got[0], Line { text: b"a", offset: 10, terminated: true });
        assert_eq!(got[2].text, b"");
        assert_eq!(got[3], Line { text: b"c", offset: 16, terminated: false });
        assert_eq!(count_lines(b"a\nb\n"), 2);
    }
}
