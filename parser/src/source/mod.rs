//! Evidence inputs: files, directories, `.zip` bundles and `.gz` files in
//! any mix. Regular files are memory-mapped; archive members are
//! decompressed under limits that refuse zip bombs, into memory when small
//! and into a mapped temporary file when large ([`spool`]).

mod archive;
#[cfg(target_os = "linux")]
mod guard;
mod layout;
mod salvage;
mod size;
pub mod spool;

use std::fmt;
use std::fs::File;
use std::io::Read;
use std::ops::{Deref, Range};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use memmap2::Mmap;
use serde::{Serialize, Serializer};
use thiserror::Error;

pub use archive::ArchiveLimits;
use archive::{Archive, ArchiveKind};
pub use size::ByteSize;

use crate::Timestamp;
pub use layout::{
    Layout, Part, Placement, ServiceLog, is_volume, percent_decoded, plausible_host, site_from_service_name,
};

/// Where a piece of evidence is: a file, or a member of an archive (possibly
/// nested), displayed as `bundle.zip!WEB01/u_ex.log`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EvidencePath {
    /// The file on disk.
    pub file: PathBuf,
    /// Member names inside archives, outermost first.
    pub members: Vec<String>,
}

impl EvidencePath {
    /// A plain file.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        EvidencePath { file: path.into(), members: Vec::new() }
    }

    /// A member of this path (which is an archive).
    pub fn member(&self, name: impl Into<String>) -> Self {
        let mut members = self.members.clone();
        members.push(name.into());
        EvidencePath { file: self.file.clone(), members }
    }

    /// The last name component (file or innermost member).
    pub fn file_name(&self) -> String {
        match self.members.last() {
            Some(m) => m.rsplit(['/', '\\']).next().unwrap_or(m).to_string(),
            None => self.file.file_name().map(|n| path_text(Path::new(n)).into_owned()).unwrap_or_default(),
        }
    }

    /// Path parts from the file system path and the member names, with
    /// archives named by their stems (`WEB01.zip` → `WEB01`).
    pub fn parts(&self) -> Vec<Part> {
        // A relative path is read from where it lies, so that the folders
        // above it say where it sits in a collection (`LogFiles` given
        // inside a server's `inetpub\logs`). The working folders are not
        // the analyst's naming, except the one `.` or `..` names
        // (`faultline hunt .` inside a host's folder).
        let (file, untyped) = match self.file.is_relative() {
            true => {
                let dots: PathBuf = self
                    .file
                    .components()
                    .take_while(|c| {
                        matches!(c, std::path::Component::CurDir | std::path::Component::ParentDir)
                    })
                    .collect();
                let from = lexical(&working_dir().join(&dots));
                let untyped =
                    from.components().count().saturating_sub(usize::from(!dots.as_os_str().is_empty()));
                (lexical(&working_dir().join(&self.file)), untyped)
            }
            false => (self.file.clone(), 0),
        };
        let mut out: Vec<Part> = file
            .components()
            .enumerate()
            .map(|(i, c)| Part {
                name: c.as_os_str().to_string_lossy().into_owned(),
                archive: false,
                typed: i >= untyped,
            })
            .collect();
        for m in &self.members {
            // A `.gz` of one named file (`httperr2.log.gz`, `System.evtx.gz`)
            // is that file compressed, not a folder: its member takes its
            // place. One named like a folder (`WEB01.gz`) still counts as one.
            let compressed_file = out.last().is_some_and(|last| {
                last.name.to_ascii_lowercase().ends_with(".gz")
                    && Path::new(&archive_stem(&last.name)).extension().is_some()
            });
            if compressed_file {
                out.pop();
            } else if let Some(last) = out.last_mut() {
                *last = Part { name: archive_stem(&last.name), archive: true, typed: last.typed };
            }
            out.extend(m.split(['/', '\\']).filter(|s| !s.is_empty()).map(|s| Part {
                name: s.to_string(),
                archive: false,
                typed: true,
            }));
        }
        out
    }

    /// Where the file sits in its collection ([`layout::place`]).
    pub fn placement(&self) -> Placement {
        layout::place(&self.parts())
    }
}

/// The working folder, links resolved: where a file given by a relative
/// path really lies is what places it in a collection.
fn working_dir() -> PathBuf {
    std::env::current_dir().unwrap_or_default()
}

