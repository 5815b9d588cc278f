//! An EVTX writer: Windows event logs laid out as Windows writes them
//! (docs/formats.md; Microsoft's MS-EVEN6 specifies the BinXML).
//!
//! The file is a 4 KiB header then 64 KiB chunks. Every record is a BinXML
//! fragment holding one template instance: a reference to a template
//! definition plus typed substitution values. As on Windows 10:
//!
//! - the outer template is the `System` skeleton, with the 18 substitution
//!   values Windows uses (0 Level, 1 Opcode, 2 Task, 3 EventID, 4 Qualifiers,
//!   5 Keywords, 6 TimeCreated, 7 ActivityID, 8 ProcessID, 9 ThreadID,
//!   10 EventRecordID, 11 Version, 12 UserID, 13 RelatedActivityID,
//!   14 Provider Name, 15 Provider Guid, 16 Channel, 17 EventData), the same
//!   element dependencies, `Computer` (and `EventSourceName`) as literals;
//! - `EventData` is value 17, a nested BinXML fragment holding an instance of
//!   a second template: one `<Data Name="..">` (or positional `<Data>`) per
//!   value, with the names as literals, then `<Binary>` when there is one;
//! - optional parts that are absent are NULL values of optional
//!   substitutions (`Qualifiers`, `Guid`, `ActivityID`, `UserID`, which
//!   readers then leave out) or a different template (`EventSourceName`,
//!   `Binary`, no `EventData` at all).
//!
//! A template is keyed by its shape: the literals of the `System` template,
//! the names, arity and declared types of the `EventData` one. A chunk
//! stores each definition once, inline in the record that first uses it,
//! and later records refer to it by offset; element and attribute names are
//! stored once per chunk in its string table. Chunk headers carry both
//! CRC32s and the string and template hash tables, records are 8-byte
//! aligned, and the space after the last record of a chunk is zeros.
//!
//! Records are encoded straight into a 64 KiB chunk buffer that is written
//! with one call when full; nothing is allocated per record once the
//! templates of a chunk exist.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::{self, Seek, SeekFrom, Write};

/// Size of the file header block.
pub const FILE_HEADER_SIZE: usize = 4096;
/// Size of one chunk.
pub const CHUNK_SIZE: usize = 65536;
/// Size of a chunk header; records start after it.
const CHUNK_HEADER_SIZE: usize = 512;
/// The event schema's namespace.
const EVENT_NS: &str = "http://schemas.microsoft.com/win/2004/08/events/event";
/// A template element without a dependency.
const NO_DEP: u16 = 0xffff;
/// BinXML fragment header: token, major 1, minor 1, flags 0.
const FRAGMENT_HEADER: [u8; 4] = [0x0f, 0x01, 0x01, 0x00];

/// BinXML tokens (MS-EVEN6 2.2.12).
mod token {
    pub const EOF: u8 = 0x00;
    pub const OPEN_START: u8 = 0x01;
    pub const OPEN_START_ATTRS: u8 = 0x41;
    pub const CLOSE_START: u8 = 0x02;
    pub const CLOSE_EMPTY: u8 = 0x03;
    pub const END_ELEMENT: u8 = 0x04;
    pub const VALUE: u8 = 0x05;
    pub const ATTRIBUTE: u8 = 0x06;
    pub const ATTRIBUTE_MORE: u8 = 0x46;
    pub const TEMPLATE_INSTANCE: u8 = 0x0c;
    pub const SUBSTITUTION: u8 = 0x0d;
    pub const OPTIONAL_SUBSTITUTION: u8 = 0x0e;
}

/// Substitution value types (MS-EVEN6 2.2.4).
mod ty {
    pub const NULL: u8 = 0x00;
    pub const STRING: u8 = 0x01;
    pub const U8: u8 = 0x04;
    pub const U16: u8 = 0x06;
    pub const U32: u8 = 0x08;
    pub const U64: u8 = 0x0a;
    pub const BINARY: u8 = 0x0e;
    pub const GUID: u8 = 0x0f;
    pub const FILETIME: u8 = 0x11;
    pub const SID: u8 = 0x13;
    pub const HEX32: u8 = 0x14;
    pub const HEX64: u8 = 0x15;
    pub const BINXML: u8 = 0x21;
}

/// A substitution value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// NULL: renders as nothing (an empty `<Data>`).
    Null,
    /// A string, stored as UTF-16 without a terminator (readers stop at a NUL).
    Str(String),
    /// `win:UInt8`.
    U8(u8),
    /// `win:UInt16`.
    U16(u16),
    /// `win:UInt32`.
    U32(u32),
    /// `win:UInt64`.
    U64(u64),
    /// `win:HexInt32`, rendered `0x..`.
    Hex32(u32),
    /// `win:HexInt64`, rendered `0x..`.
    Hex64(u64),
    /// A FILETIME (100 ns ticks since 1601-01-01 UTC).
    FileTime(u64),
    /// A GUID, `{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}` (braces optional).
    Guid(String /* "{XXXXXXXX-...}" */),
    /// A SID, `S-1-5-18`.
    Sid(String /* "S-1-5-18" */),
    /// Bytes, rendered as upper-case hex.
    Binary(Vec<u8>),
}

impl Value {
    /// The type of the stored value.
    fn type_code(&self) -> u8 {
        match self {
            Value::Null => ty::NULL,
            Value::Str(_) => ty::STRING,
            Value::U8(_) => ty::U8,
            Value::U16(_) => ty::U16,
            Value::U32(_) => ty::U32,
            Value::U64(_) => ty::U64,
            Value::Hex32(_) => ty::HEX32,
            Value::Hex64(_) => ty::HEX64,
            Value::FileTime(_) => ty::FILETIME,
            Value::Guid(_) => ty::GUID,
            Value::Sid(_) => ty::SID,
            Value::Binary(_) => ty::BINARY,
        }
    }

    /// The type a template declares for it (a NULL is a missing string).
    fn declared_type(&self) -> u8 {
        match self {
            Value::Null => ty::STRING,
            v => v.type_code(),
        }
    }
}

/// The `EventData` of an event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum EventData {
    /// No `EventData` element.
    #[default]
    None,
    /// `<Data Name="..">` values (manifest providers). Readers leave out an
    /// empty `Name`, so names should not be empty.
    Named(Vec<(String, Value)>),
    /// `<Data>` values without names (classic providers).
    Positional(Vec<Value>),
}

