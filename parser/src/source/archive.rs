//! `.zip` and `.gz` evidence bundles, read under limits: a zip bomb, an
//! absurd size or a path trick is refused with a message, and the rest of
//! the bundle is still read. Members are decompressed into memory when small
//! and into a mapped temporary file when large.

use std::io::{self, Read, Seek, SeekFrom};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use flate2::read::MultiGzDecoder;
use zip::ZipArchive;

use super::salvage;
use super::spool::{IN_MEMORY, SpoolError, spool};
use super::{ByteSize, Bytes};
use crate::Timestamp;

/// Archive formats recognised by their magic bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ArchiveKind {
    Zip,
    Gzip,
}

impl ArchiveKind {
    pub(super) fn from_magic(magic: &[u8]) -> Option<Self> {
        if magic.starts_with(b"PK\x03\x04") || magic.starts_with(b"PK\x05\x06") {
            Some(ArchiveKind::Zip)
        } else if magic.starts_with(&[0x1f, 0x8b]) {
            Some(ArchiveKind::Gzip)
        } else {
            None
        }
    }
}

/// Limits on what archives may expand to.
#[derive(Clone, Copy, Debug)]
pub struct ArchiveLimits {
    /// Largest decompressed size of one member (or one `.gz`).
    pub max_member_bytes: u64,
    /// Largest total decompressed size of all members of one archive.
    pub max_total_bytes: u64,
    /// Largest declared compression ratio for members over 1 MiB.
    pub max_ratio: u64,
    /// How deeply archives may nest inside archives.
    pub max_depth: usize,
    /// Most members one archive may list.
    pub max_members: usize,
    /// Decompressed bytes kept in memory; a larger member goes to a mapped
    /// temporary file.
    pub in_memory_bytes: u64,
}

impl Default for ArchiveLimits {
    fn default() -> Self {
        ArchiveLimits {
            // Large members are streamed to disk, so the cap is a guard
            // against bombs that still fits the biggest real logs.
            max_member_bytes: 64 << 30,
            max_total_bytes: 1 << 40,
            max_ratio: 2000,
            max_depth: 3,
            max_members: 1_000_000,
            in_memory_bytes: IN_MEMORY,
        }
    }
}

/// A cursor over shared bytes, so that one archive can be read from many
/// threads, each with its own position.
#[derive(Clone, Debug)]
pub(super) struct SharedCursor {
    bytes: Arc<Bytes>,
    pos: u64,
}

impl Read for SharedCursor {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let data: &[u8] = &self.bytes;
        let start = usize::try_from(self.pos).unwrap_or(usize::MAX).min(data.len());
        let n = buf.len().min(data.len() - start);
        buf[..n].copy_from_slice(&data[start..start + n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for SharedCursor {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let len = self.bytes.len() as i128;
        let next = match to {
            SeekFrom::Start(p) => i128::from(p),
            SeekFrom::End(d) => len + i128::from(d),
            SeekFrom::Current(d) => i128::from(self.pos) + i128::from(d),
        };
        if next < 0 {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "seek before start"));
        }
        self.pos = u64::try_from(next).unwrap_or(u64::MAX);
        Ok(self.pos)
    }
}

/// What the central directory says about one member.
#[derive(Debug, Clone)]
pub(super) struct MemberInfo {
    pub index: usize,
    pub name: String,
    pub size: u64,
    pub compressed: u64,
    pub is_dir: bool,
    pub unsafe_path: bool,
    pub encrypted: bool,
    pub nested: Option<ArchiveKind>,
    /// The entry's time (DOS time, no zone: read as UTC).
    pub modified: Option<Timestamp>,
}

impl MemberInfo {
    /// Why this member is refused, if it is.
    pub(super) fn refusal(&self, limits: &ArchiveLimits) -> Option<String> {
        if self.unsafe_path {
            return Some("refused: the member's path is absolute or climbs out of the archive (..)".into());
        }
        if self.encrypted {
            return Some("refused: the member is encrypted".into());
        }
        if self.size > limits.max_member_bytes {
            return Some(format!(
                "refused: its declared size, {}, is over the limit of {} per member",
                ByteSize(self.size),
                ByteSize(limits.max_member_bytes)
            ));
        }
        if self.size > 1 << 20 && self.size / self.compressed.max(1) > limits.max_ratio {
            return Some(format!(
                "refused: compression ratio {}:1 looks like a zip bomb (limit {}:1)",
                self.size / self.compressed.max(1),
                limits.max_ratio
            ));
        }
        None
    }
}