/// `path` with `.` dropped and each `..` taking away the folder before it,
/// without asking the file system (a link is not followed).
fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

fn archive_stem(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    for ext in [".zip", ".gz"] {
        if lower.ends_with(ext) {
            return name[..name.len() - ext.len()].to_string();
        }
    }
    name.to_string()
}

/// A path as text, each byte of its name that is no UTF-8 written as
/// `\xNN`: shown as U+FFFD, two names that differ only there were one, and
/// neither could be found from what was shown.
pub fn path_text(path: &Path) -> std::borrow::Cow<'_, str> {
    if let Some(text) = path.to_str() {
        return std::borrow::Cow::Borrowed(text);
    }
    #[cfg(unix)]
    {
        use std::fmt::Write as _;
        use std::os::unix::ffi::OsStrExt as _;
        let mut out = String::new();
        for chunk in path.as_os_str().as_bytes().utf8_chunks() {
            out.push_str(chunk.valid());
            for b in chunk.invalid() {
                let _ = write!(out, "\\x{b:02X}");
            }
        }
        std::borrow::Cow::Owned(out)
    }
    #[cfg(not(unix))]
    path.to_string_lossy()
}

impl fmt::Display for EvidencePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&path_text(&self.file))?;
        for m in &self.members {
            write!(f, "!{m}")?;
        }
        Ok(())
    }
}

impl Serialize for EvidencePath {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// The bytes of one source.
#[derive(Debug)]
pub enum Bytes {
    /// A memory-mapped regular file.
    Mapped(Mapping),
    /// Data read or decompressed into memory.
    Owned(Vec<u8>),
    /// Data decompressed or transcoded into an unnamed temporary file,
    /// mapped (see [`spool`]).
    Spooled(Mmap),
}

/// A mapped file and the guard that keeps a truncation from killing us.
/// Field order is drop order: the guard is released before the unmap.
#[derive(Debug)]
pub struct Mapping {
    #[cfg(target_os = "linux")]
    guard: guard::Guard,
    map: Mmap,
}

impl Bytes {
    /// Whether the file shrank while mapped, so that the tail read as zeros
    /// and the file must be read again.
    pub fn was_cut(&self) -> bool {
        match self {
            #[cfg(target_os = "linux")]
            Bytes::Mapped(m) => m.guard.was_cut(),
            _ => false,
        }
    }
}

impl Bytes {
    /// The mapping behind these bytes, if they are mapped.
    fn mapping(&self) -> Option<&Mmap> {
        match self {
            Bytes::Mapped(m) => Some(&m.map),
            Bytes::Spooled(m) => Some(m),
            Bytes::Owned(_) => None,
        }
    }
}

impl Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Mapped(m) => &m.map,
            Bytes::Owned(v) => v,
            Bytes::Spooled(m) => m,
        }
    }
}

impl crate::framing::Paging for Bytes {
    /// Maps the range's pages in one call instead of one fault per page group.
    fn will_read(&self, range: Range<usize>) {
        if let Some(m) = self.mapping() {
            // Older kernels lack MADV_POPULATE_READ; faults then do the same work.
            let _ = m.advise_range(memmap2::Advice::PopulateRead, range.start, range.end - range.start);
        }
    }

    /// Tells the kernel a range of a mapping is no longer needed, so resident
    /// memory stays flat while a large file streams through.
    fn done(&self, range: Range<usize>) {
        if let Some(m) = self.mapping() {
            let page = 4096;
            let start = range.start.div_ceil(page) * page;
            let end = (range.end / page) * page;
            if end > start {
                // SAFETY: the mapping is read-only and private to us; dropping
                // pages of a file mapping only makes later reads fault them in
                // again from the page cache. Nothing holds references into the
                // released range once its chunk is parsed.
                let _ = unsafe {
                    m.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, start, end - start)
                };
            }
        }
    }
}

/// Files smaller than this are read rather than mapped: a read is cheaper
/// than setting up a mapping, and FREB folders hold thousands of small files.
const MAP_THRESHOLD: u64 = 256 * 1024;

