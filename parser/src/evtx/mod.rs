//! Windows event logs (EVTX), read with the `evtx` crate chunk by chunk in
//! parallel on the shared thread pool, straight from the mapped file.
//!
//! Each record's provider, event id, time and channel are read from its
//! top-level template first; only records in the IIS catalogue (or every
//! record with `all_events`) are extracted in full, and none is rendered to
//! XML or JSON. Corrupt chunks and records cost only themselves, and checksum
//! mismatches are reported while the data is still read.

mod extract;
mod records;

use std::sync::Arc;

use evtx::{ChunkFlags, EvtxChunk, EvtxChunkHeader, EvtxFileHeader, HeaderFlags, ParserSettings};
use rayon::prelude::*;

use crate::diagnostic::{Diagnostic, Location, Severity};
use crate::framing::Paging;
use crate::intern::{Interner, Name};
use crate::time::{Timestamp, filetime, parse_rfc3339};
use crate::winevent::{
    CountedEvents, DataValue, EventOrigin, RecordId, TimeSource, WinEvent, deliver_sorted, is_relevant,
    keep_extracted,
};
use crate::{Input, RecordSink};
use extract::{
    EventFields, Peek, TemplateCache, chunk_header_crc, error_chain, extract_record, peek_raw, peek_system,
};

/// Size of the file header block.
pub const FILE_HEADER_SIZE: usize = 4096;
/// Size of one chunk.
pub const CHUNK_SIZE: usize = 65536;
/// Size of a chunk's header, before its records.
const CHUNK_HEADER_SIZE: usize = 512;
/// How a chunk begins.
pub const CHUNK_MAGIC: &[u8; 8] = b"ElfChnk\0";

/// A chunk's records of one kind outside the catalogue: how many, and the
/// span of their times.
#[derive(Debug, Clone)]
struct Counted {
    channel: Option<Arc<str>>,
    computer: Option<Arc<str>>,
    provider: Arc<str>,
    event_id: u16,
    records: u64,
    span: Option<(Timestamp, Timestamp)>,
}

/// A chunk's counted records grouped by kind, in order of first appearance.
/// Grouping on the worker leaves the thread that feeds the sink one call
/// per kind and chunk instead of one per record: that serial share was a
/// fifth of a scan's time. Kinds are held by interned names, so a record
/// costs one small-key lookup and no reference-count traffic.
#[derive(Debug, Default)]
struct CountedKinds {
    kinds: Vec<(KindKey, Tally)>,
    index: hashbrown::HashMap<KindKey, usize>,
    /// How many were counted with no time, and the first of them.
    untimed: (usize, Option<u64>),
}

/// How many records, and the earliest and latest time among them.
type Tally = (u64, Option<(Timestamp, Timestamp)>);

/// Channel, computer, provider, event id.
type KindKey = (Option<Name>, Option<Name>, Name, u16);

impl CountedKinds {
    /// Counts record `id` of `key` at `time`.
    fn add(&mut self, key: KindKey, time: Option<Timestamp>, id: u64) {
        // A chunk holds a few kinds as a rule: comparing with each beats
        // hashing; the map serves chunks with many.
        const SCANNED: usize = 16;
        let kinds = &mut self.kinds;
        let at = match kinds.iter().take(SCANNED).position(|(k, _)| *k == key) {
            Some(at) => at,
            None if kinds.len() < SCANNED => {
                kinds.push((key, (0, None)));
                kinds.len() - 1
            }
            None => *self.index.entry(key).or_insert_with(|| {
                kinds.push((key, (0, None)));
                kinds.len() - 1
            }),
        };
        let (_, (records, span)) = &mut kinds[at];
        *records += 1;
        match time {
            Some(t) => *span = Some(span.map_or((t, t), |(first, last)| (first.min(t), last.max(t)))),
            None => {
                self.untimed.0 += 1;
                self.untimed.1.get_or_insert(id);
            }
        }
    }

    fn into_counted(self, interner: &Interner) -> Vec<Counted> {
        let text = |n: Option<Name>| n.map(|n| Arc::clone(interner.text(n)));
        self.kinds
            .into_iter()
            .map(|((channel, computer, provider, event_id), (records, span))| Counted {
                channel: text(channel),
                computer: text(computer),
                provider: Arc::clone(interner.text(provider)),
                event_id,
                records,
                span,
            })
            .collect()
    }
}

#[derive(Debug, Default)]
struct ChunkResult {
    kept: Vec<WinEvent>,
    counted: Vec<Counted>,
    diagnostics: Vec<Diagnostic>,
    /// The chunk holds only zeros.
    zeroed: bool,
}

fn offset_diag(offset: usize, severity: Severity, message: String) -> Diagnostic {
    Diagnostic { location: Location::Offset(offset as u64), severity, message, lost: false }
}

/// Chunks per sink when a log is read for the pipeline: a large log is read
/// as stretches of this many chunks (16 MiB), each handed to a sink of its
/// own as soon as it is parsed. Its events are then never all held at once
/// (a hunt kept a whole log's events to the end, about the file's size),
/// and the sinks' work runs on every core instead of one thread after the
/// parse. A count fixed by the file, not by the pool, keeps the output the
/// same whatever the number of threads.
pub const CHUNKS_PER_SINK: usize = 256;

