//! The members of a zip whose central directory cannot be read, found from
//! their local headers: a copy cut short (a download or a triage upload
//! stopped halfway) loses its directory, which is written last, while every
//! member before the cut is whole. Streaming writers (Go's `archive/zip`,
//! which Velociraptor's collector uses, .NET on a stream) put each member's
//! sizes after its data in a descriptor; such a member's end is where its
//! deflate stream ends.

use std::ops::Range;

use flate2::{Decompress, FlushDecompress, Status};

use crate::Timestamp;

const LOCAL: &[u8; 4] = b"PK\x03\x04";
const CENTRAL: &[u8; 4] = b"PK\x01\x02";
const END: &[u8; 4] = b"PK\x05\x06";
const END64: &[u8; 4] = b"PK\x06\x06";
const DESCRIPTOR: &[u8; 4] = b"PK\x07\x08";

/// How a member's data is compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Method {
    Stored,
    Deflated,
    /// A method faultline does not read (its number).
    Other(u16),
}

/// One member found from its local header.
#[derive(Clone, Debug)]
pub(super) struct Found {
    pub name: String,
    pub method: Method,
    /// Its compressed bytes present in the file.
    pub data: Range<usize>,
    /// Decompressed size: declared, or counted by inflating.
    pub size: u64,
    /// Compressed size: declared, or where its data was found to end. Of a
    /// member cut short, what it was written with, not what is left: the
    /// two sizes are a bomb's ratio only together.
    pub compressed: u64,
    pub encrypted: bool,
    pub modified: Option<Timestamp>,
    /// The file ends inside its data.
    pub cut: bool,
}

/// What the walk found, and why it stopped where it did, if not at the
/// central directory.
#[derive(Debug, Default)]
pub(super) struct Walk {
    pub members: Vec<Found>,
    pub stopped: Option<String>,
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

fn signature_at(b: &[u8], at: usize) -> Option<&[u8]> {
    b.get(at..at + 4)
}

/// Walks the local headers from the start of `bytes`, up to `max_members`.
/// A member whose end is only found by inflating it is inflated (its output
/// counted, not kept) up to `max_size` bytes: past that its end is unknown
/// and the walk stops there.
pub(super) fn walk(bytes: &[u8], max_members: usize, max_size: u64) -> Walk {
    let mut out = Walk::default();
    let mut at = 0;
    loop {
        match signature_at(bytes, at) {
            Some(s) if s == LOCAL => {}
            Some(s) if s == CENTRAL || s == END || s == END64 => return out,
            None if at == bytes.len() => return out,
            _ => {
                out.stopped = Some(format!("no member header at byte {at}"));
                return out;
            }
        }
        if out.members.len() == max_members {
            out.stopped = Some(format!("more than {max_members} members"));
            return out;
        }
        let Some(header) = LocalHeader::read(bytes, at) else {
            out.stopped = Some(format!("the data ends inside the member header at byte {at}"));
            return out;
        };
        let start = header.data_start;
        let end = match header.data_len(bytes, max_size) {
            DataLen::Known { len, size } => {
                let member = header.found(bytes, start, len, size);
                let cut = member.cut;
                out.members.push(member);
                if cut {
                    return out;
                }
                start + len
            }
            DataLen::Streamed { len, size, descriptor } => {
                out.members.push(header.found(bytes, start, len, size));
                start + len + descriptor
            }
            DataLen::Cut { size } => {
                let mut member = header.found(bytes, start, bytes.len() - start, size);
                member.cut = true;
                out.members.push(member);
                return out;
            }
            DataLen::Unknown(why) => {
                out.stopped = Some(format!("{}: {why}", header.name));
                return out;
            }
        };
        at = end;
    }
}

struct LocalHeader {
    name: String,
    flags: u16,
    method: Method,
    modified: Option<Timestamp>,
    compressed: u64,
    size: u64,
    data_start: usize,
}

enum DataLen {
    /// The header gives the sizes.
    Known { len: usize, size: u64 },
    /// Found by reading the data, a descriptor of `descriptor` bytes after it.
    Streamed { len: usize, size: u64, descriptor: usize },
    /// The file ends inside the data, `size` bytes of it readable.
    Cut { size: u64 },
    /// Its end cannot be found.
    Unknown(String),
}

impl LocalHeader {
    fn read(b: &[u8], at: usize) -> Option<LocalHeader> {
        let flags = u16_at(b, at + 6)?;
        let method = match u16_at(b, at + 8)? {
            0 => Method::Stored,
            8 => Method::Deflated,
            other => Method::Other(other),
        };
        let modified = zip::DateTime::try_from_msdos(u16_at(b, at + 12)?, u16_at(b, at + 10)?)
            .ok()
            .and_then(super::archive::zip_time);
        let mut compressed = u64::from(u32_at(b, at + 18)?);
        let mut size = u64::from(u32_at(b, at + 22)?);
        let name_len = usize::from(u16_at(b, at + 26)?);
        let extra_len = usize::from(u16_at(b, at + 28)?);
        let name = b.get(at + 30..at + 30 + name_len)?;
        let extra = b.get(at + 30 + name_len..at + 30 + name_len + extra_len)?;
        // Zip64: the real sizes are in the extra field when the header's
        // are all ones (a local header gives both).
        let mut e = 0;
        while let (Some(id), Some(len)) = (u16_at(extra, e), u16_at(extra, e + 2)) {
            let body = extra.get(e + 4..e + 4 + usize::from(len)).unwrap_or(&[]);
            if id == 1 {
                let mut field = 0;
                if size == u64::from(u32::MAX)
                    && let Some(v) = u64_at(body, field)
                {
                    size = v;
                    field += 8;
                }
                if compressed == u64::from(u32::MAX)
                    && let Some(v) = u64_at(body, field)
                {
                    compressed = v;
                }
            }
            e += 4 + usize::from(len);
        }
        Some(LocalHeader {
            name: String::from_utf8_lossy(name).into_owned(),
            flags,
            method,
            modified,
            compressed,
            size,
            data_start: at + 30 + name_len + extra_len,
        })
    }