/// Why an input could not be read.
#[derive(Debug, Error)]
pub enum InputError {
    /// The path does not exist.
    #[error("no such file or directory")]
    NotFound,
    /// Any other I/O failure.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// A directory walk failed (loop, permission).
    #[error("{0}")]
    Walk(String),
    /// An archive or member was refused or unreadable.
    #[error("{0}")]
    Archive(String),
    /// An archive read whole, with what was unusual about it (members
    /// sharing a name): not a failure, said beside its members.
    #[error("{0}")]
    Container(String),
    /// A file found again (a link to it, a path given twice, a folder
    /// inside another given): read once, at its first path.
    #[error("the same file as {0}; read once")]
    Again(String),
    /// A device, pipe or socket: its bytes have no end, or can be read
    /// once only (the format is recognised by reading its first bytes).
    #[error("not a regular file (a device, pipe or socket); not read: save it to a file and give that")]
    NotRegular,
    /// A link that leads back to a folder it is in, or to itself through
    /// other links: what it leads to, if anything, is read at its own path.
    #[error("a symbolic link loop (back to a folder it is in, or to itself); not followed")]
    LinkLoop,
    /// A link to nothing.
    #[error("a symbolic link to {0}, which does not exist")]
    DanglingLink(String),
}

impl InputError {
    /// Whether the input could not be read. A file found again, an archive
    /// read whole (its members are the evidence) and a link back to a
    /// folder it is in lose nothing: they are skipped, not failures.
    pub fn is_failure(&self) -> bool {
        !matches!(self, InputError::Container(_) | InputError::Again(_) | InputError::LinkLoop)
    }
}

/// A problem with one input path, reported and skipped.
#[derive(Debug)]
pub struct InputProblem {
    /// The input or member.
    pub path: EvidencePath,
    /// What went wrong.
    pub error: InputError,
}

/// One discovered piece of evidence, not yet opened.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Where it is.
    pub path: EvidencePath,
    /// Size in bytes (uncompressed size for archive members, as declared).
    pub size: u64,
    /// When the file was last modified (an archive member's entry time,
    /// read as UTC: zip times carry no zone).
    pub modified: Option<Timestamp>,
    /// Another entry that holds the same bytes and is read instead (an
    /// archive beside the folder it was unpacked to).
    pub copy_of: Option<EvidencePath>,
    /// Where a symbolic link inside a folder given led, when that is
    /// outside every folder given: read (links are followed), and said.
    pub outside: Option<PathBuf>,
    opener: Opener,
}

#[derive(Debug, Clone)]
enum Opener {
    File,
    Gzip { inner: Option<Arc<Bytes>> },
    Member { archive: Arc<Archive>, index: usize },
}

/// An opened source: its path and bytes.
#[derive(Debug)]
pub struct Source {
    /// Where it is.
    pub path: EvidencePath,
    /// Its content.
    pub bytes: Bytes,
    /// When it was last modified.
    pub modified: Option<Timestamp>,
    /// Why its content ends early: compressed data found damaged, whose
    /// bytes before the damage are the content.
    pub damage: Option<String>,
}

impl Entry {
    /// Reads or maps the entry's bytes.
    pub fn open(&self, limits: &ArchiveLimits) -> Result<Source, InputError> {
        let bytes = match &self.opener {
            Opener::File => open_file(&self.path.file)?,
            Opener::Gzip { inner } => {
                let compressed = match inner {
                    Some(b) => Arc::clone(b),
                    None => Arc::new(open_file(&self.path.file)?),
                };
                let (bytes, damage) = archive::gunzip(&compressed, limits).map_err(InputError::Archive)?;
                return Ok(Source { path: self.path.clone(), bytes, modified: self.modified, damage });
            }
            Opener::Member { archive, index } => {
                let (bytes, damage) = archive.read_member(*index, limits).map_err(InputError::Archive)?;
                return Ok(Source { path: self.path.clone(), bytes, modified: self.modified, damage });
            }
        };
        Ok(Source { path: self.path.clone(), bytes, modified: self.modified, damage: None })
    }

