//! Any bytes through format detection and every text dialect, at two chunk
//! sizes: no panic, and chunking never changes the number of records.
#![no_main]

use faultline_parser::w3c::{Dialect, TextConfig, parse_text};
use faultline_parser::{Diagnostic, HttpError, RecordSink, Request, format};
use libfuzzer_sys::fuzz_target;

#[derive(Default)]
struct Count(u64, u64);

impl RecordSink for Count {
    type Error = std::convert::Infallible;
    fn request(&mut self, _r: &Request<'_>) -> Result<(), Self::Error> {
        self.0 += 1;
        Ok(())
    }
    fn http_error(&mut self, _r: &HttpError<'_>) -> Result<(), Self::Error> {
        self.0 += 1;
        Ok(())
    }
    fn diagnostic(&mut self, d: Diagnostic) {
        if d.is_rejection() {
            self.1 += 1;
        }
    }
}

fn total(data: &[u8], dialect: Dialect, chunk_size: usize) -> (u64, u64) {
    let Ok(sinks) = parse_text(data, dialect, &TextConfig { chunk_size }, &faultline_parser::framing::InMemory, &|_| {}, Count::default);
    sinks.iter().fold((0, 0), |a, s| (a.0 + s.0, a.1 + s.1))
}

fuzz_target!(|data: &[u8]| {
    let head = &data[..data.len().min(format::SNIFF_LEN)];
    let _ = format::detect("fuzz.log", head);
    for dialect in [Dialect::W3c, Dialect::HttpErr, Dialect::IisNative, Dialect::Ncsa] {
        assert_eq!(total(data, dialect, 1 << 20), total(data, dialect, 7));
    }
    // Lines ended by a lone CR: the copy read in their place is as long,
    // holds a line end for every lone CR and LF, and reads the same
    // whatever the chunking.
    if faultline_parser::encoding::lone_cr_lines(head)
        && let Ok(text) = faultline_parser::encoding::relined(data)
    {
        assert_eq!(text.len(), data.len());
        let lone = data.iter().enumerate().filter(|&(i, &b)| b == b'\r' && data.get(i + 1) != Some(&b'\n')).count();
        let lf = |t: &[u8]| t.iter().filter(|&&b| b == b'\n').count();
        assert_eq!(lf(&text), lf(data) + lone);
        assert_eq!(total(&text, Dialect::W3c, 1 << 20), total(&text, Dialect::W3c, 7));
    }
});