/// Reads an EVTX file for the pipeline: one sink per stretch of
/// [`CHUNKS_PER_SINK`] chunks, in file order, each given that stretch's
/// catalogue events in full, sorted by time, and the others as counts; the
/// file's own diagnostics go to the first.
pub fn read<S>(input: &Input<'_>, new_sink: &(dyn Fn() -> S + Sync)) -> Result<Vec<S>, S::Error>
where
    S: RecordSink + Send,
    S::Error: Send,
{
    let data = input.data;
    let mut first = new_sink();
    let extract_data = first.needs_event_data();
    let mut diagnostics = Vec::new();
    let Some(layout) = layout(data, &mut diagnostics) else {
        for d in diagnostics {
            first.diagnostic(d);
        }
        first.chunk_done()?;
        (input.progress)(data.len() as u64);
        return Ok(vec![first]);
    };
    let stretches = stretches(layout.count);
    let survey = Survey::of(data, input.pages, layout);
    let mut sinks = Vec::with_capacity(stretches.len().max(1));
    sinks.push(first);
    sinks.extend((1..stretches.len()).map(|_| new_sink()));
    let all_events = input.config.all_events;
    // The header and a partial chunk at the end count as read now.
    (input.progress)((data.len() - layout.count * CHUNK_SIZE) as u64);
    let mut file_diagnostics = Some(diagnostics);
    let work: Vec<_> = sinks
        .into_iter()
        .zip(stretches)
        .map(|(sink, stretch)| (sink, stretch, file_diagnostics.take().unwrap_or_default()))
        .collect();
    let done: Vec<Result<S, S::Error>> = work
        .into_par_iter()
        .map(|(mut sink, stretch, mut diagnostics)| {
            let bytes = (stretch.len() * CHUNK_SIZE) as u64;
            let read = read_stretch(data, input.pages, &survey, stretch, all_events, extract_data);
            hand_counted(&read.counted, &mut sink)?;
            deliver_kept(read.kept, &mut sink)?;
            diagnostics.extend(read.diagnostics);
            for d in diagnostics {
                sink.diagnostic(d);
            }
            sink.chunk_done()?;
            (input.progress)(bytes);
            Ok(sink)
        })
        .collect();
    done.into_iter().collect()
}

/// Reads an EVTX file and hands its events to `sink`: the catalogue's in
/// full, sorted by time, and the others as counts, in file order. Stops
/// when the sink does.
pub fn parse_evtx<S: RecordSink>(
    data: &[u8],
    pages: &dyn Paging,
    all_events: bool,
    sink: &mut S,
) -> Result<(), S::Error> {
    let extract_data = sink.needs_event_data();
    let mut diagnostics = Vec::new();
    if let Some(layout) = layout(data, &mut diagnostics) {
        // Kept events stay in their chunks' vectors, each sorted, until the
        // end (see `deliver_kept`).
        let mut kept: Vec<Vec<WinEvent>> = Vec::new();
        let survey = Survey::of(data, pages, layout);
        for stretch in stretches(layout.count) {
            let read = read_stretch(data, pages, &survey, stretch, all_events, extract_data);
            hand_counted(&read.counted, sink)?;
            kept.extend(read.kept);
            diagnostics.extend(read.diagnostics);
        }
        deliver_kept(kept, sink)?;
    }
    for d in diagnostics {
        sink.diagnostic(d);
    }
    Ok(())
}

/// Where a file's chunks lie.
#[derive(Debug, Clone, Copy)]
struct Layout {
    /// Where the first chunk begins: after the file header, or at the
    /// start of carved chunks that have none.
    base: usize,
    /// How many whole chunks follow.
    count: usize,
}

impl Layout {
    /// Where chunk `i` begins.
    fn start(self, i: usize) -> usize {
        self.base + i * CHUNK_SIZE
    }
}

/// Checks the file header and returns where the whole chunks lie, or
/// `None` when the file is too short to hold a header; what is wrong goes
/// to `diagnostics`. Chunks carved without their file header (each chunk
/// holds its own strings and templates) are read from the file's start.
fn layout(data: &[u8], diagnostics: &mut Vec<Diagnostic>) -> Option<Layout> {
    if data.starts_with(CHUNK_MAGIC) {
        diagnostics.push(Diagnostic::file(
            Severity::Info,
            "no file header: chunks carved without it, read from the start of the file (each holds its own \
             strings and templates)",
        ));
        return Some(Layout { base: 0, count: data.len() / CHUNK_SIZE });
    }
    if data.len() < FILE_HEADER_SIZE {
        diagnostics.push(Diagnostic::file(
            Severity::Error,
            format!("EVTX file cut short: {} bytes, no complete header", data.len()),
        ));
        return None;
    }
    match EvtxFileHeader::from_bytes(&data[..FILE_HEADER_SIZE]) {
        Ok(h) => {
            if h.flags.contains(HeaderFlags::DIRTY) {
                diagnostics.push(Diagnostic::file(
                    Severity::Info,
                    "the log was not closed cleanly (dirty): header counts may be stale; every chunk is read",
                ));
            }
            if !h.flags.contains(HeaderFlags::NO_CRC32) && !h.validate_checksum() {
                diagnostics.push(Diagnostic::file(
                    Severity::Warning,
                    "file header CRC32 mismatch (header ignored; chunks read)",
                ));
            } else {
                // A copy cut at a chunk's edge reads as a whole file: only the
                // header's count of chunks in use says what is missing.
                let whole = (data.len() - FILE_HEADER_SIZE) / CHUNK_SIZE;
                let partial = usize::from(!(data.len() - FILE_HEADER_SIZE).is_multiple_of(CHUNK_SIZE));
                let counted = usize::from(h.chunk_count);
                let lost = counted.saturating_sub(whole + partial);
                if lost > 0 {
                    diagnostics.push(Diagnostic::file(
                        Severity::Warning,
                        format!(
                            "the file header counts {counted} chunks in use and the file holds {whole}{}: the copy ends \
                             early, and the records of the last {lost} chunk{} are lost (the header's next record id is {})",
                            if partial == 1 { " whole and part of one more" } else { "" },
                            if lost == 1 { "" } else { "s" },
                            h.next_record_id
                        ),
                    )
                    .losing());
                }
            }
        }
        Err(e) => diagnostics.push(Diagnostic::file(
            Severity::Warning,
            format!("unreadable file header ({e}); chunks read anyway"),
        )),
    }
    Some(Layout { base: FILE_HEADER_SIZE, count: (data.len() - FILE_HEADER_SIZE) / CHUNK_SIZE })
}

/// The chunk a copy cut short ends inside, after the layout's whole
/// chunks: read as far as the copy goes (its string and template tables come
/// first, so its records before the cut read as any other's), with one
/// warning saying how many there were. A tail that is not a chunk's start
/// is only reported.
fn read_partial(data: &[u8], layout: Layout, all_events: bool, extract_data: bool) -> Option<ChunkResult> {
    let chunks = layout.count;
    let start = layout.start(chunks);
    let tail = data.get(start..).filter(|t| !t.is_empty())?;
    let mut out = ChunkResult::default();
    if tail.starts_with(CHUNK_MAGIC) && tail.len() < CHUNK_HEADER_SIZE {
        out.diagnostics.push(offset_diag(
            start,
            Severity::Warning,
            format!(
                "the file ends {} bytes into chunk {chunks} (copy cut short), inside its header: none of its records read",
                tail.len()
            ),
        )
        .losing());
        return Some(out);
    }
    if tail.len() < CHUNK_HEADER_SIZE || !tail.starts_with(CHUNK_MAGIC) {
        out.diagnostics.push(offset_diag(
            start,
            Severity::Warning,
            format!(
                "the file ends with {} bytes of a partial chunk (copy cut short) that do not begin as a chunk does; they are not read",
                tail.len()
            ),
        )
        .losing());
        return Some(out);
    }
    let mut whole = vec![0u8; CHUNK_SIZE];
    whole[..tail.len()].copy_from_slice(tail);
    // A record the cut runs through is not read (or counted) from the zeros
    // after the cut: it is blank space as the chunk's readers see it.
    if let Some(at) = records::first_cut(&whole, tail.len()) {
        whole[at..].fill(0);
    }
    let settings = Arc::new(ParserSettings::new().num_threads(1));
    out = read_chunk(&whole, chunks, start, &settings, all_events, extract_data, &mut Interner::default());
    let records = out.kept.len() as u64 + out.counted.iter().map(|c| c.records).sum::<u64>();
    // Its checksums cannot match and its last record is cut: what the
    // chunk's reader said of it is this one fact.
    out.diagnostics = vec![offset_diag(
        start,
        Severity::Warning,
        format!(
            "the file ends {} bytes into chunk {chunks} (copy cut short): {records} record{} before the cut read, the rest of the chunk lost",
            tail.len(),
            if records == 1 { "" } else { "s" }
        ),
    )
    .losing()];
    Some(out)
}

/// The last of the file's `chunks` that begins as a chunk does.
fn last_used_chunk(data: &[u8], layout: Layout) -> Option<usize> {
    (0..layout.count).rev().find(|&i| {
        let start = layout.start(i);
        data.get(start..start + 8) == Some(CHUNK_MAGIC.as_slice())
    })
}

/// What the chunks' headers say before they are read.
#[derive(Debug)]
struct Survey {
    layout: Layout,
    /// The last chunk that begins as a chunk does.
    last_used: Option<usize>,
    /// Per chunk, the earlier one it repeats.
    repeats: Vec<Option<Repeat>>,
}

impl Survey {
    fn of(data: &[u8], pages: &dyn Paging, layout: Layout) -> Self {
        Survey {
            layout,
            last_used: last_used_chunk(data, layout),
            repeats: repeated_chunks(data, pages, layout),
        }
    }
}

/// A chunk that repeats an earlier one of its file byte for byte.
#[derive(Debug, Clone, Copy)]
struct Repeat {
    /// The earlier chunk.
    of: usize,
    /// The first and last record ids it holds.
    records: (u64, u64),
}

/// For each of the file's `chunks`, the earlier chunk it repeats byte for
/// byte. A log never writes a chunk twice (its record ids only grow), but a
/// copy can: a carving tool or two pieces of one export joined would give
/// each of those records twice, as two of each crash or logon. Chunks are
/// matched by their headers' record numbers, ids, offsets and checksums,
/// then compared whole; only chunks that hold records count.
fn repeated_chunks(data: &[u8], pages: &dyn Paging, layout: Layout) -> Vec<Option<Repeat>> {
    /// The header's record numbers and ids, offsets and records' checksum.
    const KEY: std::ops::Range<usize> = 8..56;
    /// Earlier chunks of one header a chunk is compared with: a file made
    /// of chunks with one header and different data would otherwise cost a
    /// whole comparison per pair of them.
    const COMPARED: usize = 4;
    let chunk = |i: usize| data.get(layout.start(i)..layout.start(i + 1));
    let holds_records =
        |b: &[u8]| records::u32_at(b, 48).is_some_and(|free| free as usize > CHUNK_HEADER_SIZE);
    // Keys are copied out of the mapping: a map that grows hashes its keys
    // again, and keys left in it touched every chunk's pages once more.
    let mut seen: std::collections::HashMap<[u8; KEY.end - KEY.start], Vec<usize>> =
        std::collections::HashMap::new();
    let mut out = vec![None; layout.count];
    for (i, repeat) in out.iter_mut().enumerate() {
        // Touching a header maps its chunk's pages (the kernel maps around
        // a fault): they are let go a stretch at a time, as the stretches
        // read later let go of theirs, or the whole file was held at once
        // (a 256 MiB log: 90 -> 300 MB).
        if i > 0 && i % CHUNKS_PER_SINK == 0 {
            pages.done(layout.start(i - CHUNKS_PER_SINK)..layout.start(i));
        }
        let Some(bytes) = chunk(i).filter(|b| b.starts_with(CHUNK_MAGIC) && holds_records(b)) else {
            continue;
        };
        let Ok(key) = bytes[KEY].try_into() else { continue };
        let earlier = seen.entry(key).or_default();
        if let Some(&of) = earlier.iter().take(COMPARED).find(|&&j| chunk(j) == Some(bytes)) {
            let id = |at| records::u64_at(bytes, at).unwrap_or(0);
            *repeat = Some(Repeat { of, records: (id(24), id(32)) });
        } else {
            earlier.push(i);
        }
    }
    let tail = layout.count.saturating_sub(1) / CHUNKS_PER_SINK * CHUNKS_PER_SINK;
    pages.done(layout.start(tail)..layout.start(layout.count));
    out
}

/// The chunks of a file of `chunks` in stretches of [`CHUNKS_PER_SINK`]; one
/// empty stretch for none, which a chunk cut short may follow.
fn stretches(chunks: usize) -> Vec<std::ops::Range<usize>> {
    if chunks == 0 {
        // An empty range, not a range of chunks to make: the one stretch.
        return std::iter::once(0..0).collect();
    }
    (0..chunks).step_by(CHUNKS_PER_SINK).map(|start| start..(start + CHUNKS_PER_SINK).min(chunks)).collect()
}

/// What a stretch of chunks gave, in chunk order.
#[derive(Debug, Default)]
struct StretchRead {
    kept: Vec<Vec<WinEvent>>,
    counted: Vec<Counted>,
    diagnostics: Vec<Diagnostic>,
}

impl StretchRead {
    /// Adds a chunk read after the stretch's.
    fn absorb(&mut self, chunk: ChunkResult) {
        self.counted.extend(chunk.counted);
        if !chunk.kept.is_empty() {
            self.kept.push(chunk.kept);
        }
        self.diagnostics.extend(chunk.diagnostics);
    }
}

/// Parses the chunks of `stretch` on the shared pool. Each worker maps its
/// chunk's pages, and they are released once the stretch is read:
/// releasing them chunk by chunk cost one TLB shootdown across cores per
/// 64 KiB, a seventh of the run.
fn read_stretch(
    data: &[u8],
    pages: &dyn Paging,
    survey: &Survey,
    stretch: std::ops::Range<usize>,
    all_events: bool,
    extract_data: bool,
) -> StretchRead {
    let settings = Arc::new(ParserSettings::new().num_threads(1));
    let Survey { layout, last_used, repeats } = survey;
    let (layout, last_used) = (*layout, *last_used);
    let chunk_start = |i: usize| layout.start(i);
    let span = chunk_start(stretch.start)..chunk_start(stretch.end);
    let (first, stretch_end) = (stretch.start, stretch.end);
    // An interner lives as long as a worker's share of the stretch, so the
    // names every chunk repeats are decoded once, not once per chunk.
    let results: Vec<ChunkResult> = stretch
        .into_par_iter()
        .map_init(Interner::default, |interner, i| {
            let start = chunk_start(i);
            pages.will_read(start..start + CHUNK_SIZE);
            // Said below, one warning per run of them.
            if repeats.get(i).is_some_and(Option::is_some) {
                return ChunkResult::default();
            }
            let bytes = &data[start..start + CHUNK_SIZE];
            read_chunk(bytes, i, start, &settings, all_events, extract_data, interner)
        })
        .collect();
    pages.done(span);
    let mut out = StretchRead::default();
    // A log fills its chunks in order and overwrites the oldest when full:
    // it never leaves zeros before a chunk it wrote. Such chunks were
    // wiped, and whatever they held is gone: one warning per run of them.
    let wiped = |from: usize, to: usize| {
        let (which, held) = if from == to {
            (format!("chunk {from} holds"), "it")
        } else {
            (format!("chunks {from}-{to} hold"), "they")
        };
        offset_diag(
            chunk_start(from),
            Severity::Warning,
            format!(
                "{which} only zeros while later chunks hold records: whatever {held} held is lost (wiped?)"
            ),
        )
        .losing()
    };
    // A copy that repeats chunks repeats runs of them: one warning a run.
    let repeated = |from: usize, to: usize| {
        let Repeat { of, records: (first, last) } = (*repeats.get(from)?)?;
        let message = if from == to {
            format!(
                "chunk {from} repeats chunk {of} byte for byte (records {first}-{last}): its records are read once"
            )
        } else {
            format!(
                "chunks {from}-{to} repeat earlier chunks of the file byte for byte (chunk {from}, records \
                 {first}-{last}, repeats chunk {of}): their records are read once"
            )
        };
        Some(offset_diag(chunk_start(from), Severity::Warning, message))
    };
    let mut wiped_from: Option<usize> = None;
    let mut repeated_from: Option<usize> = None;
    for (i, r) in (first..).zip(results) {
        if r.zeroed && last_used.is_some_and(|last| i < last) {
            wiped_from.get_or_insert(i);
        } else if let Some(from) = wiped_from.take() {
            out.diagnostics.push(wiped(from, i - 1));
        }
        if repeats.get(i).is_some_and(Option::is_some) {
            repeated_from.get_or_insert(i);
        } else if let Some(from) = repeated_from.take() {
            out.diagnostics.extend(repeated(from, i - 1));
        }
        // Counted records are handed over as counts (their order does not
        // matter, only their counts and times); catalogue events are kept
        // to be sorted.
        out.absorb(r);
    }
    if let Some(from) = wiped_from {
        out.diagnostics.push(wiped(from, stretch_end - 1));
    }
    if let Some(from) = repeated_from {
        out.diagnostics.extend(repeated(from, stretch_end - 1));
    }
    // The file's last stretch: the chunk a copy cut short ends inside,
    // unless it repeats the start of a whole one.
    if chunk_start(stretch_end) + CHUNK_SIZE > data.len() {
        if let Some(said) = partial_repeat(data, pages, layout) {
            out.diagnostics.push(said);
        } else if let Some(partial) = read_partial(data, layout, all_events, extract_data) {
            out.absorb(partial);
        }
    }
    out
}

/// Whether the chunk a copy cut short ends inside (the one after the
/// layout's whole chunks) repeats the start of a whole chunk of the file
/// byte for byte, said as such: its records are that chunk's, read there.
/// Looked for only in a file that ends inside a chunk; a comparison ends at
/// the first byte that differs.
fn partial_repeat(data: &[u8], pages: &dyn Paging, layout: Layout) -> Option<Diagnostic> {
    let cut = layout.count;
    let start = layout.start(cut);
    let tail = data.get(start..).filter(|t| t.len() >= CHUNK_HEADER_SIZE && t.starts_with(CHUNK_MAGIC))?;
    let of = (0..cut).find(|&j| data.get(layout.start(j)..layout.start(j) + tail.len()) == Some(tail));
    pages.done(layout.start(0)..layout.start(cut));
    let of = of?;
    Some(offset_diag(
        start,
        Severity::Warning,
        format!(
            "the file ends {} bytes into chunk {cut} (copy cut short), which repeats the start of chunk {of} \
             byte for byte: its records are read once, in chunk {of}",
            tail.len()
        ),
    ))
}

/// Hands a stretch's counted records to `sink`.
fn hand_counted<S: RecordSink>(counted: &[Counted], sink: &mut S) -> Result<(), S::Error> {
    for c in counted {
        sink.counted_events(CountedEvents {
            channel: c.channel.as_deref(),
            provider: &c.provider,
            event_id: c.event_id,
            computer: c.computer.as_deref(),
            records: c.records,
            span: c.span,
        })?;
    }
    Ok(())
}

/// Hands the chunks' kept events (each chunk's sorted) to the sink in time
/// order. An event log is written in time order as a rule, so one chunk's
/// events follow the last one's: they are handed over chunk by chunk, each
/// chunk's memory released as it is done, rather than joined into one more
/// copy of them all (a log of millions of catalogue events held both).
/// Otherwise they are joined once at their exact size and sorted.
fn deliver_kept<S: RecordSink>(chunks: Vec<Vec<WinEvent>>, sink: &mut S) -> Result<(), S::Error> {
    let total = chunks.iter().map(Vec::len).sum();
    let in_order = chunks.windows(2).all(|w| match (w[0].last(), w[1].first()) {
        (Some(a), Some(b)) => a.sort_key() <= b.sort_key(),
        _ => true,
    });
    if in_order {
        sink.expect_events(total);
        for e in chunks.into_iter().flatten() {
            sink.event(e)?;
        }
        Ok(())
    } else {
        let mut events = Vec::with_capacity(total);
        for mut chunk in chunks {
            events.append(&mut chunk);
        }
        deliver_sorted(&mut events, true, sink)
    }
}

/// Where a chunk header's table of string offsets lies (64 offsets).
const STRING_TABLE: std::ops::Range<usize> = 128..384;

/// A copy of a chunk with its table of string offsets emptied.
fn without_string_table(bytes: &[u8]) -> Vec<u8> {
    let mut copy = bytes.to_vec();
    if let Some(table) = copy.get_mut(STRING_TABLE) {
        table.fill(0);
    }
    copy
}

fn read_chunk(
    bytes: &[u8],
    index: usize,
    offset: usize,
    settings: &Arc<ParserSettings>,
    all_events: bool,
    extract_data: bool,
    interner: &mut Interner,
) -> ChunkResult {
    let mut out = ChunkResult::default();
    if bytes.iter().all(|&b| b == 0) {
        out.zeroed = true;
        return out;
    }
    let mut header = match EvtxChunkHeader::from_bytes(bytes) {
        Ok(h) => h,
        Err(e) => {
            out.diagnostics.push(
                offset_diag(
                    offset,
                    Severity::Error,
                    format!("chunk {index} unreadable, its records are lost: {e}"),
                )
                .losing(),
            );
            return out;
        }
    };
    if !header.flags.contains(ChunkFlags::NO_CRC32) {
        if header.header_chunk_checksum != chunk_header_crc(bytes) {
            out.diagnostics.push(offset_diag(
                offset,
                Severity::Warning,
                format!("chunk {index}: header CRC32 mismatch (read anyway)"),
            ));
        }
        let data_ok = bytes
            .get(512..header.free_space_offset as usize)
            .is_some_and(|d| evtx::checksum_ieee(d) == header.events_checksum);
        if !data_ok {
            out.diagnostics.push(offset_diag(
                offset,
                Severity::Warning,
                format!("chunk {index}: records CRC32 mismatch (read anyway)"),
            ));
        }
    }
    // The checksums above cover what the header says; the records are
    // read to where they really end.
    let lagging = records::lagging(bytes, record_bounds(&header));
    if let Some(refused) = &lagging.refused {
        // An assumption, and what it leaves unread: a carving tool's lead.
        out.diagnostics.push(offset_diag(
            offset,
            Severity::Info,
            format!(
                "chunk {index}: past its records' end, record {} (byte {} of the chunk) follows on from them by its \
                 id but was written before the chunk's first record: taken as the slack's (records of an earlier \
                 log the chunk was written over, or of the log before it was cleared), not read, nor what follows \
                 it; a clock set back that far would make live records look the same",
                refused.id, refused.offset
            ),
        ));
    }
    if let Some((bounds, past)) = lagging.extended {
        let (named, named_last) = (header.free_space_offset, header.last_event_record_id);
        header.free_space_offset = bounds.free_space_offset;
        header.last_event_record_data_offset = bounds.last_record_offset;
        header.first_event_record_id = bounds.first_record_id;
        header.last_event_record_id = bounds.last_record_id;
        out.diagnostics.push(offset_diag(
            offset,
            Severity::Warning,
            format!(
                "chunk {index}: its header stops short of its records (free space at byte {named}, last record \
                 {named_last}): {past} more record{} read, up to record {}; the header was written before them (a log \
                 copied while open) or damaged",
                if past == 1 { "" } else { "s" },
                bounds.last_record_id
            ),
        ));
    }
    if !extract_data {
        count_chunk(bytes, &header, index, offset, settings, interner, &mut out);
        return out;
    }
    // The event log library refuses a record whose header's written time
    // is past its clock's end and walks past the ones after it: a copy of
    // the chunk with those times zeroed is read instead (TimeCreated places
    // each), so that their data is read like any other's.
    let garbage: Vec<records::RawRecord> = records::walk(bytes, record_bounds(&header))
        .flatten()
        .filter(records::RawRecord::garbage_time)
        .collect();
    let zeroed_times: Vec<u8>;
    let bytes = if let Some(first) = garbage.first() {
        say_garbage_times(index, offset, garbage.len(), first.id, &mut out);
        let mut copy = bytes.to_vec();
        for r in &garbage {
            let at = r.header_start();
            copy[at + 16..at + 24].fill(0);
        }
        zeroed_times = copy;
        &zeroed_times[..]
    } else {
        bytes
    };
    // The chunk's string table only caches the names its records hold: a
    // damaged one is read around (the reader looks each name up where a
    // record points), rather than losing the chunk's records with it.
    let stripped: Vec<u8>;
    let stripped_header: Option<EvtxChunkHeader>;
    let mut chunk = match EvtxChunk::new(bytes, &header, Arc::clone(settings)) {
        Ok(c) => c,
        Err(e) => {
            stripped = without_string_table(bytes);
            stripped_header = EvtxChunkHeader::from_bytes(&stripped).ok();
            let retried = stripped_header
                .as_ref()
                .and_then(|h| EvtxChunk::new(&stripped, h, Arc::clone(settings)).ok());
            let Some(c) = retried else {
                out.diagnostics.push(
                    offset_diag(
                        offset,
                        Severity::Error,
                        format!("chunk {index} unreadable, its records are lost: {}", error_chain(&e)),
                    )
                    .losing(),
                );
                return out;
            };
            out.diagnostics.push(offset_diag(
                offset,
                Severity::Warning,
                format!(
                    "chunk {index}: its table of names is damaged ({}); the names were read from the records",
                    error_chain(&e)
                ),
            ));
            c
        }
    };
    let mut cache = TemplateCache::default();
    let mut counted = CountedKinds::default();
    // Records the crate's model could not be built for: counted from their
    // System values when those read, as `scan` counts them.
    let mut unbuilt: Vec<(u64, String)> = Vec::new();
    // Damage between records, as the crate words it; said as `scan` says
    // it when the raw walk finds it too.
    let mut damaged: Vec<(Option<u64>, String)> = Vec::new();
    // Where the records the crate gave start (their BinXML), to find those
    // it walked past when its walk stopped where the raw walk does not (a
    // header's time it cannot hold); by place, as ids may repeat.
    let mut given: Vec<u64> = Vec::new();
    for record in chunk.iter() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                if let evtx::err::EvtxError::FailedToParseRecord { record_id, .. } = &e {
                    unbuilt.push((*record_id, error_chain(&e)));
                } else {
                    let at = match &e {
                        evtx::err::EvtxError::FailedToReadRecordAt { offset, .. } => Some(*offset),
                        _ => None,
                    };
                    damaged.push((at, error_chain(&e)));
                }
                continue;
            }
        };
        let rid = record.event_record_id;
        given.push(record.binxml_offset);
        let peek = match peek_system(&record, &mut cache, interner) {
            Ok(p) => p,
            Err(e) => {
                out.diagnostics.push(Diagnostic {
                    location: Location::Record(rid),
                    severity: Severity::Error,
                    message: format!("chunk {index}: record {rid}: unreadable System section: {e}"),
                    lost: false,
                });
                continue;
            }
        };
        let (kind, time) = kind_of(peek, header_time(&record), interner);
        let (provider, event_id) = (kind.2, kind.3);
        if extract_data && (all_events || is_relevant(interner.text(provider), event_id)) {
            match extract_record(record, &mut cache) {
                Ok(fields) => {
                    let event = to_win_event(fields, index as u64, interner);
                    if all_events || keep_extracted(&event) {
                        out.kept.push(event);
                    } else {
                        let key = (
                            event.channel.as_deref().map(|c| interner.name(c)),
                            event.computer.as_deref().map(|c| interner.name(c)),
                            interner.name(&event.provider),
                            event.event_id,
                        );
                        counted.add(
                            key,
                            (event.time_source != TimeSource::Missing).then_some(event.time),
                            rid,
                        );
                    }
                }
                // Counted from its System values, as `scan` counts it.
                Err(e) => {
                    let what = format!(
                        "record {rid} ({} {event_id}): unsupported BinXML shape: {e}",
                        interner.text(provider)
                    );
                    let system_only = SystemOnly { chunk: index, all_events };
                    system_only.place(rid, kind, time, &what, interner, &mut counted, &mut out);
                }
            }
        } else {
            counted.add(kind, untimed(time), rid);
        }
    }
    if !damaged.is_empty() {
        let (read, walked): (Vec<_>, Vec<_>) =
            records::walk(bytes, record_bounds(&header)).partition(Result::is_ok);
        // Records the raw walk reads that the crate walked past: read from
        // their System values, as `scan` counts them. (Garbage header
        // times, the one cause known, are zeroed before the crate reads
        // the chunk; this keeps any other the library may have counted.)
        given.sort_unstable();
        let header_at = |r: &records::RawRecord| r.header_start() as u64;
        let passed: Vec<records::RawRecord> = read
            .into_iter()
            .flatten()
            .filter(|r| given.binary_search(&(r.binxml.start as u64)).is_err())
            .filter(|r| !unbuilt.iter().any(|(id, _)| *id == r.id))
            .collect();
        let failed_at = |at: u64| damaged.iter().find(|(failed, _)| *failed == Some(at)).map(|(_, m)| m);
        let why = |r: &records::RawRecord| match failed_at(header_at(r)) {
            Some(m) => m.clone(),
            None => format!("the event log library walked past it, after: {}", damaged[0].1),
        };
        let passed_ids: Vec<(u64, String)> = passed.iter().map(|r| (r.id, why(r))).collect();
        let raw_errors: Vec<String> =
            walked.into_iter().filter_map(Result::err).map(|e| damaged_record(index, &e)).collect();
        let said: Vec<String> = if raw_errors.is_empty() {
            // The crate's words, but for those a record read here answers.
            let answered = |at: &Option<u64>| at.is_some_and(|at| passed.iter().any(|r| header_at(r) == at));
            damaged
                .iter()
                .filter(|(at, _)| !answered(at))
                .map(|(_, m)| format!("chunk {index}: {m}"))
                .collect()
        } else {
            raw_errors
        };
        out.diagnostics.extend(said.into_iter().map(|m| offset_diag(offset, Severity::Error, m)));
        unbuilt.extend(passed_ids);
    }
    if !unbuilt.is_empty() {
        let system_only = SystemOnly { chunk: index, all_events };
        count_unbuilt(bytes, &header, offset, unbuilt, system_only, interner, &mut counted, &mut out);
    }
    let mut untimed_kept = out.kept.iter().filter(|e| e.time_source == TimeSource::Missing);
    let kept =
        untimed_kept.next().map(|first| (untimed_kept.count() + 1, first.record_id.map(RecordId::key)));
    say_untimed(index, offset, kept.unwrap_or_default(), counted.untimed, &mut out);
    out.counted = counted.into_counted(interner);
    out.kept.sort_by_key(WinEvent::sort_key);
    out
}