    /// Its sizes follow its data, in a descriptor (bit 3).
    fn streamed(&self) -> bool {
        self.flags & 0x08 != 0
    }

    /// Bit 0.
    fn encrypted(&self) -> bool {
        self.flags & 1 != 0
    }

    fn found(&self, b: &[u8], start: usize, len: usize, size: u64) -> Found {
        let end = start.saturating_add(len);
        Found {
            name: self.name.clone(),
            method: self.method,
            data: start.min(b.len())..end.min(b.len()),
            size,
            compressed: if self.streamed() {
                end.min(b.len()).saturating_sub(start) as u64
            } else {
                self.compressed
            },
            encrypted: self.encrypted(),
            modified: self.modified,
            cut: end > b.len(),
        }
    }

    fn data_len(&self, b: &[u8], max_size: u64) -> DataLen {
        if !self.streamed() {
            return match usize::try_from(self.compressed) {
                Ok(len) => DataLen::Known { len, size: self.size },
                Err(_) => DataLen::Unknown("its size does not fit in memory".into()),
            };
        }
        if self.encrypted() {
            return DataLen::Unknown("it is encrypted, and its end is only found by reading it".into());
        }
        let data = &b[self.data_start.min(b.len())..];
        let (len, size) = match self.method {
            Method::Deflated => match inflated_len(data, max_size) {
                Inflated::Ended { len, size } => (len, size),
                Inflated::Cut { size } => return DataLen::Cut { size },
                Inflated::Damaged(why) => return DataLen::Unknown(why),
                Inflated::TooLarge => {
                    return DataLen::Unknown(format!(
                        "it inflates past {} before its end",
                        super::ByteSize(max_size)
                    ));
                }
            },
            // No descriptor giving its length: the copy ends inside it.
            Method::Stored => match stored_len(data) {
                Some(len) => (len, len as u64),
                None => return DataLen::Cut { size: data.len() as u64 },
            },
            Method::Other(m) => {
                return DataLen::Unknown(format!("compression method {m}, whose end cannot be found"));
            }
        };
        DataLen::Streamed { len, size, descriptor: descriptor_len(data, len) }
    }
}

enum Inflated {
    Ended { len: usize, size: u64 },
    Cut { size: u64 },
    Damaged(String),
    TooLarge,
}

/// Where a raw deflate stream at the start of `data` ends, and what it
/// inflates to; its output is counted, not kept.
fn inflated_len(data: &[u8], max_size: u64) -> Inflated {
    let mut inflate = Decompress::new(false);
    let mut sink = vec![0u8; 64 << 10];
    loop {
        let consumed = usize::try_from(inflate.total_in()).unwrap_or(usize::MAX).min(data.len());
        let before = inflate.total_out();
        let status = inflate.decompress(&data[consumed..], &mut sink, FlushDecompress::None);
        let produced = inflate.total_out() - before;
        match status {
            Ok(Status::StreamEnd) => {
                return Inflated::Ended {
                    len: usize::try_from(inflate.total_in()).unwrap_or(data.len()),
                    size: inflate.total_out(),
                };
            }
            Ok(_) if inflate.total_out() > max_size => return Inflated::TooLarge,
            Ok(_) if produced == 0 && inflate.total_in() as usize >= data.len() => {
                return Inflated::Cut { size: inflate.total_out() };
            }
            Ok(_) if produced == 0 && inflate.total_in() as usize == consumed => {
                return Inflated::Damaged("its data stops inflating".into());
            }
            Ok(_) => {}
            Err(e) => return Inflated::Damaged(format!("damaged deflate data: {e}")),
        }
    }
}

/// The length of stored data followed by a descriptor that gives it.
fn stored_len(data: &[u8]) -> Option<usize> {
    memchr::memmem::find_iter(data, DESCRIPTOR)
        .find(|&at| u32_at(data, at + 8).is_some_and(|n| n as usize == at))
}

/// How long the descriptor after `len` bytes of data is: a signature
/// (optional), the checksum and two sizes of 4 bytes (8 in Zip64). The
/// one after which the next header starts is the one.
fn descriptor_len(data: &[u8], len: usize) -> usize {
    let signed = signature_at(data, len) == Some(DESCRIPTOR.as_slice());
    let base = if signed { 4 } else { 0 };
    let next_header = |n: usize| {
        signature_at(data, len + n).is_some_and(|s| s == LOCAL || s == CENTRAL || s == END || s == END64)
    };
    [base + 12, base + 20].into_iter().find(|&n| next_header(n)).unwrap_or(base + 12)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::source::tests::zip_bytes;

    /// A zip written to a stream (sizes in descriptors after the data), as
    /// Go and .NET write them; the zip crate writes only seekable ones.
    fn streamed(members: &[(&str, &[u8])]) -> Vec<u8> {
        let (mut out, mut central) = (Vec::new(), Vec::new());
        for (name, data) in members {
            let offset = out.len() as u32;
            let mut deflate = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
            deflate.write_all(data).expect("deflates");
            let packed = deflate.finish().expect("deflates");
            let mut crc = flate2::Crc::new();
            crc.update(data);
            let fixed = |out: &mut Vec<u8>, sizes: [u32; 3]| {
                for v in [20u16, 0x08, 8, 0, 0x21] {
                    out.extend(v.to_le_bytes());
                }
                for v in sizes {
                    out.extend(v.to_le_bytes());
                }
                out.extend((name.len() as u16).to_le_bytes());
                out.extend(0u16.to_le_bytes());
            };
            out.extend(LOCAL);
            fixed(&mut out, [0, 0, 0]);
            out.extend(name.as_bytes());
            out.extend(&packed);
            out.extend(DESCRIPTOR);
            for v in [crc.sum(), packed.len() as u32, data.len() as u32] {
                out.extend(v.to_le_bytes());
            }
            central.extend(CENTRAL);
            central.extend(20u16.to_le_bytes());
            fixed(&mut central, [crc.sum(), packed.len() as u32, data.len() as u32]);
            // Comment length, disk, internal and external attributes.
            central.extend([0u8; 10]);
            central.extend(offset.to_le_bytes());
            central.extend(name.as_bytes());
        }
        let start = out.len() as u32;
        out.extend(&central);
        out.extend(END);
        for v in [0u16, 0, members.len() as u16, members.len() as u16] {
            out.extend(v.to_le_bytes());
        }
        out.extend((central.len() as u32).to_le_bytes());
        out.extend(start.to_le_bytes());
        out.extend(0u16.to_le_bytes());
        out
    }

    /// The helper writes what the zip crate reads.
    #[test]
    fn a_streamed_zip_as_written_here_reads_as_a_zip() {
        let zip = streamed(&[("a.log", b"hello"), ("b.log", b"world")]);
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).expect("a zip");
        let mut text = String::new();
        std::io::Read::read_to_string(&mut archive.by_index(1).expect("member"), &mut text).expect("reads");
        assert_eq!(text, "world");
    }