/// One event to write.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventRecord {
    /// `Provider/@Name`.
    pub provider: String,
    /// `Provider/@Guid`, `{XXXXXXXX-...}`.
    pub provider_guid: Option<String>,
    /// `Provider/@EventSourceName`.
    pub event_source_name: Option<String>,
    /// `EventID`.
    pub event_id: u16,
    /// `EventID/@Qualifiers`.
    pub qualifiers: Option<u16>,
    /// `Version`.
    pub version: u8,
    /// `Level`.
    pub level: u8,
    /// `Task`.
    pub task: u16,
    /// `Opcode`.
    pub opcode: u8,
    /// `Keywords`.
    pub keywords: u64,
    /// TimeCreated as FILETIME (100 ns ticks since 1601-01-01 UTC).
    pub time_created: u64,
    /// `Execution/@ProcessID`.
    pub process_id: u32,
    /// `Execution/@ThreadID`.
    pub thread_id: u32,
    /// `Channel`.
    pub channel: String,
    /// `Computer`.
    pub computer: String,
    /// `Security/@UserID`, `S-1-5-18`.
    pub user_sid: Option<String>,
    /// `Correlation/@ActivityID`, `{XXXXXXXX-...}`.
    pub activity_id: Option<String>,
    /// `EventData/Data`.
    pub data: EventData,
    /// `EventData/Binary`.
    pub binary: Option<Vec<u8>>,
}

/// Writes an EVTX file record by record.
///
/// The header is written first with the dirty flag (as Windows leaves a log
/// that is open), and rewritten clean by [`EvtxWriter::finish`].
pub struct EvtxWriter<W: Write + Seek> {
    out: W,
    /// Where the file starts in `out`.
    base: u64,
    chunk: Chunk,
    chunks_written: u64,
    next_record_id: u64,
    /// Scratch: the key of the record's `System` template.
    system_key: Vec<u8>,
    /// Scratch: the key of the record's `EventData` template.
    data_key: Vec<u8>,
}

impl<W: Write + Seek> std::fmt::Debug for EvtxWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EvtxWriter")
            .field("chunks_written", &self.chunks_written)
            .field("next_record_id", &self.next_record_id)
            .field("records_in_chunk", &self.chunk.records)
            .finish_non_exhaustive()
    }
}

impl<W: Write + Seek> EvtxWriter<W> {
    /// Starts a file at the current position of `out`.
    pub fn new(mut out: W) -> io::Result<Self> {
        let base = out.stream_position()?;
        let mut writer = EvtxWriter {
            out,
            base,
            chunk: Chunk::new(),
            chunks_written: 0,
            next_record_id: 1,
            system_key: Vec::with_capacity(256),
            data_key: Vec::with_capacity(1024),
        };
        let header = writer.file_header(true);
        writer.out.write_all(&header)?;
        Ok(writer)
    }

    /// Appends a record; record ids count from 1; the written time is time_created.
    ///
    /// Fails with `InvalidInput` when a GUID or SID does not parse (nothing is
    /// written) or when the event does not fit in an empty chunk (it is not
    /// written; the chunk it did not fit in was closed). The writer goes on.
    pub fn append(&mut self, event: &EventRecord) -> io::Result<()> {
        let parsed = Parsed::of(event)?;
        system_key(event, &mut self.system_key);
        let has_data = data_key(event, &mut self.data_key);
        let id = self.next_record_id;
        // A record that does not fit is rolled back, and written again at
        // the start of a new chunk (where it must fit).
        for attempt in 0..2 {
            let fresh = self.chunk.records == 0;
            let start = self.chunk.pos;
            let data_key = has_data.then_some(self.data_key.as_slice());
            self.chunk.record(event, id, &parsed, &self.system_key, data_key);
            if !self.chunk.overflow {
                self.chunk.commit(id, start);
                self.next_record_id += 1;
                return Ok(());
            }
            self.chunk.roll_back(start);
            if fresh || attempt > 0 {
                self.chunk.reset();
                break;
            }
            self.flush_chunk()?;
        }
        Err(too_large(id))
    }

    /// Writes the last chunk and the final file header; returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        if self.chunk.records > 0 {
            self.flush_chunk()?;
        }
        let end = self.base + (FILE_HEADER_SIZE as u64) + self.chunks_written * CHUNK_SIZE as u64;
        let header = self.file_header(false);
        self.out.seek(SeekFrom::Start(self.base))?;
        self.out.write_all(&header)?;
        self.out.seek(SeekFrom::Start(end))?;
        self.out.flush()?;
        Ok(self.out)
    }

    /// Number of records appended so far.
    pub fn records(&self) -> u64 {
        self.next_record_id - 1
    }

    /// Bytes the file holds so far, counting the chunk being filled as whole.
    pub fn len(&self) -> u64 {
        let chunks = self.chunks_written + u64::from(self.chunk.records > 0);
        FILE_HEADER_SIZE as u64 + chunks * CHUNK_SIZE as u64
    }

    /// Whether no record was appended yet.
    pub fn is_empty(&self) -> bool {
        self.next_record_id == 1
    }

    fn file_header(&self, dirty: bool) -> [u8; FILE_HEADER_SIZE] {
        let mut h = [0u8; FILE_HEADER_SIZE];
        let chunks = self.chunks_written;
        h[0..8].copy_from_slice(b"ElfFile\0");
        // Oldest and current chunk numbers, next record id.
        h[8..16].copy_from_slice(&0u64.to_le_bytes());
        h[16..24].copy_from_slice(&chunks.saturating_sub(1).to_le_bytes());
        h[24..32].copy_from_slice(&self.next_record_id.to_le_bytes());
        h[32..36].copy_from_slice(&128u32.to_le_bytes());
        // Version 3.1, as Windows 7 to 10 write it.
        h[36..38].copy_from_slice(&1u16.to_le_bytes());
        h[38..40].copy_from_slice(&3u16.to_le_bytes());
        h[40..42].copy_from_slice(&(FILE_HEADER_SIZE as u16).to_le_bytes());
        // The count is 16 bits: past 65 535 chunks (4 GiB) it stays there. The
        // evtx crate and faultline count chunks by the file's size; readers
        // that trust the count (python-evtx) stop at it.
        h[42..44].copy_from_slice(&(chunks.min(0xffff) as u16).to_le_bytes());
        h[120..124].copy_from_slice(&u32::from(dirty).to_le_bytes());
        let crc = crc32(&[&h[..120]]);
        h[124..128].copy_from_slice(&crc.to_le_bytes());
        h
    }

    /// Completes the chunk's header and writes it whole.
    fn flush_chunk(&mut self) -> io::Result<()> {
        self.chunk.seal();
        self.out.write_all(&self.chunk.buf)?;
        self.chunks_written += 1;
        self.chunk.reset();
        Ok(())
    }
}