/// One warning for a chunk's records whose header holds a written time
/// past the event log library's clock (`count`, the first `first`), read
/// without it.
fn say_garbage_times(index: usize, offset: usize, count: usize, first: u64, out: &mut ChunkResult) {
    out.diagnostics.push(offset_diag(
        offset,
        Severity::Warning,
        format!(
            "chunk {index}: {} a written time past year 9999 (past 9999-12-30 22:00 UTC, where the event log \
             library's clock ends) in the record header (garbage): read without that time, each placed by its \
             TimeCreated",
            records_holding(count, Some(first))
        ),
    ));
}

/// One warning for a chunk's records with no time a clock can place, the
/// `kept` ones and the `counted` ones (how many, and the first's id).
fn say_untimed(
    index: usize,
    offset: usize,
    kept: (usize, Option<u64>),
    counted: (usize, Option<u64>),
    out: &mut ChunkResult,
) {
    let how = match (kept.0, counted.0) {
        (0, 0) => return,
        (_, 0) => "placed at 1970-01-01",
        (0, _) => "counted with no time",
        _ => "the events kept placed at 1970-01-01, the others counted with no time",
    };
    let first = [kept.1, counted.1].into_iter().flatten().min();
    let which = records_holding(kept.0 + counted.0, first);
    out.diagnostics.push(offset_diag(
        offset,
        Severity::Warning,
        format!(
            "chunk {index}: {which} no time a clock can place (TimeCreated and the record header zero or out of \
             range): {how}"
        ),
    ));
}

