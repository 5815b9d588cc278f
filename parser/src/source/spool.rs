//! Decompressed or transcoded bytes that may be larger than memory should
//! hold: kept in memory while small, then written to an unnamed temporary
//! file and memory-mapped, so a 10 GB archive member is read with the same
//! flat heap, and in the same parallel chunks, as a 10 GB loose file.
//!
//! The temporary file has no name (`O_TMPFILE` on Linux): the system removes
//! it when the last handle or mapping goes, also when the process is killed
//! or interrupted, so nothing is left behind in `TMPDIR`.

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};

use memmap2::Mmap;

use super::Bytes;

/// Bytes kept in memory before they go to a temporary file.
pub const IN_MEMORY: u64 = 32 << 20;

/// Why spooled bytes could not be produced.
#[derive(Debug)]
pub(crate) enum SpoolError {
    /// More bytes than allowed: the limit, and how many were produced when
    /// the read stopped.
    TooLarge(u64),
    /// Reading the source failed (corrupt compressed data).
    Read(io::Error),
    /// The temporary file could not be written (a full disk, above all).
    Write(io::Error, u64),
}

impl SpoolError {
    /// The message for a member that could not be extracted, with what to do.
    pub(crate) fn describe(&self, what: &str) -> String {
        match self {
            SpoolError::TooLarge(limit) => {
                format!("refused: {what} expands beyond {}", super::ByteSize(*limit))
            }
            SpoolError::Read(e) => format!("corrupt {what}: {e}"),
            SpoolError::Write(e, written) if e.kind() == io::ErrorKind::StorageFull => format!(
                "no space left in the temporary folder (TMPDIR) after {written} bytes of {what}; \
                 free space there or point TMPDIR at a larger disk"
            ),
            SpoolError::Write(e, written) => {
                format!("the temporary copy of {what} could not be written after {written} bytes: {e}")
            }
        }
    }
}

/// Reads everything `reader` gives, up to `limit` bytes, into memory or (past
/// `in_memory` bytes) into a mapped temporary file. `expected` is what the
/// source says it holds (a zip header's size); it only sizes the buffer.
pub(crate) fn spool(
    mut reader: impl Read,
    limit: u64,
    in_memory: u64,
    expected: u64,
) -> Result<Bytes, SpoolError> {
    // One byte more than memory holds (or than the limit allows) says
    // whether there is more to come. The buffer is sized once: grown by
    // doubling, 32 MiB of data would need 64 MiB of heap.
    let in_memory = in_memory.min(limit);
    let reserve = usize::try_from(expected.min(in_memory).saturating_add(1)).unwrap_or(0);
    let mut head = Vec::with_capacity(reserve);
    (&mut reader).take(in_memory.saturating_add(1)).read_to_end(&mut head).map_err(SpoolError::Read)?;
    if head.len() as u64 <= in_memory {
        return Ok(Bytes::Owned(head));
    }
    if head.len() as u64 > limit {
        return Err(SpoolError::TooLarge(limit));
    }
    let file = tempfile::tempfile().map_err(|e| SpoolError::Write(e, 0))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    // What reached the file when a write failed (a full disk takes part of
    // a write): the count of bytes handed over would say too much or, for
    // the first write, nothing.
    let failed = |e: io::Error, out: &BufWriter<File>| {
        SpoolError::Write(e, out.get_ref().metadata().map_or(0, |m| m.len()))
    };
    let mut written = head.len() as u64;
    out.write_all(&head).map_err(|e| failed(e, &out))?;
    drop(head);
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(SpoolError::Read(e)),
        };
        if written + n as u64 > limit {
            return Err(SpoolError::TooLarge(limit));
        }
        out.write_all(&buf[..n]).map_err(|e| failed(e, &out))?;
        written += n as u64;
    }
    let file = out.into_inner().map_err(|e| {
        let (e, out) = e.into_parts();
        failed(e, &out)
    })?;
    map(&file).map_err(|e| SpoolError::Write(e, written))
}

/// Maps a temporary file this process wrote and no one else can reach.
fn map(file: &File) -> io::Result<Bytes> {
    if file.metadata()?.len() == 0 {
        return Ok(Bytes::Owned(Vec::new()));
    }
    // SAFETY: the file is unnamed and only this process holds it, so nothing
    // can truncate or change it while it is mapped.
    let map = unsafe { Mmap::map(file)? };
    let _ = map.advise(memmap2::Advice::Sequential);
    Ok(Bytes::Spooled(map))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i % 251) as u8).collect()
    }

    #[test]
    fn small_data_stays_in_memory_and_large_data_goes_to_a_mapped_file() {
        let small = spool(&bytes(1000)[..], 1 << 30, 4096, 1000).expect("spools");
        assert!(matches!(small, Bytes::Owned(_)));
        assert_eq!(&*small, &bytes(1000)[..]);
        let large = spool(&bytes(100_000)[..], 1 << 30, 4096, 0).expect("spools");
        assert!(matches!(large, Bytes::Spooled(_)));
        assert_eq!(&*large, &bytes(100_000)[..]);
        let exact = spool(&bytes(4096)[..], 1 << 30, 4096, 4096).expect("spools");
        assert_eq!(&*exact, &bytes(4096)[..]);
        let empty = spool(&[][..], 1 << 30, 4096, 0).expect("spools");
        assert!(empty.is_empty());
    }

    #[test]
    fn more_than_the_limit_is_refused_in_memory_and_on_disk() {
        assert!(matches!(spool(&bytes(1001)[..], 1000, 4096, 1001), Err(SpoolError::TooLarge(1000))));
        assert!(spool(&bytes(1000)[..], 1000, 4096, 1000).is_ok());
        assert!(matches!(spool(&bytes(100_001)[..], 100_000, 4096, 0), Err(SpoolError::TooLarge(100_000))));
        assert!(spool(&bytes(100_000)[..], 100_000, 4096, 0).is_ok());
    }
}