fn too_large(id: u64) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, format!("event {id} does not fit in a 64 KiB chunk"))
}

fn invalid(what: &str, text: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, format!("invalid {what}: {text:?}"))
}

// ------------------------------------------------------------------------------------------
// Values that need parsing, checked before anything is written
// ------------------------------------------------------------------------------------------

/// A SID as stored: revision, count, 48-bit authority, up to 15 sub-authorities.
#[derive(Debug, Clone, Copy)]
struct Sid {
    bytes: [u8; 8 + 4 * 15],
    len: usize,
}

impl Default for Sid {
    fn default() -> Self {
        Sid { bytes: [0; 68], len: 8 }
    }
}

impl Sid {
    fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// `S-1-5-21-...`: decimal parts; the authority may be `0x`-hex.
fn parse_sid(text: &str) -> io::Result<Sid> {
    let bad = || invalid("SID", text);
    let rest = text.strip_prefix("S-").or_else(|| text.strip_prefix("s-")).ok_or_else(bad)?;
    let mut parts = rest.split('-');
    let revision: u8 = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    let authority = parts.next().ok_or_else(bad)?;
    let authority = match authority.strip_prefix("0x").or_else(|| authority.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => authority.parse::<u64>().ok(),
    }
    .filter(|a| *a < 1 << 48)
    .ok_or_else(bad)?;
    let mut sid = Sid::default();
    sid.bytes[0] = revision;
    sid.bytes[2..8].copy_from_slice(&authority.to_be_bytes()[2..]);
    let mut count = 0usize;
    for part in parts {
        let sub: u32 = part.parse().map_err(|_| bad())?;
        if count == 15 {
            return Err(bad());
        }
        sid.bytes[8 + 4 * count..12 + 4 * count].copy_from_slice(&sub.to_le_bytes());
        count += 1;
    }
    sid.bytes[1] = count as u8;
    sid.len = 8 + 4 * count;
    Ok(sid)
}

/// `{00112233-4455-6677-8899-AABBCCDDEEFF}` (braces optional) in its stored
/// form: the first three fields little-endian, the last eight bytes as is.
fn parse_guid(text: &str) -> io::Result<[u8; 16]> {
    let bad = || invalid("GUID", text);
    let t = text.strip_prefix('{').and_then(|t| t.strip_suffix('}')).unwrap_or(text).as_bytes();
    if t.len() != 36 || t[8] != b'-' || t[13] != b'-' || t[18] != b'-' || t[23] != b'-' {
        return Err(bad());
    }
    let mut raw = [0u8; 16];
    let mut n = 0;
    let mut i = 0;
    while i < t.len() {
        if t[i] == b'-' {
            i += 1;
            continue;
        }
        let hi = hex_digit(t[i]).ok_or_else(bad)?;
        let lo = t.get(i + 1).copied().and_then(hex_digit).ok_or_else(bad)?;
        raw[n] = hi << 4 | lo;
        n += 1;
        i += 2;
    }
    let mut g = raw;
    g[0..4].copy_from_slice(&[raw[3], raw[2], raw[1], raw[0]]);
    g[4..6].copy_from_slice(&[raw[5], raw[4]]);
    g[6..8].copy_from_slice(&[raw[7], raw[6]]);
    Ok(g)
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// The parsed `System` values of one event.
struct Parsed {
    provider_guid: Option<[u8; 16]>,
    activity_id: Option<[u8; 16]>,
    user_sid: Option<Sid>,
}

impl Parsed {
    fn of(e: &EventRecord) -> io::Result<Parsed> {
        let check = |v: &Value| match v {
            Value::Guid(g) => parse_guid(g).map(drop),
            Value::Sid(s) => parse_sid(s).map(drop),
            _ => Ok(()),
        };
        match &e.data {
            EventData::None => {}
            EventData::Named(items) => items.iter().try_for_each(|(_, v)| check(v))?,
            EventData::Positional(values) => values.iter().try_for_each(check)?,
        }
        Ok(Parsed {
            provider_guid: e.provider_guid.as_deref().map(parse_guid).transpose()?,
            activity_id: e.activity_id.as_deref().map(parse_guid).transpose()?,
            user_sid: e.user_sid.as_deref().map(parse_sid).transpose()?,
        })
    }
}

// ------------------------------------------------------------------------------------------
// Template keys
// ------------------------------------------------------------------------------------------

fn push_str(key: &mut Vec<u8>, s: &str) {
    key.extend_from_slice(&(s.len() as u32).to_le_bytes());
    key.extend_from_slice(s.as_bytes());
}

/// The `System` template's shape: its literals.
fn system_key(e: &EventRecord, key: &mut Vec<u8>) {
    key.clear();
    key.push(b'S');
    push_str(key, &e.computer);
    match source_name(e) {
        Some(s) => {
            key.push(1);
            push_str(key, s);
        }
        None => key.push(0),
    }
}

/// The `EventData` template's shape: names, arity, declared types, and
/// whether there is a `Binary`; `false` when the event has no `EventData`.
fn data_key(e: &EventRecord, key: &mut Vec<u8>) -> bool {
    key.clear();
    key.push(b'D');
    match &e.data {
        EventData::None => key.push(b'-'),
        EventData::Named(items) => {
            key.push(b'N');
            key.extend_from_slice(&(items.len() as u32).to_le_bytes());
            for (name, v) in items {
                push_str(key, name);
                key.push(v.declared_type());
            }
        }
        EventData::Positional(values) => {
            key.push(b'P');
            key.extend_from_slice(&(values.len() as u32).to_le_bytes());
            key.extend(values.iter().map(Value::declared_type));
        }
    }
    key.push(u8::from(e.binary.is_some()));
    !matches!(e.data, EventData::None) || e.binary.is_some()
}

fn source_name(e: &EventRecord) -> Option<&str> {
    e.event_source_name.as_deref().filter(|s| !s.is_empty())
}

/// A template's GUID, from its key: stable across chunks and files, as
/// Windows keeps one GUID per template.
fn template_guid(key: &[u8]) -> [u8; 16] {
    let mut a: u64 = 0xcbf2_9ce4_8422_2325;
    let mut b: u64 = 0x6c62_272e_07bb_0142;
    for &byte in key {
        a = (a ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
        b = (b ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3).rotate_left(17);
    }
    let mut g = [0u8; 16];
    g[..8].copy_from_slice(&mix64(a).to_le_bytes());
    g[8..].copy_from_slice(&mix64(b ^ a.rotate_left(32)).to_le_bytes());
    g
}

fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The hash Windows keeps with a name and buckets the string table by:
/// `h = h * 65599 + unit` over the UTF-16 code units, low 16 bits.
fn name_hash(name: &str) -> u16 {
    name.encode_utf16().fold(0u32, |h, u| h.wrapping_mul(65599).wrapping_add(u32::from(u))) as u16
}

/// The template table bucket: the same hash over the GUID's eight 16-bit
/// words, modulo 32 (as found in Windows' logs).
fn template_bucket(guid: &[u8; 16]) -> usize {
    let h = guid
        .chunks_exact(2)
        .fold(0u32, |h, w| h.wrapping_mul(65599).wrapping_add(u32::from(u16::from_le_bytes([w[0], w[1]]))));
    (h % 32) as usize
}

/// A fast hasher for the per-chunk tables (keys are ours, not hostile).
#[derive(Default, Clone, Copy)]
struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            let mut a = [0u8; 8];
            a.copy_from_slice(w);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(a)).wrapping_mul(K);
        }
        for &b in words.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }

    fn write_usize(&mut self, n: usize) {
        self.0 = (self.0.rotate_left(5) ^ n as u64).wrapping_mul(0x517c_c1b7_2722_0a95);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

// ------------------------------------------------------------------------------------------
// The chunk being filled
// ------------------------------------------------------------------------------------------

/// A template defined in the chunk.
#[derive(Debug, Clone, Copy)]
struct Template {
    offset: u32,
    guid: [u8; 16],
}

/// An element being written: where its sizes go.
struct Open {
    size_at: usize,
    attrs_at: Option<usize>,
}

/// One chunk, encoded in place. Writes past the end set `overflow` and are
/// dropped; the record is then rolled back and written again in a new chunk.
struct Chunk {
    buf: Box<[u8]>,
    pos: usize,
    overflow: bool,
    records: u64,
    first_id: u64,
    last_id: u64,
    last_record_offset: usize,
    names: FastMap<Box<str>, u32>,
    name_buckets: [u32; 64],
    templates: FastMap<Box<[u8]>, Template>,
    template_buckets: [u32; 32],
    /// The hash tables as they were before the record being written first
    /// changed them.
    saved_buckets: Option<([u32; 64], [u32; 32])>,
}

impl Chunk {
    fn new() -> Chunk {
        Chunk {
            buf: vec![0u8; CHUNK_SIZE].into_boxed_slice(),
            pos: CHUNK_HEADER_SIZE,
            overflow: false,
            records: 0,
            first_id: 0,
            last_id: 0,
            last_record_offset: 0,
            names: FastMap::default(),
            name_buckets: [0; 64],
            templates: FastMap::default(),
            template_buckets: [0; 32],
            saved_buckets: None,
        }
    }

    fn reset(&mut self) {
        self.pos = CHUNK_HEADER_SIZE;
        self.overflow = false;
        self.records = 0;
        self.first_id = 0;
        self.last_id = 0;
        self.last_record_offset = 0;
        self.names.clear();
        self.name_buckets = [0; 64];
        self.templates.clear();
        self.template_buckets = [0; 32];
        self.saved_buckets = None;
    }

    /// Undoes a record that did not fit: the chunk is then sealed as it was
    /// (its name and template maps are stale, and are cleared with it).
    fn roll_back(&mut self, start: usize) {
        self.pos = start;
        self.overflow = false;
        if let Some((names, templates)) = self.saved_buckets.take() {
            self.name_buckets = names;
            self.template_buckets = templates;
        }
    }

    fn commit(&mut self, id: u64, start: usize) {
        if self.records == 0 {
            self.first_id = id;
        }
        self.records += 1;
        self.last_id = id;
        self.last_record_offset = start;
        self.saved_buckets = None;
    }

    /// Fills in the chunk header and zeroes the free space.
    fn seal(&mut self) {
        let free = self.pos;
        self.buf[free..].fill(0);
        let (first, last) = (self.first_id, self.last_id);
        let h = &mut self.buf[..CHUNK_HEADER_SIZE];
        h[0..8].copy_from_slice(b"ElfChnk\0");
        // Record numbers equal record ids in a log that has not wrapped.
        h[8..16].copy_from_slice(&first.to_le_bytes());
        h[16..24].copy_from_slice(&last.to_le_bytes());
        h[24..32].copy_from_slice(&first.to_le_bytes());
        h[32..40].copy_from_slice(&last.to_le_bytes());
        h[40..44].copy_from_slice(&128u32.to_le_bytes());
        h[44..48].copy_from_slice(&(self.last_record_offset as u32).to_le_bytes());
        h[48..52].copy_from_slice(&(free as u32).to_le_bytes());
        h[56..120].fill(0);
        // Windows sets flag 0x1 on every chunk it writes, closed cleanly or not.
        h[120..124].copy_from_slice(&1u32.to_le_bytes());
        for (i, off) in self.name_buckets.iter().enumerate() {
            h[128 + 4 * i..132 + 4 * i].copy_from_slice(&off.to_le_bytes());
        }
        for (i, off) in self.template_buckets.iter().enumerate() {
            h[384 + 4 * i..388 + 4 * i].copy_from_slice(&off.to_le_bytes());
        }
        let data_crc = crc32(&[&self.buf[CHUNK_HEADER_SIZE..free]]);
        self.buf[52..56].copy_from_slice(&data_crc.to_le_bytes());
        let header_crc = crc32(&[&self.buf[..120], &self.buf[128..CHUNK_HEADER_SIZE]]);
        self.buf[124..128].copy_from_slice(&header_crc.to_le_bytes());
    }

    fn save_buckets(&mut self) {
        if self.saved_buckets.is_none() {
            self.saved_buckets = Some((self.name_buckets, self.template_buckets));
        }
    }

    // -- primitives ----------------------------------------------------------------------

    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        let end = self.pos + bytes.len();
        if end <= CHUNK_SIZE {
            self.buf[self.pos..end].copy_from_slice(bytes);
            self.pos = end;
        } else {
            self.overflow = true;
            self.pos = CHUNK_SIZE;
        }
    }

    #[inline]
    fn u8(&mut self, v: u8) {
        self.put(&[v]);
    }

    #[inline]
    fn u16(&mut self, v: u16) {
        self.put(&v.to_le_bytes());
    }

    #[inline]
    fn u32(&mut self, v: u32) {
        self.put(&v.to_le_bytes());
    }

    #[inline]
    fn u64(&mut self, v: u64) {
        self.put(&v.to_le_bytes());
    }

    fn zeros(&mut self, n: usize) {
        let end = self.pos + n;
        if end <= CHUNK_SIZE {
            self.buf[self.pos..end].fill(0);
            self.pos = end;
        } else {
            self.overflow = true;
            self.pos = CHUNK_SIZE;
        }
    }

    fn patch(&mut self, at: usize, bytes: &[u8]) {
        if let Some(dst) = self.buf.get_mut(at..at + bytes.len()) {
            dst.copy_from_slice(bytes);
        }
    }

    /// `s` as UTF-16LE, no terminator; returns the number of code units.
    #[inline]
    fn utf16(&mut self, s: &str) -> usize {
        let start = self.pos;
        // UTF-16 never takes more than twice the UTF-8 bytes.
        if start + 2 * s.len() <= CHUNK_SIZE {
            let mut p = start;
            if s.is_ascii() {
                for (dst, &b) in self.buf[p..p + 2 * s.len()].chunks_exact_mut(2).zip(s.as_bytes()) {
                    dst[0] = b;
                    dst[1] = 0;
                }
                p += 2 * s.len();
            } else {
                for u in s.encode_utf16() {
                    self.buf[p..p + 2].copy_from_slice(&u.to_le_bytes());
                    p += 2;
                }
            }
            self.pos = p;
        } else {
            for u in s.encode_utf16() {
                self.u16(u);
            }
        }
        (self.pos - start) / 2
    }

    // -- BinXML --------------------------------------------------------------------------

    /// A name reference: the offset of the name in the string table, stored
    /// right here on its first use in the chunk.
    fn name(&mut self, name: &str) {
        if let Some(&off) = self.names.get(name) {
            self.u32(off);
            return;
        }
        self.save_buckets();
        let off = (self.pos + 4) as u32;
        self.u32(off);
        let hash = name_hash(name);
        let bucket = usize::from(hash % 64);
        self.u32(self.name_buckets[bucket]);
        self.u16(hash);
        self.u16(name.encode_utf16().count() as u16);
        self.utf16(name);
        self.u16(0);
        if !self.overflow {
            self.name_buckets[bucket] = off;
            self.names.insert(name.into(), off);
        }
    }

    fn open(&mut self, name: &str, dependency: u16, attributes: bool) -> Open {
        self.u8(if attributes { token::OPEN_START_ATTRS } else { token::OPEN_START });
        self.u16(dependency);
        let size_at = self.pos;
        self.u32(0);
        self.name(name);
        let attrs_at = attributes.then(|| {
            let at = self.pos;
            self.u32(0);
            at
        });
        Open { size_at, attrs_at }
    }

    fn attribute(&mut self, name: &str, more: bool) {
        self.u8(if more { token::ATTRIBUTE_MORE } else { token::ATTRIBUTE });
        self.name(name);
    }

    fn end_attributes(&mut self, e: &Open) {
        if let Some(at) = e.attrs_at {
            let len = self.pos.saturating_sub(at + 4) as u32;
            self.patch(at, &len.to_le_bytes());
        }
    }

    fn end_size(&mut self, e: &Open) {
        let len = self.pos.saturating_sub(e.size_at + 4) as u32;
        self.patch(e.size_at, &len.to_le_bytes());
    }

    fn close_start(&mut self, e: &Open) {
        self.end_attributes(e);
        self.u8(token::CLOSE_START);
    }

    fn close_empty(&mut self, e: &Open) {
        self.end_attributes(e);
        self.u8(token::CLOSE_EMPTY);
        self.end_size(e);
    }

    fn end(&mut self, e: &Open) {
        self.u8(token::END_ELEMENT);
        self.end_size(e);
    }

    fn literal(&mut self, s: &str) {
        self.u8(token::VALUE);
        self.u8(ty::STRING);
        self.u16(s.encode_utf16().count() as u16);
        self.utf16(s);
    }

    fn substitution(&mut self, id: u16, value_type: u8, optional: bool) {
        self.u8(if optional { token::OPTIONAL_SUBSTITUTION } else { token::SUBSTITUTION });
        self.u16(id);
        self.u8(value_type);
    }

    /// `<name>%id</name>`, left out when value `id` is NULL.
    fn leaf(&mut self, name: &str, id: u16, value_type: u8) {
        let e = self.open(name, id, false);
        self.close_start(&e);
        self.substitution(id, value_type, true);
        self.end(&e);
    }

    /// A template instance token for `key`: a reference to its definition,
    /// or on its first use in the chunk the definition itself.
    fn instance(&mut self, key: &[u8], define: impl FnOnce(&mut Chunk)) {
        self.u8(token::TEMPLATE_INSTANCE);
        self.u8(0x01);
        if let Some(t) = self.templates.get(key).copied() {
            self.put(&t.guid[..4]);
            self.u32(t.offset);
            return;
        }
        self.save_buckets();
        let guid = template_guid(key);
        self.put(&guid[..4]);
        let offset = (self.pos + 4) as u32;
        self.u32(offset);
        let bucket = template_bucket(&guid);
        self.u32(self.template_buckets[bucket]);
        self.put(&guid);
        let size_at = self.pos;
        self.u32(0);
        let body = self.pos;
        define(self);
        let len = (self.pos - body) as u32;
        self.patch(size_at, &len.to_le_bytes());
        if !self.overflow {
            self.template_buckets[bucket] = offset;
            self.templates.insert(key.into(), Template { offset, guid });
        }
    }

    /// Starts `n` substitution values: the count and room for their descriptors.
    fn values(&mut self, n: usize) -> usize {
        self.u32(n as u32);
        let at = self.pos;
        self.zeros(4 * n);
        at
    }

    /// Fills in descriptor `i` for the value written since `start`.
    fn described(&mut self, descriptors: usize, i: usize, start: usize, value_type: u8) {
        let size = (self.pos - start) as u16;
        let at = descriptors + 4 * i;
        let [lo, hi] = size.to_le_bytes();
        self.patch(at, &[lo, hi, value_type, 0]);
    }

    fn value(&mut self, v: &Value) -> u8 {
        match v {
            Value::Null => {}
            Value::Str(s) => {
                self.utf16(s);
            }
            Value::U8(x) => self.u8(*x),
            Value::U16(x) => self.u16(*x),
            Value::U32(x) | Value::Hex32(x) => self.u32(*x),
            Value::U64(x) | Value::Hex64(x) | Value::FileTime(x) => self.u64(*x),
            Value::Guid(g) => self.put(&parse_guid(g).unwrap_or_default()),
            Value::Sid(s) => self.put(parse_sid(s).unwrap_or_default().as_bytes()),
            Value::Binary(b) => self.put(b),
        }
        v.type_code()
    }

    /// Writes a fixed-size value as substitution `i`.
    fn fixed(&mut self, descriptors: usize, i: usize, value_type: u8, bytes: &[u8]) {
        let start = self.pos;
        self.put(bytes);
        self.described(descriptors, i, start, value_type);
    }

    // -- records -------------------------------------------------------------------------

    fn record(&mut self, e: &EventRecord, id: u64, p: &Parsed, system_key: &[u8], data_key: Option<&[u8]>) {
        let start = self.pos;
        self.put(b"**\0\0");
        self.u32(0);
        self.u64(id);
        self.u64(e.time_created);
        self.put(&FRAGMENT_HEADER);
        self.instance(system_key, |c| c.system_template(e));
        let d = self.values(18);
        self.fixed(d, 0, ty::U8, &[e.level]);
        self.fixed(d, 1, ty::U8, &[e.opcode]);
        self.fixed(d, 2, ty::U16, &e.task.to_le_bytes());
        self.fixed(d, 3, ty::U16, &e.event_id.to_le_bytes());
        match e.qualifiers {
            Some(q) => self.fixed(d, 4, ty::U16, &q.to_le_bytes()),
            None => self.fixed(d, 4, ty::NULL, &[]),
        }
        self.fixed(d, 5, ty::HEX64, &e.keywords.to_le_bytes());
        self.fixed(d, 6, ty::FILETIME, &e.time_created.to_le_bytes());
        match &p.activity_id {
            Some(g) => self.fixed(d, 7, ty::GUID, g),
            None => self.fixed(d, 7, ty::NULL, &[]),
        }
        self.fixed(d, 8, ty::U32, &e.process_id.to_le_bytes());
        self.fixed(d, 9, ty::U32, &e.thread_id.to_le_bytes());
        self.fixed(d, 10, ty::U64, &id.to_le_bytes());
        self.fixed(d, 11, ty::U8, &[e.version]);
        match &p.user_sid {
            Some(sid) => self.fixed(d, 12, ty::SID, sid.as_bytes()),
            None => self.fixed(d, 12, ty::NULL, &[]),
        }
        self.fixed(d, 13, ty::NULL, &[]);
        let s = self.pos;
        self.utf16(&e.provider);
        self.described(d, 14, s, ty::STRING);
        match &p.provider_guid {
            Some(g) => self.fixed(d, 15, ty::GUID, g),
            None => self.fixed(d, 15, ty::NULL, &[]),
        }
        let s = self.pos;
        self.utf16(&e.channel);
        self.described(d, 16, s, ty::STRING);
        let s = self.pos;
        match data_key {
            Some(key) => {
                self.event_data(e, key);
                self.described(d, 17, s, ty::BINXML);
            }
            None => self.described(d, 17, s, ty::NULL),
        }
        self.u8(token::EOF);
        // Records are 8-byte aligned: zeros, then the size again.
        let unpadded = self.pos + 4 - start;
        let size = unpadded.next_multiple_of(8);
        self.zeros(size - unpadded);
        self.u32(size as u32);
        self.patch(start + 4, &(size as u32).to_le_bytes());
    }

    /// The `System` template (and the `EventData` substitution after it).
    fn system_template(&mut self, e: &EventRecord) {
        self.put(&FRAGMENT_HEADER);
        let event = self.open("Event", 17, true);
        self.attribute("xmlns", false);
        self.literal(EVENT_NS);
        self.close_start(&event);
        let system = self.open("System", NO_DEP, false);
        self.close_start(&system);

        let source = source_name(e);
        let provider = self.open("Provider", NO_DEP, true);
        self.attribute("Name", true);
        self.substitution(14, ty::STRING, true);
        self.attribute("Guid", source.is_some());
        self.substitution(15, ty::GUID, true);
        if let Some(s) = source {
            self.attribute("EventSourceName", false);
            self.literal(s);
        }
        self.close_empty(&provider);

        let event_id = self.open("EventID", 3, true);
        self.attribute("Qualifiers", false);
        self.substitution(4, ty::U16, true);
        self.close_start(&event_id);
        self.substitution(3, ty::U16, true);
        self.end(&event_id);

        self.leaf("Version", 11, ty::U8);
        self.leaf("Level", 0, ty::U8);
        self.leaf("Task", 2, ty::U16);
        self.leaf("Opcode", 1, ty::U8);
        self.leaf("Keywords", 5, ty::HEX64);

        let time = self.open("TimeCreated", NO_DEP, true);
        self.attribute("SystemTime", false);
        self.substitution(6, ty::FILETIME, true);
        self.close_empty(&time);

        self.leaf("EventRecordID", 10, ty::U64);

        let correlation = self.open("Correlation", NO_DEP, true);
        self.attribute("ActivityID", true);
        self.substitution(7, ty::GUID, true);
        self.attribute("RelatedActivityID", false);
        self.substitution(13, ty::GUID, true);
        self.close_empty(&correlation);

        let execution = self.open("Execution", NO_DEP, true);
        self.attribute("ProcessID", true);
        self.substitution(8, ty::U32, true);
        self.attribute("ThreadID", false);
        self.substitution(9, ty::U32, true);
        self.close_empty(&execution);

        self.leaf("Channel", 16, ty::STRING);

        let computer = self.open("Computer", NO_DEP, false);
        self.close_start(&computer);
        if !e.computer.is_empty() {
            self.literal(&e.computer);
        }
        self.end(&computer);

        let security = self.open("Security", NO_DEP, true);
        self.attribute("UserID", false);
        self.substitution(12, ty::SID, true);
        self.close_empty(&security);

        self.end(&system);
        self.substitution(17, ty::BINXML, true);
        self.end(&event);
        self.u8(token::EOF);
    }

    /// The `EventData` fragment: an instance of its template and the values.
    fn event_data(&mut self, e: &EventRecord, key: &[u8]) {
        self.put(&FRAGMENT_HEADER);
        self.instance(key, |c| c.data_template(e));
        let n = match &e.data {
            EventData::None => 0,
            EventData::Named(items) => items.len(),
            EventData::Positional(values) => values.len(),
        };
        let d = self.values(n + usize::from(e.binary.is_some()));
        let write = |c: &mut Chunk, i: usize, v: &Value| {
            let s = c.pos;
            let value_type = c.value(v);
            c.described(d, i, s, value_type);
        };
        match &e.data {
            EventData::None => {}
            EventData::Named(items) => {
                for (i, (_, v)) in items.iter().enumerate() {
                    write(self, i, v);
                }
            }
            EventData::Positional(values) => {
                for (i, v) in values.iter().enumerate() {
                    write(self, i, v);
                }
            }
        }
        if let Some(b) = &e.binary {
            self.fixed(d, n, ty::BINARY, b);
        }
        self.u8(token::EOF);
    }

    fn data_template(&mut self, e: &EventRecord) {
        self.put(&FRAGMENT_HEADER);
        let event_data = self.open("EventData", NO_DEP, false);
        self.close_start(&event_data);
        let mut n = 0u16;
        match &e.data {
            EventData::None => {}
            EventData::Named(items) => {
                for (name, v) in items {
                    let data = self.open("Data", NO_DEP, true);
                    self.attribute("Name", false);
                    self.literal(name);
                    self.close_start(&data);
                    self.substitution(n, v.declared_type(), false);
                    self.end(&data);
                    n += 1;
                }
            }
            EventData::Positional(values) => {
                for v in values {
                    let data = self.open("Data", NO_DEP, false);
                    self.close_start(&data);
                    self.substitution(n, v.declared_type(), false);
                    self.end(&data);
                    n += 1;
                }
            }
        }
        if e.binary.is_some() {
            let binary = self.open("Binary", n, false);
            self.close_start(&binary);
            self.substitution(n, ty::BINARY, true);
            self.end(&binary);
        }
        self.end(&event_data);
        self.u8(token::EOF);
    }
}