/// How a warning names `count` records of a chunk and the first of them,
/// with its verb: "record 7 holds", "3 records (the first, record 7) hold".
fn records_holding(count: usize, first: Option<impl std::fmt::Display>) -> String {
    match (count, first) {
        (1, Some(id)) => format!("record {id} holds"),
        (_, Some(id)) => format!("{count} records (the first, record {id}) hold"),
        (_, None) => format!("{count} records hold"),
    }
}

/// Where a record whose data could not be read goes: kept as an event of
/// its `System` values alone (provider, id, time, computer, channel) where
/// the read keeps its kind, so that it keeps its place on the timeline and
/// in the tables, else counted, as `scan` counts it.
#[derive(Clone, Copy)]
struct SystemOnly {
    chunk: usize,
    all_events: bool,
}

impl SystemOnly {
    /// Keeps or counts record `id` of `kind` at `time`, with a warning
    /// naming `what` could not be read.
    #[allow(clippy::too_many_arguments)]
    fn place(
        self,
        id: u64,
        kind: KindKey,
        time: Timed,
        what: &str,
        interner: &Interner,
        counted: &mut CountedKinds,
        out: &mut ChunkResult,
    ) {
        let (channel, computer, provider, event_id) = kind;
        let (at, time_source) = time.unwrap_or((Timestamp(0), TimeSource::Missing));
        let event = WinEvent {
            time: at,
            time_source,
            origin: EventOrigin::Record { record_id: id, chunk: self.chunk as u64 },
            record_id: RecordId::new(id),
            provider: Arc::clone(interner.text(provider)),
            event_id,
            channel: channel.map(|c| Arc::clone(interner.text(c))),
            computer: computer.map(|c| Arc::clone(interner.text(c))),
            data_unread: true,
            ..WinEvent::default()
        };
        let kept = self.all_events;
        let how = if kept { "read" } else { "counted" };
        out.diagnostics.push(Diagnostic {
            location: Location::Record(id),
            severity: Severity::Warning,
            message: format!("chunk {}: {what}; {how} from its System values, its data not read", self.chunk),
            lost: false,
        });
        if kept {
            out.kept.push(event);
        } else {
            counted.add(kind, untimed(time), id);
        }
    }
}