    fn log(n: usize) -> Vec<u8> {
        (0..n).flat_map(|i| format!("2024-01-01 00:00:{:02} GET /p{i} 200\n", i % 60).into_bytes()).collect()
    }

    #[test]
    fn every_member_before_the_directory_is_found_however_it_was_written() {
        let (a, b) = (log(300), log(50));
        for (how, zip) in [
            ("seekable", zip_bytes(&[("a.log", &a), ("x/b.log", &b)])),
            ("streamed", streamed(&[("a.log", &a), ("x/b.log", &b)])),
        ] {
            let found = walk(&zip, 100, 1 << 30);
            assert_eq!(found.stopped, None, "{how}");
            let got: Vec<(&str, u64, bool)> =
                found.members.iter().map(|m| (m.name.as_str(), m.size, m.cut)).collect();
            assert_eq!(got, [("a.log", a.len() as u64, false), ("x/b.log", b.len() as u64, false)], "{how}");
        }
    }

    #[test]
    fn a_copy_cut_inside_a_member_keeps_the_members_before_and_marks_the_cut_one() {
        let (a, b) = (log(300), log(3000));
        for (how, zip) in [
            ("seekable", zip_bytes(&[("a.log", &a), ("b.log", &b)])),
            ("streamed", streamed(&[("a.log", &a), ("b.log", &b)])),
        ] {
            let whole = walk(&zip, 100, 1 << 30);
            let b_start = whole.members[1].data.start;
            let cut = &zip[..b_start + 500];
            let found = walk(cut, 100, 1 << 30);
            assert_eq!(found.members.len(), 2, "{how}");
            assert!(!found.members[0].cut && found.members[1].cut, "{how}: {:?}", found.members);
            assert_eq!(found.members[1].data, b_start..cut.len(), "{how}");
            // Cut inside the second header: only the first.
            let found = walk(&zip[..b_start - 3], 100, 1 << 30);
            assert_eq!(found.members.len(), 1, "{how}");
            assert!(found.stopped.is_some_and(|s| s.contains("inside the member header")), "{how}");
        }
    }