/// A zip entry's time (DOS time, no zone: read as UTC).
pub(super) fn zip_time(t: zip::DateTime) -> Option<Timestamp> {
    let date =
        chrono::NaiveDate::from_ymd_opt(i32::from(t.year()), u32::from(t.month()), u32::from(t.day()))?;
    let at = date.and_hms_opt(u32::from(t.hour()), u32::from(t.minute()), u32::from(t.second()))?;
    Some(Timestamp::from_parts(at.and_utc().timestamp(), 0))
}

/// Spools a member's data under the limits; `size` is what its header says
/// it holds, which the data may not pass.
fn spool_member(reader: impl Read, size: u64, limits: &ArchiveLimits) -> Result<Bytes, String> {
    let cap = limits.max_member_bytes.min(size);
    spool(reader, cap, limits.in_memory_bytes, size).map_err(|e| match e {
        SpoolError::TooLarge(_) => format!(
            "refused: the member expands beyond its declared size of {} (zip bomb or corrupt header)",
            ByteSize(size)
        ),
        other => other.describe("the member"),
    })
}

/// A member's name with `/` between its folders. Zips written by some
/// Windows tools separate folders with `\`, and a host's or a site's
/// folder (`WEB01\W3SVC2\u_ex...`) is only found component by component.
/// The number of members a zip's end-of-directory record declares (none
/// for a Zip64 archive, which declares it elsewhere, or when the record is
/// not found).
fn declared_members(bytes: &[u8]) -> Option<usize> {
    const END: [u8; 4] = [0x50, 0x4b, 0x05, 0x06];
    // The record is 22 bytes and a comment of up to 64 KiB may follow it.
    let from = bytes.len().saturating_sub(22 + usize::from(u16::MAX));
    let at = from + memchr::memmem::rfind(&bytes[from..], &END)?;
    let total = u16::from_le_bytes(bytes.get(at + 10..at + 12)?.try_into().ok()?);
    (total != u16::MAX).then_some(usize::from(total))
}

fn member_name(raw: &str) -> String {
    raw.replace('\\', "/")
}

/// Whether a member name (with `/` separators) is absolute, names a drive,
/// or climbs above the archive's root: the zip crate judges the name by
/// the platform's separator, so `..\..\x` is one harmless name on Linux.
fn climbs_out(name: &str) -> bool {
    let drive = name.as_bytes().get(1) == Some(&b':') && name.as_bytes()[0].is_ascii_alphabetic();
    if name.starts_with('/') || drive || name.contains('\0') {
        return true;
    }
    let mut depth = 0usize;
    for part in name.split('/') {
        match part {
            "" | "." => {}
            ".." => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return true,
            },
            _ => depth += 1,
        }
    }
    false
}

/// An opened zip archive.
#[derive(Debug)]
pub(super) struct Archive {
    directory: Directory,
    expanded: AtomicU64,
}

/// Where an archive's members are listed.
#[derive(Debug)]
enum Directory {
    /// Its central directory.
    Central(ZipArchive<SharedCursor>),
    /// Its local headers, walked from the start: the central directory
    /// could not be read.
    Local { bytes: Arc<Bytes>, members: Vec<salvage::Found> },
}

impl Archive {
    /// Opens a zip from its central directory, else from its members' local
    /// headers, with a note saying so (and why the walk stopped, if it did
    /// before the end): a copy cut short keeps every member before the cut.
    pub(super) fn open(
        bytes: Arc<Bytes>,
        limits: &ArchiveLimits,
    ) -> Result<(Self, Option<super::InputError>), String> {
        let declared = declared_members(&bytes).unwrap_or_default();
        let error = match ZipArchive::new(SharedCursor { bytes: Arc::clone(&bytes), pos: 0 }) {
            // A directory listing one name twice is read by its names, and
            // the last member of a name hid the others: the members are read
            // from their own headers instead, each.
            Ok(zip) if declared > zip.len() => {
                let found = salvage::walk(&bytes, limits.max_members, limits.max_member_bytes);
                let shared = declared - zip.len();
                // Read from the headers only when they give every member
                // the directory lists: else by names, and said.
                if found.stopped.is_some() || found.members.len() < declared {
                    let why = found.stopped.map_or_else(String::new, |s| format!(": {s}"));
                    let note = format!(
                        "{shared} member{} of this archive share{} a name with another, and only the last of \
                         each name is read (its headers could not be read one by one{why})",
                        if shared == 1 { "" } else { "s" },
                        if shared == 1 { "s" } else { "" },
                    );
                    return Ok((
                        Archive { directory: Directory::Central(zip), expanded: AtomicU64::new(0) },
                        Some(super::InputError::Archive(note)),
                    ));
                }
                let note = format!(
                    "{shared} member{} of this archive share{} a name with another: each is read, from its own header",
                    if shared == 1 { "" } else { "s" },
                    if shared == 1 { "s" } else { "" },
                );
                let directory = Directory::Local { bytes, members: found.members };
                return Ok((
                    Archive { directory, expanded: AtomicU64::new(0) },
                    Some(super::InputError::Container(note)),
                ));
            }
            Ok(zip) => {
                return Ok((
                    Archive { directory: Directory::Central(zip), expanded: AtomicU64::new(0) },
                    None,
                ));
            }
            Err(e) => e,
        };
        let found = salvage::walk(&bytes, limits.max_members, limits.max_member_bytes);
        if found.members.is_empty() {
            let why = found.stopped.map_or_else(String::new, |s| format!("; from the start: {s}"));
            return Err(format!("unreadable zip archive: {error}{why}"));
        }
        let n = found.members.len();
        let note = format!(
            "damaged zip archive ({error}): {n} member{} read from {} local header{}{}",
            if n == 1 { "" } else { "s" },
            if n == 1 { "its" } else { "their" },
            if n == 1 { "" } else { "s" },
            found.stopped.map_or_else(String::new, |s| format!("; after them, {s}"))
        );
        let directory = Directory::Local { bytes, members: found.members };
        Ok((Archive { directory, expanded: AtomicU64::new(0) }, Some(super::InputError::Archive(note))))
    }

