//! What could not be read, on standard error: every command names the
//! inputs it could not read and why, reads the rest, and ends with status 2
//! when nothing readable was found.

use std::io::Write;

use faultline_analyzer::pass::Reading;
use faultline_analyzer::{FileStatus, Inventory};

use crate::exit::Exit;
use crate::style::sanitize;

const NOTHING_READABLE: &str = "error: none of the inputs holds IIS evidence faultline can read";

/// How many inputs that failed for one reason are named one by one; the
/// rest are counted. An archive of 100,000 members in a compression no
/// reader knows said the same line 100,000 times.
pub const NAMED_PER_REASON: usize = 10;

/// `items` with the first [`NAMED_PER_REASON`] of each reason kept, in
/// order, and for each reason past that, how many more there were (in
/// order of first appearance).
pub fn named_per_reason<'a, T>(
    items: impl IntoIterator<Item = &'a T>,
    reason: impl Fn(&T) -> &str,
) -> (Vec<&'a T>, Vec<(usize, String)>)
where
    T: 'a,
{
    // Reasons in order of first appearance, found by a map: a reason may
    // name a path ("the same bytes as ..."), each one its own.
    let mut seen: Vec<(String, usize)> = Vec::new();
    let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut named = Vec::new();
    for item in items {
        let r = reason(item);
        let at = match index.get(r) {
            Some(&at) => at,
            None => {
                index.insert(r.to_string(), seen.len());
                seen.push((r.to_string(), 0));
                seen.len() - 1
            }
        };
        seen[at].1 += 1;
        if seen[at].1 <= NAMED_PER_REASON {
            named.push(item);
        }
    }
    let more = seen
        .into_iter()
        .filter(|(_, n)| *n > NAMED_PER_REASON)
        .map(|(r, n)| (n - NAMED_PER_REASON, r))
        .collect();
    (named, more)
}

/// "... and N more: REASON" for each reason past the ones named.
fn write_more(err: &mut impl Write, more: &[(usize, String)]) -> std::io::Result<()> {
    for (n, reason) in more {
        writeln!(
            err,
            "error: ... and {} more input{} failed the same way: {}",
            crate::scan::text::count(*n as u64),
            if *n == 1 { "" } else { "s" },
            sanitize(reason)
        )?;
    }
    Ok(())
}

/// From an inventory (`scan`, `analyze`).
pub fn report_unreadable(inventory: &Inventory) -> anyhow::Result<Option<Exit>> {
    let mut err = std::io::stderr().lock();
    let failed = inventory.files.iter().filter(|f| f.status == FileStatus::Failed && f.reason.is_some());
    let (named, more) = named_per_reason(failed, |f| f.reason.as_deref().unwrap_or_default());
    for f in named {
        writeln!(err, "error: {}: {}", sanitize(&f.path), f.reason.as_deref().unwrap_or_default())?;
    }
    write_more(&mut err, &more)?;
    if !inventory.has_evidence() {
        writeln!(err, "{NOTHING_READABLE}")?;
        return Ok(Some(Exit::Error));
    }
    Ok(None)
}

/// From a read without an inventory (`timeline`, `query`, `export`).
pub fn report_reading(reading: &Reading) -> anyhow::Result<Option<Exit>> {
    let mut err = std::io::stderr().lock();
    let (named, more) = named_per_reason(&reading.unreadable, |(_, reason)| reason.as_str());
    for (path, reason) in named {
        writeln!(err, "error: {}: {}", sanitize(path), reason)?;
    }
    write_more(&mut err, &more)?;
    if reading.parsed == 0 {
        writeln!(err, "{NOTHING_READABLE}")?;
        return Ok(Some(Exit::Error));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::{NAMED_PER_REASON, named_per_reason};

    #[test]
    fn the_first_of_each_reason_are_named_and_the_rest_counted() {
        let mut items: Vec<(String, &str)> = (0..25).map(|i| (format!("m{i}"), "bad method")).collect();
        items.insert(3, ("other".to_string(), "cut short"));
        let (named, more) = named_per_reason(&items, |(_, r)| r);
        assert_eq!(named.len(), NAMED_PER_REASON + 1);
        assert_eq!(named[3].0, "other", "order kept");
        assert_eq!(named.last().map(|n| n.0.as_str()), Some("m9"));
        assert_eq!(more, [(15, "bad method".to_string())]);
        let few = &items[..5];
        assert_eq!(named_per_reason(few, |(_, r)| r), (few.iter().collect(), Vec::new()));
    }
}