// ------------------------------------------------------------------------------------------
// CRC32 (IEEE), slicing by 8
// ------------------------------------------------------------------------------------------

const CRC_TABLES: [[u32; 256]; 8] = crc_tables();

const fn crc_tables() -> [[u32; 256]; 8] {
    let mut t = [[0u32; 256]; 8];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 { 0xedb8_8320 ^ (c >> 1) } else { c >> 1 };
            k += 1;
        }
        t[0][i] = c;
        i += 1;
    }
    let mut s = 1;
    while s < 8 {
        let mut i = 0;
        while i < 256 {
            let prev = t[s - 1][i];
            t[s][i] = (prev >> 8) ^ t[0][(prev & 0xff) as usize];
            i += 1;
        }
        s += 1;
    }
    t
}

/// CRC32 (IEEE 802.3, as zlib) of the concatenated parts.
fn crc32(parts: &[&[u8]]) -> u32 {
    let t = &CRC_TABLES;
    let mut crc = !0u32;
    for part in parts {
        let mut words = part.chunks_exact(8);
        for w in &mut words {
            let lo = crc ^ u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
            let hi = u32::from_le_bytes([w[4], w[5], w[6], w[7]]);
            crc = t[7][(lo & 0xff) as usize]
                ^ t[6][((lo >> 8) & 0xff) as usize]
                ^ t[5][((lo >> 16) & 0xff) as usize]
                ^ t[4][(lo >> 24) as usize]
                ^ t[3][(hi & 0xff) as usize]
                ^ t[2][((hi >> 8) & 0xff) as usize]
                ^ t[1][((hi >> 16) & 0xff) as usize]
                ^ t[0][(hi >> 24) as usize];
        }
        for &b in words.remainder() {
            crc = (crc >> 8) ^ t[0][((crc ^ u32::from(b)) & 0xff) as usize];
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn crc32_matches_the_check_value() {
        assert_eq!(crc32(&[b"123456789"]), 0xcbf4_3926);
        assert_eq!(crc32(&[b"1234", b"56789"]), 0xcbf4_3926);
        assert_eq!(crc32(&[b""]), 0);
        let long: Vec<u8> = (0..1000u32).map(|i| (i * 7) as u8).collect();
        let bytewise =
            long.iter().fold(!0u32, |c, &b| (c >> 8) ^ CRC_TABLES[0][((c ^ u32::from(b)) & 0xff) as usize]);
        assert_eq!(crc32(&[&long]), !bytewise);
    }

    #[test]
    fn name_hashes_and_buckets_are_windows_ones() {
        // From the string and template tables of logs Windows wrote.
        assert_eq!(name_hash("Event"), 0x0cba);
        assert_eq!(name_hash("Computer"), 0x6e3b);
        assert_eq!(name_hash("Data"), 0x6f8a);
        assert_eq!(name_hash("EventData"), 0x8244);
        let guid =
            [0x01, 0x46, 0xd3, 0xec, 0x25, 0x02, 0x67, 0x3e, 0xb6, 0x39, 0xd7, 0x7b, 0x70, 0x28, 0x1c, 0xe9];
        assert_eq!(template_bucket(&guid), 1);
        let guid =
            [0xdd, 0x26, 0xce, 0xee, 0xcb, 0x7c, 0xd6, 0x0d, 0x8e, 0x03, 0x70, 0x1a, 0x29, 0xb7, 0x63, 0xee];
        assert_eq!(template_bucket(&guid), 24);
    }

    #[test]
    fn guids_and_sids_parse_to_their_stored_form() {
        let g = parse_guid("{524B5D04-133C-4A62-8362-64E8EDB9CE40}").expect("guid");
        assert_eq!(
            g,
            [0x04, 0x5d, 0x4b, 0x52, 0x3c, 0x13, 0x62, 0x4a, 0x83, 0x62, 0x64, 0xe8, 0xed, 0xb9, 0xce, 0x40]
        );
        assert_eq!(parse_guid("524b5d04-133c-4a62-8362-64e8edb9ce40").expect("bare"), g);
        for bad in
            ["", "{524B5D04-133C-4A62-8362-64E8EDB9CE4}", "{524B5D04-133C-4A62-8362-64E8EDB9CE4G}", "x"]
        {
            assert!(parse_guid(bad).is_err(), "{bad}");
        }
        let sid = parse_sid("S-1-5-18").expect("sid");
        assert_eq!(sid.as_bytes(), [1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0]);
        let sid = parse_sid("S-1-5-21-3623811015-3361044348-30300820-1013").expect("sid");
        assert_eq!(sid.as_bytes().len(), 8 + 4 * 5);
        assert_eq!(parse_sid("S-1-0x1000-1").expect("hex authority").as_bytes()[2..8], [0, 0, 0, 0, 0x10, 0]);
        for bad in ["", "S-1", "S-x-5", "S-1-5-a", "1-5-18", "S-1-281474976710656"] {
            assert!(parse_sid(bad).is_err(), "{bad}");
        }
    }

    fn event(i: u32) -> EventRecord {
        EventRecord {
            provider: "Microsoft-Windows-WAS".into(),
            provider_guid: Some("{524B5D04-133C-4A62-8362-64E8EDB9CE40}".into()),
            event_source_name: Some("WAS".into()),
            event_id: 5002,
            qualifiers: Some(49152),
            level: 2,
            keywords: 0x80000000000000,
            time_created: 133_000_000_000_000_000 + u64::from(i) * 10_000_000,
            process_id: 1234,
            thread_id: 5678,
            channel: "System".into(),
            computer: "WEB01".into(),
            data: EventData::Named(vec![("AppPoolID".into(), Value::Str(format!("Pool{i}")))]),
            ..EventRecord::default()
        }
    }

    fn u32_at(b: &[u8], at: usize) -> u32 {
        u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
    }

    #[test]
    fn chunks_fill_up_and_headers_check_out() {
        let mut w = EvtxWriter::new(Cursor::new(Vec::new())).expect("new");
        for i in 0..2000 {
            w.append(&event(i)).expect("append");
        }
        assert_eq!(w.records(), 2000);
        let bytes = w.finish().expect("finish").into_inner();
        assert_eq!((bytes.len() - FILE_HEADER_SIZE) % CHUNK_SIZE, 0);
        let chunks = (bytes.len() - FILE_HEADER_SIZE) / CHUNK_SIZE;
        assert!(chunks > 2, "{chunks} chunks");
        assert_eq!(&bytes[..8], b"ElfFile\0");
        assert_eq!(u32_at(&bytes, 124), crc32(&[&bytes[..120]]));
        assert_eq!(u32_at(&bytes, 120), 0, "closed cleanly");
        assert_eq!(u64::from(u32_at(&bytes, 24)), 2001, "next record id");
        assert_eq!(usize::from(u16::from_le_bytes([bytes[42], bytes[43]])), chunks);
        let mut next_id = 1u64;
        for n in 0..chunks {
            let c = &bytes[FILE_HEADER_SIZE + n * CHUNK_SIZE..][..CHUNK_SIZE];
            assert_eq!(&c[..8], b"ElfChnk\0");
            let free = u32_at(c, 48) as usize;
            assert_eq!(u32_at(c, 52), crc32(&[&c[512..free]]));
            assert_eq!(u32_at(c, 124), crc32(&[&c[..120], &c[128..512]]));
            assert!(c[free..].iter().all(|&b| b == 0), "free space is zeros");
            // Walk the records: 8-byte aligned, size copies, ids in sequence.
            let mut at = 512;
            while at < free {
                assert_eq!(&c[at..at + 4], b"**\0\0");
                let size = u32_at(c, at + 4) as usize;
                assert_eq!(size % 8, 0);
                assert_eq!(u32_at(c, at + size - 4) as usize, size);
                assert_eq!(u64::from(u32_at(c, at + 8)), next_id);
                next_id += 1;
                if at + size == free {
                    assert_eq!(u32_at(c, 44) as usize, at, "last record offset");
                }
                at += size;
            }
            assert_eq!(at, free);
        }
        assert_eq!(next_id, 2001);
    }

    #[test]
    fn too_large_events_are_refused_and_the_writer_goes_on() {
        let mut w = EvtxWriter::new(Cursor::new(Vec::new())).expect("new");
        w.append(&event(0)).expect("append");
        let mut huge = event(1);
        huge.data = EventData::Positional(vec![Value::Binary(vec![7; 70_000])]);
        assert_eq!(w.append(&huge).map_err(|e| e.kind()), Err(io::ErrorKind::InvalidInput));
        let mut bad = event(1);
        bad.user_sid = Some("S-1-five".into());
        assert_eq!(w.append(&bad).map_err(|e| e.kind()), Err(io::ErrorKind::InvalidInput));
        w.append(&event(1)).expect("append");
        assert_eq!(w.records(), 2);
        // The first chunk was closed to try the huge event in a chunk of its own.
        let bytes = w.finish().expect("finish").into_inner();
        assert_eq!(bytes.len(), FILE_HEADER_SIZE + 2 * CHUNK_SIZE);
    }

    #[test]
    fn an_empty_log_is_a_header() {
        let w = EvtxWriter::new(Cursor::new(Vec::new())).expect("new");
        assert!(w.is_empty());
        let bytes = w.finish().expect("finish").into_inner();
        assert_eq!(bytes.len(), FILE_HEADER_SIZE);
        assert_eq!(u32_at(&bytes, 124), crc32(&[&bytes[..120]]));
    }
}