    /// The members, in directory order, up to the member limit.
    pub(super) fn members(&self, limits: &ArchiveLimits) -> Vec<MemberInfo> {
        let mut out = match &self.directory {
            Directory::Central(zip) => Self::listed(zip),
            Directory::Local { members, .. } => members
                .iter()
                .enumerate()
                .map(|(index, m)| {
                    let name = member_name(&m.name);
                    MemberInfo {
                        index,
                        unsafe_path: climbs_out(&name),
                        is_dir: name.ends_with('/'),
                        name,
                        size: m.size,
                        compressed: m.compressed,
                        encrypted: m.encrypted,
                        nested: None,
                        modified: m.modified,
                    }
                })
                .collect(),
        };
        // Peek each member's first bytes to find nested archives by content.
        for info in &mut out {
            if info.is_dir || info.unsafe_path || info.encrypted {
                continue;
            }
            if let Ok(magic) = self.read_member_head(info.index, limits, 4) {
                info.nested = ArchiveKind::from_magic(&magic);
            }
        }
        out
    }

    fn listed(zip: &ZipArchive<SharedCursor>) -> Vec<MemberInfo> {
        let mut zip = zip.clone();
        let mut out = Vec::new();
        for index in 0..zip.len() {
            let Ok(file) = zip.by_index_raw(index) else { continue };
            let name = member_name(file.name());
            let unsafe_path = file.enclosed_name().is_none() || climbs_out(&name);
            let info = MemberInfo {
                index,
                name,
                size: file.size(),
                compressed: file.compressed_size(),
                is_dir: file.is_dir(),
                unsafe_path,
                encrypted: file.encrypted(),
                nested: None,
                modified: file.last_modified().and_then(zip_time),
            };
            out.push(info);
        }
        out
    }

