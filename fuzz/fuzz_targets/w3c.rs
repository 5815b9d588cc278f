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
    let _ = format::detect("fuzz.log", &data[..data.len().min(format::SNIFF_LEN)]);
    for dialect in [Dialect::W3c, Dialect::HttpErr, Dialect::IisNative, Dialect::Ncsa] {
        assert_eq!(total(data, dialect, 1 << 20), total(data, dialect, 7));
    }
});