/// What a chunk's record the raw walk could not read says, in `scan` and
/// `analyze` alike.
fn damaged_record(chunk: usize, e: &records::RecordError) -> String {
    format!("chunk {chunk}: record at offset {:#x} of the chunk: {}", e.offset, e.message)
}

/// A record's time, without where it came from.
fn untimed(time: Timed) -> Option<Timestamp> {
    time.map(|(t, _)| t)
}

/// Keeps or counts the records whose model could not be built, from their
/// `System` values ([`SystemOnly`]); one whose values do not read either
/// is an error, as before.
#[allow(clippy::too_many_arguments)]
fn count_unbuilt(
    bytes: &[u8],
    header: &EvtxChunkHeader,
    offset: usize,
    unbuilt: Vec<(u64, String)>,
    system_only: SystemOnly,
    interner: &mut Interner,
    counted: &mut CountedKinds,
    out: &mut ChunkResult,
) {
    let mut cache = TemplateCache::default();
    let wanted: hashbrown::HashSet<u64> = unbuilt.iter().map(|(id, _)| *id).collect();
    let mut read: hashbrown::HashMap<u64, (KindKey, Timed)> = hashbrown::HashMap::new();
    for record in records::walk(bytes, record_bounds(header)).flatten() {
        if wanted.contains(&record.id)
            && let Ok(values) = system_values(bytes, &record, &mut cache, interner)
        {
            read.insert(record.id, values);
        }
    }
    let index = system_only.chunk;
    for (id, why) in unbuilt {
        match read.remove(&id) {
            Some((key, time)) => system_only.place(id, key, time, &why, interner, counted, out),
            None => {
                out.diagnostics.push(offset_diag(offset, Severity::Error, format!("chunk {index}: {why}")))
            }
        }
    }
}