    /// A reader of a member found from its local header.
    fn local_reader<'a>(bytes: &'a [u8], m: &salvage::Found) -> Result<Box<dyn Read + 'a>, String> {
        let data = &bytes[m.data.clone()];
        match m.method {
            salvage::Method::Stored => Ok(Box::new(data)),
            salvage::Method::Deflated => Ok(Box::new(flate2::read::DeflateDecoder::new(data))),
            salvage::Method::Other(n) => Err(format!("refused: compression method {n} is not read")),
        }
    }

    /// Decompresses one member, enforcing the limits on the bytes actually
    /// produced (a lying header does not get past them). A member the copy
    /// ends inside (found from its local header) gives what it holds up to
    /// there, with why it ends.
    pub(super) fn read_member(
        &self,
        index: usize,
        limits: &ArchiveLimits,
    ) -> Result<(Bytes, Option<String>), String> {
        let (data, damage) = match &self.directory {
            // Damaged data keeps what came before the damage, as a damaged
            // `.gz` does (a bad checksum at the end keeps it all, said).
            Directory::Central(zip) => {
                let mut zip = zip.clone();
                let file = zip.by_index(index).map_err(|e| format!("unreadable member: {e}"))?;
                let size = file.size();
                let mut reader = UntilDamaged { inner: file, damage: None };
                let data = spool_member(&mut reader, size, limits)?;
                let damage = reader.damage.map(|e| damaged_after(data.len(), &e));
                (data, damage)
            }
            Directory::Local { bytes, members } => {
                let m = members.get(index).ok_or("unreadable member: no such member")?;
                let mut reader = UntilDamaged { inner: Self::local_reader(bytes, m)?, damage: None };
                let data = spool_member(&mut reader, m.size, limits)?;
                let damage = match (reader.damage, m.cut) {
                    (Some(e), _) => Some(damaged_after(data.len(), &e)),
                    (None, true) => Some(format!(
                        "the zip ends inside this member: its first {} are read",
                        ByteSize(data.len() as u64)
                    )),
                    (None, false) => None,
                };
                (data, damage)
            }
        };
        let total = self.expanded.fetch_add(data.len() as u64, Ordering::Relaxed) + data.len() as u64;
        if total > limits.max_total_bytes {
            return Err(format!(
                "refused: the archive expands beyond {} in total (zip bomb)",
                ByteSize(limits.max_total_bytes)
            ));
        }
        Ok((data, damage))
    }

    /// The first `n` decompressed bytes of one member.
    pub(super) fn read_member_head(
        &self,
        index: usize,
        limits: &ArchiveLimits,
        n: usize,
    ) -> Result<Vec<u8>, String> {
        let mut head = Vec::with_capacity(n);
        match &self.directory {
            Directory::Central(zip) => {
                let mut zip = zip.clone();
                let file = zip.by_index(index).map_err(|e| format!("unreadable member: {e}"))?;
                let cap = limits.max_member_bytes.min(file.size()).min(n as u64);
                file.take(cap).read_to_end(&mut head).map_err(|e| format!("unreadable member: {e}"))?;
            }
            Directory::Local { bytes, members } => {
                let m = members.get(index).ok_or("unreadable member: no such member")?;
                let cap = limits.max_member_bytes.min(m.size).min(n as u64);
                let reader = UntilDamaged { inner: Self::local_reader(bytes, m)?, damage: None };
                reader.take(cap).read_to_end(&mut head).map_err(|e| format!("unreadable member: {e}"))?;
            }
        }
        Ok(head)
    }
}

/// Decompresses a `.gz` file (all members), under the limit. Data that
/// turns out damaged (cut short, a checksum that does not match, junk
/// after the last member) ends the data there: what came before is kept,
/// as `gzip -d` keeps it, with why it ended.
pub(super) fn gunzip(bytes: &[u8], limits: &ArchiveLimits) -> Result<(Bytes, Option<String>), String> {
    let expected = gzip_declared_size(bytes);
    let mut reader = UntilDamaged { inner: MultiGzDecoder::new(bytes), damage: None };
    let data = spool(&mut reader, limits.max_member_bytes, limits.in_memory_bytes, expected).map_err(
        |e| match e {
            SpoolError::TooLarge(limit) => {
                format!("refused: decompresses to more than {} (gzip bomb)", ByteSize(limit))
            }
            SpoolError::Read(e) => format!("corrupt gzip data: {e}"),
            other => other.describe("the decompressed data"),
        },
    )?;
    // Damaged from its first byte, it holds nothing read: a corrupt file,
    // not an empty one.
    if data.is_empty()
        && let Some(e) = &reader.damage
    {
        return Err(format!("corrupt gzip data: {e}"));
    }
    let damage = reader.damage.map(|e| format!("damaged gzip data after {} bytes: {e}", data.len()));
    Ok((data, damage))
}

/// A reader that ends, rather than fails, where its source's data turns
/// out damaged, and keeps why.
/// What a member whose data is damaged after `read` bytes says.
fn damaged_after(read: usize, e: &io::Error) -> String {
    format!("damaged zip member data after {}: {e}", ByteSize(read as u64))
}

struct UntilDamaged<R> {
    inner: R,
    damage: Option<io::Error>,
}

impl<R: Read> Read for UntilDamaged<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.damage.is_some() {
            return Ok(0);
        }
        loop {
            match self.inner.read(buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.damage = Some(e);
                    return Ok(0);
                }
                done => return done,
            }
        }
    }
}

/// The first `n` decompressed bytes of a `.gz` file.
pub(super) fn gunzip_head(bytes: &[u8], n: usize) -> Result<Vec<u8>, String> {
    let mut head = Vec::with_capacity(n);
    MultiGzDecoder::new(bytes)
        .take(n as u64)
        .read_to_end(&mut head)
        .map_err(|e| format!("corrupt gzip data: {e}"))?;
    Ok(head)
}

/// The uncompressed size a `.gz` trailer declares (modulo 4 GiB).
pub(super) fn gzip_declared_size(bytes: &[u8]) -> u64 {
    match bytes.len().checked_sub(4) {
        Some(p) => u64::from(u32::from_le_bytes([bytes[p], bytes[p + 1], bytes[p + 2], bytes[p + 3]])),
        None => 0,
    }
}