    /// The entry's first `n` bytes (decompressed), without reading the rest.
    pub fn head(&self, limits: &ArchiveLimits, n: usize) -> Result<Vec<u8>, InputError> {
        match &self.opener {
            Opener::File => {
                let file = File::open(&self.path.file).map_err(|e| match e.kind() {
                    std::io::ErrorKind::NotFound => InputError::NotFound,
                    _ => InputError::Io(e),
                })?;
                let mut head = Vec::with_capacity(n.min(usize::try_from(self.size).unwrap_or(n)));
                file.take(n as u64).read_to_end(&mut head)?;
                Ok(head)
            }
            Opener::Gzip { inner } => {
                let compressed = match inner {
                    Some(b) => Arc::clone(b),
                    None => Arc::new(open_file(&self.path.file)?),
                };
                archive::gunzip_head(&compressed, n).map_err(InputError::Archive)
            }
            Opener::Member { archive, index } => {
                archive.read_member_head(*index, limits, n).map_err(InputError::Archive)
            }
        }
    }
}

fn open_file(path: &Path) -> Result<Bytes, InputError> {
    let file = File::open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => InputError::NotFound,
        _ => InputError::Io(e),
    })?;
    let len = file.metadata()?.len();
    let read = |mut file: File| -> Result<Bytes, InputError> {
        let mut buf = Vec::with_capacity(usize::try_from(len).unwrap_or(0).min(1 << 30));
        file.read_to_end(&mut buf)?;
        Ok(Bytes::Owned(buf))
    };
    if len < MAP_THRESHOLD {
        return read(file);
    }
    // SAFETY: the file is opened read-only. If another process truncates it
    // while mapped, reads past the new end fault; the guard turns that fault
    // into zero pages and a mark, and the reader then reads the file again.
    let map = unsafe { Mmap::map(&file)? };
    #[cfg(target_os = "linux")]
    let Some(guard) = guard::Guard::register(map.as_ptr(), map.len()) else {
        drop(map);
        return read(file);
    };
    let _ = map.advise(memmap2::Advice::Sequential);
    Ok(Bytes::Mapped(Mapping {
        #[cfg(target_os = "linux")]
        guard,
        map,
    }))
}

/// The file read again into memory, after its mapping was cut short.
pub(crate) fn reread(path: &Path) -> Result<Bytes, InputError> {
    Ok(Bytes::Owned(std::fs::read(path)?))
}

/// The result of walking the inputs.
#[derive(Debug, Default)]
pub struct Discovery {
    /// Evidence candidates, in a deterministic order.
    pub entries: Vec<Entry>,
    /// Inputs that could not be read at all.
    pub problems: Vec<InputProblem>,
}

