//! Walking a chunk's records without building the evtx crate's record model,
//! for reading that needs only each record's `System` values. The walk and
//! its resynchronisation after a damaged record follow the crate's own, so
//! both paths find the same records.

use std::ops::Range;

/// Size of a chunk header; records start after it.
const CHUNK_HEADER_SIZE: usize = 512;
/// Size of a record header: magic, size, id, written time.
const RECORD_HEADER_SIZE: usize = 24;
const RECORD_MAGIC: &[u8; 4] = b"\x2a\x2a\x00\x00";
/// The last FILETIME the event log library can place (9999-12-30 22:00
/// UTC, the end of its clock): past it, a written time is garbage, and the
/// library refuses the whole record.
const MAX_FILETIME: u64 = 2_650_466_808_009_999_999;

/// One record's header values and the window of its BinXML.
#[derive(Debug, Clone)]
pub(crate) struct RawRecord {
    pub id: u64,
    pub filetime: u64,
    pub binxml: Range<usize>,
}

impl RawRecord {
    /// Whether its header's written time is past [`MAX_FILETIME`]: garbage,
    /// which the event log library refuses the whole record for.
    pub(crate) fn garbage_time(&self) -> bool {
        self.filetime > MAX_FILETIME
    }

    /// Where its header starts in the chunk.
    pub(crate) fn header_start(&self) -> usize {
        self.binxml.start - RECORD_HEADER_SIZE
    }
}

/// Why a record could not be read.
#[derive(Debug)]
pub(crate) struct RecordError {
    pub offset: usize,
    pub message: String,
    /// Zeroes or a cut header where a record should start: the real end of
    /// the records when the chunk header claims more.
    blank: bool,
}

/// The chunk header values the walk needs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bounds {
    pub free_space_offset: u32,
    pub last_record_offset: u32,
    pub first_record_id: u64,
    pub last_record_id: u64,
}