    proptest::proptest! {
        /// Any cut and any flipped byte of a zip: no panic, and every
        /// member's data inside the file.
        #[test]
        fn a_damaged_zip_never_panics_the_walk(cut in 0usize..2_000, flip in 0usize..2_000, to in 0u8..=255, streamed_form: bool) {
            let members: [(&str, &[u8]); 3] = [("a.log", &log(40)), ("b/c.log", b"x"), ("d.log", &log(10))];
            let mut zip = if streamed_form { streamed(&members) } else { zip_bytes(&members) };
            if let Some(b) = zip.get_mut(flip) {
                *b = to;
            }
            zip.truncate(cut.min(zip.len()));
            let found = walk(&zip, 16, 1 << 20);
            for m in &found.members {
                proptest::prop_assert!(m.data.start <= m.data.end && m.data.end <= zip.len());
            }
        }
    }

    /// A stored member whose length was to follow it, cut before that: it
    /// runs to the end of the copy. An encrypted one of the kind cannot be
    /// walked past, and says so.
    #[test]
    fn a_streamed_stored_member_cut_short_runs_to_the_end() {
        let header = |flags: u16| {
            let mut b = LOCAL.to_vec();
            for v in [20u16, flags, 0, 0, 0x21] {
                b.extend(v.to_le_bytes());
            }
            b.extend([0u8; 12]);
            b.extend(5u16.to_le_bytes());
            b.extend(0u16.to_le_bytes());
            b.extend(b"s.log");
            b
        };
        let cut = [header(0x08), b"2024-01-01 00:00:00 /a 200\n2024-01".to_vec()].concat();
        let found = walk(&cut, 10, 1 << 20);
        assert_eq!(found.members.len(), 1);
        assert!(found.members[0].cut);
        assert_eq!(&cut[found.members[0].data.clone()], b"2024-01-01 00:00:00 /a 200\n2024-01");
        let locked = [header(0x09), vec![7u8; 40]].concat();
        let found = walk(&locked, 10, 1 << 20);
        assert!(found.members.is_empty());
        assert!(found.stopped.as_deref().is_some_and(|s| s.contains("encrypted")), "{found:?}");
    }

    #[test]
    fn garbage_or_an_oversized_stream_stops_the_walk_with_why() {
        let zip = streamed(&[("a.log", &log(30_000)), ("b.log", &log(300))]);
        let first = walk(&zip, 100, 1 << 30).members[0].clone();
        let mut broken = zip.clone();
        let next = first.data.end + 16;
        broken[next] = b'X';
        let found = walk(&broken, 100, 1 << 30);
        assert_eq!(found.members.len(), 1);
        assert!(
            found.stopped.as_deref().is_some_and(|s| s.starts_with("no member header at byte")),
            "{found:?}"
        );
        let found = walk(&zip, 100, 1000);
        assert!(found.members.is_empty());
        assert!(found.stopped.as_deref().is_some_and(|s| s.contains("inflates past")), "{found:?}");
        assert_eq!(walk(&zip, 1, 1 << 30).stopped.as_deref(), Some("more than 1 members"));
    }
}