/// Walks files, directories (recursively, following links with loop
/// detection), `.zip` archives (nested ones too) and `.gz` files.
pub fn discover(inputs: &[PathBuf], limits: &ArchiveLimits) -> Discovery {
    let mut out = Discovery::default();
    // Each file once, by its identity on disk: a link to a file beside it,
    // or a folder given with one inside it, read it twice and counted every
    // record, request and detection twice.
    let mut seen = FilesSeen::default();
    let mut add = |out: &mut Discovery, path: PathBuf, meta: Option<&std::fs::Metadata>| {
        if let Some(first) = meta.and_then(|m| seen.again(m, &path)) {
            out.problems.push(InputProblem {
                path: EvidencePath::file(path),
                error: InputError::Again(path_text(&first).into_owned()),
            });
            return;
        }
        let size = meta.map_or(0, std::fs::Metadata::len);
        add_file(out, path, size, modified(meta), limits);
    };
    // Files reached through a link (a linked file, a file in a linked
    // folder, an input that is a link) are taken after every file reached
    // without one: a file found both ways is read at its real path, and
    // named for the host its real folders name.
    let mut linked: Vec<(PathBuf, Option<std::fs::Metadata>, Option<PathBuf>)> = Vec::new();
    // The folders given, as they really are: a link that leads out of all
    // of them is said.
    let given: Vec<PathBuf> =
        inputs.iter().filter(|i| i.is_dir()).filter_map(|i| std::fs::canonicalize(i).ok()).collect();
    let outside = |path: &Path| {
        let real = std::fs::canonicalize(path).ok()?;
        (!given.iter().any(|g| real.starts_with(g))).then_some(real)
    };
    for input in inputs {
        let is_link = std::fs::symlink_metadata(input).is_ok_and(|m| m.file_type().is_symlink());
        let meta = match std::fs::metadata(input) {
            Ok(m) => m,
            Err(e) => {
                let error = if let Some(target) = dangling_target(input, Some(&e)) {
                    InputError::DanglingLink(target)
                } else if is_loop(&e) {
                    InputError::LinkLoop
                } else if e.kind() == std::io::ErrorKind::NotFound {
                    InputError::NotFound
                } else {
                    InputError::Io(e)
                };
                out.problems.push(InputProblem { path: EvidencePath::file(input), error });
                continue;
            }
        };
        if meta.is_dir() {
            let walker = walkdir::WalkDir::new(input).follow_links(true).sort_by_file_name();
            // Folders reached through a link (the input itself among them,
            // the walk's first entry): what is under them waits.
            let mut linked_dirs: Vec<PathBuf> = Vec::new();
            for item in walker {
                match item {
                    Ok(e) if e.file_type().is_dir() => {
                        if e.path_is_symlink() {
                            linked_dirs.push(e.into_path());
                        }
                    }
                    Ok(e) if e.file_type().is_file() => {
                        let meta = e.metadata().ok();
                        if e.path_is_symlink() || linked_dirs.iter().any(|d| e.path().starts_with(d)) {
                            let real = outside(e.path());
                            linked.push((e.into_path(), meta, real));
                        } else {
                            add(&mut out, e.into_path(), meta.as_ref());
                        }
                    }
                    Ok(e) => out.problems.push(InputProblem {
                        path: EvidencePath::file(e.into_path()),
                        error: InputError::NotRegular,
                    }),
                    Err(e) => {
                        let path = e.path().map(Path::to_path_buf).unwrap_or_else(|| input.clone());
                        let error = if e.loop_ancestor().is_some() || e.io_error().is_some_and(is_loop) {
                            InputError::LinkLoop
                        } else if let Some(target) = dangling_target(&path, e.io_error()) {
                            InputError::DanglingLink(target)
                        } else {
                            InputError::Walk(e.io_error().map_or_else(|| e.to_string(), ToString::to_string))
                        };
                        out.problems.push(InputProblem { path: EvidencePath::file(path), error });
                    }
                }
            }
        } else if meta.is_file() {
            if is_link {
                // A file the analyst named is evidence wherever it lies.
                linked.push((input.clone(), Some(meta), None));
            } else {
                add(&mut out, input.clone(), Some(&meta));
            }
        } else {
            out.problems
                .push(InputProblem { path: EvidencePath::file(input), error: InputError::NotRegular });
        }
    }
    for (path, meta, real) in linked {
        let first = out.entries.len();
        add(&mut out, path, meta.as_ref());
        // Said once per link's file: an archive's members are its file's.
        if let Some(e) = out.entries.get_mut(first) {
            e.outside.clone_from(&real);
        }
    }
    // Inputs that overlap (a folder and a folder inside it) walk the same
    // loop, dangling link or pipe twice: it is one problem.
    let mut said = std::collections::HashSet::new();
    out.problems.retain(|p| said.insert((p.path.to_string(), p.error.to_string())));
    out
}

/// Whether `error` is a chain of links that leads back to itself.
#[cfg(target_os = "linux")]
fn is_loop(error: &std::io::Error) -> bool {
    error.raw_os_error() == Some(libc::ELOOP)
}

/// Whether `error` is a chain of links that leads back to itself.
#[cfg(not(target_os = "linux"))]
fn is_loop(_error: &std::io::Error) -> bool {
    false
}

/// Where the link at `path` leads, when reading it failed because nothing
/// is there.
fn dangling_target(path: &Path, error: Option<&std::io::Error>) -> Option<String> {
    if error?.kind() != std::io::ErrorKind::NotFound {
        return None;
    }
    std::fs::read_link(path).ok().map(|t| t.display().to_string())
}