/// Counts a chunk's records from their `System` values alone, walking the
/// records without the crate's record model (nothing is extracted).
fn count_chunk(
    bytes: &[u8],
    header: &EvtxChunkHeader,
    index: usize,
    offset: usize,
    settings: &Arc<ParserSettings>,
    interner: &mut Interner,
    out: &mut ChunkResult,
) {
    let mut cache = TemplateCache::default();
    let mut counted = CountedKinds::default();
    // Records whose System values the raw walk cannot read (not a single
    // template instance): read through the crate's model, as `analyze`
    // reads them, before they are called unreadable.
    let mut unread: Vec<(u64, String)> = Vec::new();
    // Records whose header's time is garbage: how many, and the first.
    let mut garbage = (0, 0);
    for record in records::walk(bytes, record_bounds(header)) {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                out.diagnostics.push(offset_diag(offset, Severity::Error, damaged_record(index, &e)));
                continue;
            }
        };
        if record.garbage_time() {
            garbage = (garbage.0 + 1, if garbage.0 == 0 { record.id } else { garbage.1 });
        }
        match system_values(bytes, &record, &mut cache, interner) {
            Ok((key, time)) => counted.add(key, untimed(time), record.id),
            Err(e) => unread.push((record.id, format!("chunk {index}: record {}: {e}", record.id))),
        }
    }
    if !unread.is_empty() {
        let ids: hashbrown::HashSet<u64> = unread.iter().map(|(id, _)| *id).collect();
        let mut read: hashbrown::HashMap<u64, (KindKey, Timed)> = hashbrown::HashMap::new();
        if let Ok(mut chunk) = EvtxChunk::new(bytes, header, Arc::clone(settings)) {
            let mut model_cache = TemplateCache::default();
            for record in chunk.iter().flatten() {
                let id = record.event_record_id;
                if ids.contains(&id)
                    && let Ok(peek) = peek_system(&record, &mut model_cache, interner)
                {
                    read.insert(id, kind_of(peek, header_time(&record), interner));
                }
            }
        }
        for (id, why) in unread {
            match read.remove(&id) {
                Some((key, time)) => counted.add(key, untimed(time), id),
                None => out.diagnostics.push(record_diag(id, why)),
            }
        }
    }
    if garbage.0 > 0 {
        say_garbage_times(index, offset, garbage.0, garbage.1, out);
    }
    say_untimed(index, offset, (0, None), counted.untimed, out);
    out.counted = counted.into_counted(interner);
}

