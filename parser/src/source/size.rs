//! A size as a reader takes it in: `1 GiB`, `3.27 MiB`, `512 bytes`. Limits
//! are given in MiB on the command line, and a refusal that says
//! `68719476736-byte limit` makes the analyst count digits.

use std::fmt;

/// A number of bytes, shown in the largest binary unit it reaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ByteSize(pub u64);

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
        let n = self.0;
        if n < 1024 {
            return write!(f, "{n} byte{}", if n == 1 { "" } else { "s" });
        }
        let mut unit = 0;
        let mut whole = n >> 10;
        while whole >= 1024 && unit + 1 < UNITS.len() {
            whole >>= 10;
            unit += 1;
        }
        let scale = 1u64 << (10 * (unit + 1));
        if n.is_multiple_of(scale) {
            return write!(f, "{} {}", n / scale, UNITS[unit]);
        }
        // Two decimals, never rounded up to the next whole unit's look
        // (1023.999 MiB is not "1024.00 MiB").
        let hundredths = (u128::from(n) * 100 / u128::from(scale)) as u64;
        write!(f, "{}.{:02} {}", hundredths / 100, hundredths % 100, UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::ByteSize;

    #[test]
    fn sizes_read_in_their_largest_unit() {
        let shown = |n: u64| ByteSize(n).to_string();
        assert_eq!(shown(0), "0 bytes");
        assert_eq!(shown(1), "1 byte");
        assert_eq!(shown(1023), "1023 bytes");
        assert_eq!(shown(1024), "1 KiB");
        assert_eq!(shown(1536), "1.50 KiB");
        assert_eq!(shown(65536 << 20), "64 GiB");
        assert_eq!(shown((1 << 30) - 1), "1023.99 MiB");
        assert_eq!(shown(3_512_345_678), "3.27 GiB");
        assert_eq!(shown(u64::MAX), "15.99 EiB");
    }
}