/// Marks each entry whose bytes another holds too as a copy of it: a
/// collection's archive given beside the folder it was unpacked to read
/// every record twice, and made findings of the doubled counts. Of equal
/// copies, a plain file is read before a compressed one (no inflating),
/// then the first found. Copies are of one host, as `host_of` gives each
/// entry's: servers of a farm may write the same bytes (a log of headers
/// only, an empty event log), and each server's file is its own evidence.
/// Only entries of a size another entry has are opened and hashed.
pub fn mark_copies<H: Ord>(entries: &mut [Entry], limits: &ArchiveLimits, host_of: impl Fn(usize) -> H) {
    let mut by_size: std::collections::BTreeMap<u64, Vec<usize>> = std::collections::BTreeMap::new();
    for (i, e) in entries.iter().enumerate().filter(|(_, e)| e.size > 0) {
        by_size.entry(e.size).or_default().push(i);
    }
    let candidates: Vec<usize> = by_size.into_values().filter(|g| g.len() > 1).flatten().collect();
    if candidates.is_empty() {
        return;
    }
    use rayon::prelude::*;
    let digests: Vec<Option<u128>> = candidates
        .par_iter()
        .map(|&i| {
            let source = entries[i].open(limits).ok().filter(|s| s.damage.is_none())?;
            Some(xxhash_rust::xxh3::xxh3_128(&source.bytes))
        })
        .collect();
    let mut same: std::collections::BTreeMap<(u64, u128, H), Vec<usize>> = std::collections::BTreeMap::new();
    for (&i, digest) in candidates.iter().zip(digests) {
        if let Some(d) = digest {
            same.entry((entries[i].size, d, host_of(i))).or_default().push(i);
        }
    }
    let rank = |e: &Entry| match e.opener {
        Opener::File => 0,
        Opener::Gzip { .. } => 1,
        Opener::Member { .. } => 2,
    };
    for group in same.into_values().filter(|g| g.len() > 1) {
        let Some(&kept) = group.iter().min_by_key(|&&i| (rank(&entries[i]), i)) else { continue };
        let path = entries[kept].path.clone();
        for &i in group.iter().filter(|&&i| i != kept) {
            entries[i].copy_of = Some(path.clone());
        }
    }
}

/// The files discovery has found, by their identity on disk, with the
/// path each was first found at.
#[derive(Default)]
struct FilesSeen(std::collections::HashMap<FileKey, PathBuf>);

/// A file's identity: its device and inode.
#[cfg(unix)]
type FileKey = (u64, u64);

/// A file's identity: its canonical path.
#[cfg(not(unix))]
type FileKey = PathBuf;

#[cfg(unix)]
fn file_key(meta: &std::fs::Metadata, _path: &Path) -> FileKey {
    use std::os::unix::fs::MetadataExt as _;
    (meta.dev(), meta.ino())
}

#[cfg(not(unix))]
fn file_key(_meta: &std::fs::Metadata, path: &Path) -> FileKey {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

impl FilesSeen {
    /// The path a file was first found at, when `meta` (of `path`) is one
    /// found before; otherwise notes it.
    fn again(&mut self, meta: &std::fs::Metadata, path: &Path) -> Option<PathBuf> {
        match self.0.entry(file_key(meta, path)) {
            std::collections::hash_map::Entry::Occupied(first) => Some(first.get().clone()),
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(path.to_path_buf());
                None
            }
        }
    }
}

/// A file's modification time, when a clock of nanoseconds since 1970 can
/// place it (a copy's garbage date past 2262 would be clamped to its end).
fn modified(meta: Option<&std::fs::Metadata>) -> Option<Timestamp> {
    let since = meta?.modified().ok()?.duration_since(std::time::UNIX_EPOCH).ok()?;
    i64::try_from(since.as_nanos()).ok().map(Timestamp)
}

fn add_file(
    out: &mut Discovery,
    path: PathBuf,
    size: u64,
    modified: Option<Timestamp>,
    limits: &ArchiveLimits,
) {
    let kind = match peek_magic(&path) {
        Ok(m) => ArchiveKind::from_magic(&m),
        Err(e) => {
            out.problems.push(InputProblem { path: EvidencePath::file(path), error: InputError::Io(e) });
            return;
        }
    };
    let epath = EvidencePath::file(path);
    match kind {
        None => out.entries.push(Entry {
            path: epath,
            size,
            modified,
            copy_of: None,
            outside: None,
            opener: Opener::File,
        }),
        Some(kind) => match open_file(&epath.file) {
            Ok(bytes) => expand_archive(out, epath, kind, Arc::new(bytes), modified, limits, 1),
            Err(error) => out.problems.push(InputProblem { path: epath, error }),
        },
    }
}