/// A raw record's kind and time, read from its `System` values alone.
fn system_values(
    bytes: &[u8],
    record: &records::RawRecord,
    cache: &mut TemplateCache,
    interner: &mut Interner,
) -> Result<(KindKey, Timed), String> {
    let peek: Peek = match peek_raw(bytes, record.binxml.clone(), cache, interner) {
        Some(Ok(p)) => p,
        Some(Err(e)) => return Err(format!("unreadable System section: {e}")),
        None => return Err("not a template instance".into()),
    };
    let written = filetime(record.filetime);
    Ok(kind_of(peek, written, interner))
}

/// A record's time and where it came from.
type Timed = Option<(Timestamp, TimeSource)>;

/// A record's kind as its `System` values give it, and its time: its
/// TimeCreated, else `written` (the record header's).
fn kind_of(peek: Peek, written: Option<Timestamp>, interner: &mut Interner) -> (KindKey, Timed) {
    let time = match peek.time_created.and_then(filetime) {
        Some(t) => Some((t, TimeSource::TimeCreated)),
        None => written.map(|t| (t, TimeSource::RecordHeader)),
    };
    let provider = peek.provider.unwrap_or_else(|| interner.name("-"));
    ((peek.channel, peek.computer, provider, (peek.event_id.unwrap_or(0) & 0xFFFF) as u16), time)
}