pub(super) fn u32_at(d: &[u8], p: usize) -> Option<u32> {
    d.get(p..p + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

pub(super) fn u64_at(d: &[u8], p: usize) -> Option<u64> {
    let b = d.get(p..p + 8)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(b);
    Some(u64::from_le_bytes(a))
}

/// The record at `start` and where it ends; `carving` also requires the
/// trailing size copy (used when searching for a record to resync on).
fn record_at(chunk: &[u8], start: usize, carving: bool) -> Result<(RawRecord, usize), RecordError> {
    let err = |message: String, blank: bool| RecordError { offset: start, message, blank };
    let Some(magic) = chunk.get(start..start + 4) else {
        return Err(err("record header cut short".into(), true));
    };
    if chunk.len() < start + RECORD_HEADER_SIZE {
        return Err(err("record header cut short".into(), true));
    }
    if magic != RECORD_MAGIC {
        let blank = magic == [0, 0, 0, 0];
        return Err(err(format!("invalid record header magic {magic:02x?}"), blank));
    }
    let size = u32_at(chunk, start + 4).unwrap_or(0) as usize;
    let id = u64_at(chunk, start + 8).unwrap_or(0);
    let filetime = u64_at(chunk, start + 16).unwrap_or(0);
    // A written time past the library's clock is garbage: the header is
    // taken for a record's only when its size is repeated at its end, and
    // the record is then read without that time (its TimeCreated, if any,
    // places it).
    let garbage_time = filetime > MAX_FILETIME;
    let garbage = |message: String| {
        if garbage_time { format!("record {id}: invalid written time {filetime}") } else { message }
    };
    if size < RECORD_HEADER_SIZE + 4 {
        return Err(err(garbage(format!("record {id}: invalid size {size}")), false));
    }
    let binxml = start + RECORD_HEADER_SIZE..start + size - 4;
    if binxml.end > chunk.len() {
        return Err(err(garbage(format!("record {id}: BinXML runs past the chunk")), false));
    }
    if (carving || garbage_time) && u32_at(chunk, binxml.end) != Some(size as u32) {
        return Err(err(garbage(format!("record {id}: size copy mismatch")), false));
    }
    Ok((RawRecord { id, filetime, binxml }, start + size))
}

/// Where the first record that a cut at `used` bytes runs through starts,
/// walking record by record from the chunk's first: what follows it is not
/// the record's but zeros the reader would read as its data.
pub(crate) fn first_cut(chunk: &[u8], used: usize) -> Option<usize> {
    let mut offset = CHUNK_HEADER_SIZE;
    while offset < used {
        let (raw, end) = record_at(chunk, offset, false).ok()?;
        if raw.binxml.end > used {
            return Some(offset);
        }
        offset = end;
    }
    None
}

/// Walks the live records of a chunk from the first to the free space (or
/// the last record), resyncing after a damaged one on the next record that
/// checks out and whose id is in the chunk's range.
pub(crate) fn walk(
    chunk: &[u8],
    bounds: Bounds,
) -> impl Iterator<Item = Result<RawRecord, RecordError>> + '_ {
    let live_end = (bounds.free_space_offset as usize).min(chunk.len());
    let search_end = live_end.min(bounds.last_record_offset as usize + 4);
    let ids = bounds.first_record_id..=bounds.last_record_id;
    let find_live = move |mut from: usize| -> Option<usize> {
        while from < search_end {
            let hit = memchr::memmem::find(&chunk[from..search_end], RECORD_MAGIC)? + from;
            if let Ok((raw, end)) = record_at(chunk, hit, true)
                && end <= live_end
                && ids.contains(&raw.id)
            {
                return Some(hit);
            }
            from = hit + 1;
        }
        None
    };
    let mut next = Some(CHUNK_HEADER_SIZE);
    std::iter::from_fn(move || {
        loop {
            let offset = next?;
            if offset >= live_end {
                next = None;
                return None;
            }
            match record_at(chunk, offset, false) {
                Ok((raw, end)) => {
                    next = if raw.id == bounds.last_record_id { None } else { Some(end) };
                    return Some(Ok(raw));
                }
                Err(e) => {
                    next = find_live(offset + 1);
                    if next.is_some() || !e.blank {
                        return Some(Err(e));
                    }
                }
            }
        }
    })
}

/// How many records in a row damage may take from a chunk's walk and the
/// walk still go on at the next.
const DAMAGED_IDS: u64 = 8;

/// The bounds of a chunk whose header stops short of its records, and how
/// many records lie past them. A header written before the chunk's last
/// records (a log copied while it was open) names a free space or a last
/// record id, or both, behind the records the chunk holds; a free-space
/// offset inside the header itself, or inside a record, says nothing of
/// where they end. The chunk's records are walked from the first, each
/// checking out (magic, size and its copy), their ids following on from
/// the header's first (a damaged record is stepped over to the next that
/// checks out, a few ids on); where they reach past what the header names,
/// the bounds are theirs. Past the free space, a record stepped to must
/// also be written no earlier than the earliest one taken: the chunk's
/// slack holds records of an earlier pass over it, or of the log before it
/// was cleared, whose ids may even go on from these, but whose times are
/// older than all of them.
pub(crate) fn lagging(chunk: &[u8], bounds: Bounds) -> Lagging {
    let named_end = bounds.free_space_offset as usize;
    let mut at = CHUNK_HEADER_SIZE;
    let mut next_id = bounds.first_record_id;
    // The last record that checks out: where it starts, ends, and its id.
    let mut last: Option<(usize, usize, u64)> = None;
    // When the earliest record taken was written (a time of zero, which
    // some exports' last record has, says nothing).
    let mut earliest = u64::MAX;
    let mut past = 0u64;
    let mut refused = None;
    while at + RECORD_HEADER_SIZE <= chunk.len() {
        match record_at(chunk, at, true) {
            Ok((raw, end)) if raw.id == next_id => {
                if raw.id > bounds.last_record_id || end > named_end {
                    past += 1;
                }
                last = Some((at, end, raw.id));
                if raw.filetime != 0 {
                    earliest = earliest.min(raw.filetime);
                }
                at = end;
                let Some(next) = raw.id.checked_add(1) else { break };
                next_id = next;
            }
            _ => {
                // A record that checks out but does not follow on, past the
                // free space, is the slack's: the records end before it.
                if at >= named_end && record_at(chunk, at, true).is_ok() {
                    break;
                }
                // The next record that checks out with one of the next few
                // ids is found past damage. Past the header's free space,
                // the first that checks out is the one: it must also not be
                // older than the earliest taken (the slack's records of the
                // log before it was cleared may go on from the ids here,
                // but were written before any of them), or the records end
                // before it, as above. A log's clock stepping back is not
                // compared with the last record but with the earliest: a
                // step back past the chunk's first record's time, right
                // after damage past the free space, ends the chunk there.
                let from = at + 1;
                let ids = next_id..=next_id.saturating_add(DAMAGED_IDS);
                let hit = memchr::memmem::find_iter(&chunk[from..], RECORD_MAGIC).find_map(|p| {
                    let (raw, _) = record_at(chunk, from + p, true).ok()?;
                    let slack = from + p >= named_end;
                    // A time of zero says nothing (some exports' last
                    // record has it); one past the library's clock is no
                    // later than any other, only garbage.
                    let in_time = !slack
                        || earliest == u64::MAX
                        || raw.filetime == 0
                        || (raw.filetime >= earliest && !raw.garbage_time());
                    match (ids.contains(&raw.id), in_time) {
                        (true, true) => Some(PastDamage::Next(from + p, raw.id)),
                        (true, false) => {
                            Some(PastDamage::End(Some(Refused { offset: from + p, id: raw.id })))
                        }
                        (false, _) if slack => Some(PastDamage::End(None)),
                        (false, _) => None,
                    }
                });
                match hit {
                    Some(PastDamage::Next(p, id)) => (at, next_id) = (p, id),
                    Some(PastDamage::End(r)) => {
                        refused = r;
                        break;
                    }
                    None => break,
                }
            }
        }
    }
    let extended = last.filter(|_| past > 0).and_then(|(last_start, end, last_id)| {
        let extended = Bounds {
            free_space_offset: u32::try_from(end.max(named_end.min(chunk.len()))).ok()?,
            last_record_offset: u32::try_from(last_start).ok()?.max(bounds.last_record_offset),
            first_record_id: bounds.first_record_id,
            last_record_id: last_id.max(bounds.last_record_id),
        };
        Some((extended, past))
    });
    Lagging { extended, refused }
}

/// The first record past damage that decides where [`lagging`]'s walk
/// goes: the next record (where it starts, its id), or the records' end,
/// with the record taken as the slack's by its time alone, if that is why.
enum PastDamage {
    Next(usize, u64),
    End(Option<Refused>),
}

/// What [`lagging`] found of a chunk's records past its header's bounds.
#[derive(Debug)]
pub(crate) struct Lagging {
    /// The bounds of the records the chunk holds and how many lie past the
    /// header's, where some do.
    pub(crate) extended: Option<(Bounds, u64)>,
    /// The record past the records' end (the free space, or damage beyond
    /// it) whose id follows on from them but which was written before the
    /// chunk's first:
    /// taken as the slack's, and the records end before it, though a clock
    /// set back that far would make a live record look the same.
    pub(crate) refused: Option<Refused>,
}

/// A record [`lagging`] took as the slack's by its time alone.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Refused {
    /// Where it starts in the chunk.
    pub(crate) offset: usize,
    pub(crate) id: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: u64, body: &[u8]) -> Vec<u8> {
        let size = (RECORD_HEADER_SIZE + body.len() + 4) as u32;
        let mut r = RECORD_MAGIC.to_vec();
        r.extend(size.to_le_bytes());
        r.extend(id.to_le_bytes());
        r.extend(132_453_538_617_163_814u64.to_le_bytes());
        r.extend(body);
        r.extend(size.to_le_bytes());
        r
    }

    #[test]
    fn walks_resyncs_and_stops_at_blank_space() {
        let mut chunk = vec![0u8; CHUNK_HEADER_SIZE];
        let first = record(10, b"abcd");
        let mut damaged = record(11, b"efgh");
        damaged[0] = b'X';
        let third = record(12, b"ijkl");
        let last_offset = CHUNK_HEADER_SIZE + first.len() + damaged.len();
        chunk.extend(&first);
        chunk.extend(&damaged);
        chunk.extend(&third);
        let free = chunk.len();
        chunk.resize(65536, 0);
        let bounds = Bounds {
            free_space_offset: free as u32,
            last_record_offset: last_offset as u32,
            first_record_id: 10,
            last_record_id: 12,
        };
        let got: Vec<Result<u64, usize>> =
            walk(&chunk, bounds).map(|r| r.map(|r| r.id).map_err(|e| e.offset)).collect();
        assert_eq!(got, [Ok(10), Err(CHUNK_HEADER_SIZE + first.len()), Ok(12)]);

        // A header that claims more than was written ends quietly at the zeroes.
        let bounds =
            Bounds { free_space_offset: 65536, last_record_offset: 65000, last_record_id: 99, ..bounds };
        let got: Vec<bool> = walk(&chunk, bounds).map(|r| r.is_ok()).collect();
        assert_eq!(got, [true, false, true]);
    }
    #[test]
    fn records_past_a_header_written_before_them_are_found() {
        let mut chunk = vec![0u8; CHUNK_HEADER_SIZE];
        for id in 10..=14 {
            chunk.extend(record(id, b"abcd"));
        }
        let one = record(10, b"abcd").len();
        // An earlier pass's record in the slack after them.
        chunk.extend(record(3, b"abcd"));
        chunk.resize(65536, 0);
        let header_says = |last: u64| Bounds {
            free_space_offset: (CHUNK_HEADER_SIZE + (last - 9) as usize * one) as u32,
            last_record_offset: (CHUNK_HEADER_SIZE + (last - 10) as usize * one) as u32,
            first_record_id: 10,
            last_record_id: last,
        };
        let (bounds, past) =
            lagging(&chunk, header_says(12)).extended.expect("two records past the header's");
        assert_eq!(past, 2);
        assert_eq!((bounds.free_space_offset, bounds.last_record_offset, bounds.last_record_id), {
            let whole = header_says(14);
            (whole.free_space_offset, whole.last_record_offset, 14)
        });
        let ids: Vec<u64> = walk(&chunk, bounds).filter_map(Result::ok).map(|r| r.id).collect();
        assert_eq!(ids, [10, 11, 12, 13, 14], "the older record in the slack is not taken");
        assert!(lagging(&chunk, header_says(14)).extended.is_none(), "a header that counts them all");
        let inside = Bounds { free_space_offset: 0, ..header_says(12) };
        assert_eq!(lagging(&chunk, inside).extended.map(|(b, past)| (b.last_record_id, past)), Some((14, 5)));
        let id_only = Bounds { free_space_offset: header_says(14).free_space_offset, ..header_says(12) };
        assert_eq!(
            lagging(&chunk, id_only).extended.map(|(b, past)| (b.last_record_id, past)),
            Some((14, 2))
        );
        let free_only = Bounds { last_record_id: 14, ..header_says(12) };
        assert_eq!(
            lagging(&chunk, free_only).extended.map(|(b, past)| (b.free_space_offset, past)),
            Some((header_says(14).free_space_offset, 2))
        );
        // A damaged record inside the header's bounds is stepped over, and
        // one past them too, to a record written no earlier than the
        // earliest taken.
        let mut damaged = chunk.clone();
        damaged[CHUNK_HEADER_SIZE + one] = b'X';
        assert_eq!(
            lagging(&damaged, header_says(12)).extended.map(|(b, past)| (b.last_record_id, past)),
            Some((14, 2))
        );
        damaged[CHUNK_HEADER_SIZE + 3 * one] = b'X';
        let (bounds, past) =
            lagging(&damaged, header_says(12)).extended.expect("record 14 past a damaged 13");
        assert_eq!((bounds.last_record_id, past), (14, 1));
        let walked: Vec<Result<u64, usize>> =
            walk(&damaged, bounds).map(|r| r.map(|r| r.id).map_err(|e| e.offset)).collect();
        assert_eq!(
            walked,
            [Ok(10), Err(CHUNK_HEADER_SIZE + one), Ok(12), Err(CHUNK_HEADER_SIZE + 3 * one), Ok(14)]
        );
        // A record 14 written before the others after the damaged 13: the
        // slack of the log before it was cleared, whose ids went on from
        // these.
        let time_at = CHUNK_HEADER_SIZE + 4 * one + 16;
        let set_time = |chunk: &mut Vec<u8>, at: usize, time: u64| {
            chunk[at..at + 8].copy_from_slice(&time.to_le_bytes())
        };
        // Older than the last taken (record 12) but not than the earliest
        // (10): the log's own clock stepped back; taken.
        let mut stepped_back = damaged.clone();
        set_time(&mut stepped_back, CHUNK_HEADER_SIZE + 2 * one + 16, 132_453_538_617_163_900);
        set_time(&mut stepped_back, time_at, 132_453_538_617_163_850);
        assert_eq!(lagging(&stepped_back, header_says(12)).extended.map(|(b, _)| b.last_record_id), Some(14));
        // Written at time zero: says nothing; taken.
        let mut zero = damaged.clone();
        set_time(&mut zero, time_at, 0);
        assert_eq!(lagging(&zero, header_says(12)).extended.map(|(b, _)| b.last_record_id), Some(14));
        // Written past 9999 (its size repeated at its end, so a record's
        // header): garbage, later than the earliest by its number alone;
        // the slack's.
        let mut garbage = damaged.clone();
        set_time(&mut garbage, time_at, u64::MAX);
        assert!(lagging(&garbage, header_says(12)).extended.is_none(), "garbage time: the slack");
        assert_eq!(lagging(&garbage, header_says(12)).refused.map(|r| r.id), Some(14));
        set_time(&mut damaged, time_at, 132_000_000_000_000_000);
        let older = lagging(&damaged, header_says(12));
        assert!(older.extended.is_none(), "older: the slack");
        assert_eq!(
            older.refused,
            Some(Refused { offset: CHUNK_HEADER_SIZE + 4 * one, id: 14 }),
            "and said so"
        );
        assert_eq!(lagging(&stepped_back, header_says(12)).refused, None);
        assert_eq!(lagging(&chunk, header_says(14)).refused, None, "a chunk's slack after its records");
        // A record that follows it does not make it live: the first record
        // past the damage that checks out is the slack's, and so is what
        // comes after it, whatever its time (the walk, which does not
        // compare times, would take it).
        let mut older_then_newer = damaged[..CHUNK_HEADER_SIZE + 5 * one].to_vec();
        older_then_newer.extend(record(15, b"abcd"));
        older_then_newer.resize(65536, 0);
        assert!(lagging(&older_then_newer, header_says(12)).extended.is_none(), "15 after the slack's 14");
        // A record past the free space whose id does not follow on (one of
        // the log before it was cleared, which numbered its records again
        // from 1) ends the records.
        let mut jumped = chunk.clone();
        jumped[CHUNK_HEADER_SIZE + 3 * one + 8] = 40;
        assert!(lagging(&jumped, header_says(12)).extended.is_none());
        // The largest id there is: no overflow.
        let mut last = vec![0u8; CHUNK_HEADER_SIZE];
        last.extend(record(u64::MAX, b"abcd"));
        last.resize(65536, 0);
        let at_max = Bounds {
            free_space_offset: 0,
            first_record_id: u64::MAX,
            last_record_id: u64::MAX,
            last_record_offset: 0,
        };
        assert_eq!(
            lagging(&last, at_max).extended.map(|(b, past)| (b.last_record_id, past)),
            Some((u64::MAX, 1))
        );
    }
}