fn peek_magic(path: &Path) -> std::io::Result<[u8; 4]> {
    let mut magic = [0u8; 4];
    let mut f = File::open(path)?;
    let mut filled = 0;
    while filled < 4 {
        let n = f.read(&mut magic[filled..])?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    Ok(magic)
}

/// The limits for a nested archive's bytes, which its members' entries
/// hold until the run ends: past a MiB they go to a mapped temporary file,
/// so that many nested archives take disk, not memory (120 zips of 32 MiB
/// in one 3.7 MB zip were held in 3.8 GB of heap).
fn kept_for_the_run(limits: &ArchiveLimits) -> ArchiveLimits {
    ArchiveLimits { in_memory_bytes: limits.in_memory_bytes.min(1 << 20), ..*limits }
}

fn expand_archive(
    out: &mut Discovery,
    path: EvidencePath,
    kind: ArchiveKind,
    bytes: Arc<Bytes>,
    modified: Option<Timestamp>,
    limits: &ArchiveLimits,
    depth: usize,
) {
    if depth > limits.max_depth {
        out.problems.push(InputProblem {
            path,
            error: InputError::Archive(format!(
                "archive nested more than {} levels deep; not opened",
                limits.max_depth
            )),
        });
        return;
    }
    match kind {
        ArchiveKind::Gzip => {
            let name = archive_stem(&path.file_name());
            let inner = path.member(name);
            // A gzip holding another archive is expanded now; anything else is
            // decompressed when its entry is opened, so memory is used only
            // while it is parsed.
            match archive::gunzip_head(&bytes, 4) {
                Ok(head) => match ArchiveKind::from_magic(&head) {
                    Some(nested) => match archive::gunzip(&bytes, &kept_for_the_run(limits)) {
                        // A damaged archive inside is cut short: its own
                        // reader says what of it cannot be read.
                        Ok((data, _)) => {
                            expand_archive(out, inner, nested, Arc::new(data), modified, limits, depth + 1)
                        }
                        Err(e) => {
                            out.problems.push(InputProblem { path: inner, error: InputError::Archive(e) })
                        }
                    },
                    None => {
                        let size = archive::gzip_declared_size(&bytes);
                        let keep = if depth > 1 { Some(bytes) } else { None };
                        out.entries.push(Entry {
                            path: inner,
                            size,
                            modified,
                            copy_of: None,
                            outside: None,
                            opener: Opener::Gzip { inner: keep },
                        });
                    }
                },
                Err(e) => out.problems.push(InputProblem { path, error: InputError::Archive(e) }),
            }
        }
        ArchiveKind::Zip => {
            let archive = match Archive::open(bytes, limits) {
                Ok((a, note)) => {
                    if let Some(error) = note {
                        out.problems.push(InputProblem { path: path.clone(), error });
                    }
                    Arc::new(a)
                }
                Err(e) => {
                    out.problems.push(InputProblem { path, error: InputError::Archive(e) });
                    return;
                }
            };
            let listed = (out.entries.len(), out.problems.len());
            for member in archive.members(limits) {
                let mpath = path.member(member.name.clone());
                if let Some(reason) = member.refusal(limits) {
                    out.problems.push(InputProblem { path: mpath, error: InputError::Archive(reason) });
                    continue;
                }
                if member.is_dir {
                    continue;
                }
                match member.nested {
                    Some(nested) => match archive.read_member(member.index, &kept_for_the_run(limits)) {
                        // A nested archive cut short is read as far as its
                        // own reader can.
                        Ok((data, _)) => expand_archive(
                            out,
                            mpath,
                            nested,
                            Arc::new(data),
                            member.modified,
                            limits,
                            depth + 1,
                        ),
                        Err(e) => {
                            out.problems.push(InputProblem { path: mpath, error: InputError::Archive(e) })
                        }
                    },
                    None => out.entries.push(Entry {
                        path: mpath,
                        size: member.size,
                        modified: member.modified,
                        copy_of: None,
                        outside: None,
                        opener: Opener::Member { archive: Arc::clone(&archive), index: member.index },
                    }),
                }
            }
            // An archive of no files (or of folders alone) is listed, not
            // lost: nothing else would say it was given.
            if (out.entries.len(), out.problems.len()) == listed {
                let error = InputError::Container("an archive that holds no files: nothing to read".into());
                out.problems.push(InputProblem { path, error });
            }
        }
    }
}

#[cfg(test)]
mod tests;