/// The bounds of a chunk's records, as its header gives them.
fn record_bounds(header: &EvtxChunkHeader) -> records::Bounds {
    records::Bounds {
        free_space_offset: header.free_space_offset,
        last_record_offset: header.last_event_record_data_offset,
        first_record_id: header.first_event_record_id,
        last_record_id: header.last_event_record_id,
    }
}

fn record_diag(record: u64, message: String) -> Diagnostic {
    Diagnostic { location: Location::Record(record), severity: Severity::Error, message, lost: false }
}

/// The record header's written time, unless it is zero (1601) or past what
/// a nanosecond clock holds.
fn header_time(record: &evtx::EvtxRecord<'_>) -> Option<Timestamp> {
    let ts = record.timestamp;
    let nanos = i64::from(ts.subsec_nanosecond());
    // FILETIME 0 is 1601-01-01, 11 644 473 600 s before the Unix epoch.
    let secs = Some(ts.as_second()).filter(|s| *s > -11_644_473_600)?;
    secs.checked_mul(crate::time::NANOS_PER_SEC)?.checked_add(nanos).map(Timestamp)
}

fn to_win_event(f: EventFields, chunk: u64, interner: &mut Interner) -> WinEvent {
    let created = f.time_created.and_then(filetime);
    let (time, time_source) = match (created, f.time_created_text.as_deref()) {
        (Some(t), _) => (t, TimeSource::TimeCreated),
        (_, Some(text)) if parse_rfc3339(text.as_bytes()).is_some() => {
            (parse_rfc3339(text.as_bytes()).unwrap_or_default(), TimeSource::TimeCreated)
        }
        _ => match filetime(f.header_filetime) {
            Some(t) => (t, TimeSource::RecordHeader),
            None => (Timestamp(0), TimeSource::Missing),
        },
    };
    let full_id = f.event_id.unwrap_or(0);
    let qualifiers = f
        .qualifiers
        .and_then(|q| u16::try_from(q).ok())
        .or_else(|| (full_id > 0xFFFF).then_some(((full_id >> 16) & 0xFFFF) as u16));
    // Sized once: a vector mapped in place from the extracted pairs kept
    // their larger capacity, three values' room for every two.
    let mut data: Vec<DataValue> = Vec::with_capacity(f.event_data.len() + f.user_data.len());
    data.extend(f.event_data.into_iter().map(|(name, value)| DataValue {
        name: name.map(|n| interner.get(&n)),
        value: interner.get(&value),
    }));
    // UserData leaves are named by their element and attributes as
    // `Element@attr`, as the XML reader names them; empty leaves carry nothing.
    data.extend(f.user_data.into_iter().filter_map(|(label, value)| {
        let leaf = label.rsplit('/').next().unwrap_or(&label);
        match leaf.split_once("[@") {
            Some((element, attr)) => Some(DataValue {
                name: Some(interner.get(&format!("{element}@{}", attr.trim_end_matches(']')))),
                value: interner.get(&value),
            }),
            None => (!value.is_empty())
                .then(|| DataValue { name: Some(interner.get(leaf)), value: interner.get(&value) }),
        }
    }));
    WinEvent {
        time,
        time_source,
        origin: EventOrigin::Record { record_id: f.record_id, chunk },
        record_id: RecordId::new(f.event_record_id.unwrap_or(f.record_id)),
        provider: interner.get(f.provider_name.as_deref().unwrap_or("-")),
        provider_guid: f.provider_guid.as_deref().map(|g| interner.get(&g.to_ascii_uppercase())),
        event_source_name: f.event_source_name.as_deref().map(|s| interner.get(s)),
        event_id: (full_id & 0xFFFF) as u16,
        qualifiers,
        version: f.version.and_then(|v| u8::try_from(v).ok()),
        level: f.level.and_then(|v| u8::try_from(v).ok()),
        task: f.task.and_then(|v| u16::try_from(v).ok()),
        opcode: f.opcode.and_then(|v| u8::try_from(v).ok()),
        keywords: f.keywords,
        channel: f.channel.as_deref().map(|c| interner.get(c)),
        computer: f.computer.as_deref().map(|c| interner.get(c)),
        process_id: f.process_id.and_then(|v| u32::try_from(v).ok()),
        thread_id: f.thread_id.and_then(|v| u32::try_from(v).ok()),
        activity_id: f.activity_id.map(|a| a.to_ascii_uppercase().into()),
        user_sid: f.user_id.map(Into::into),
        data,
        binary: f.binary,
        data_unread: false,
    }
    .timed_by_action()
}
