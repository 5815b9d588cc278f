//! Any bytes after an EVTX file header, read both ways (counting from the
//! raw records, and extracting in full through the evtx crate), and the
//! bytes alone (carved chunks when they begin as one): no panic.
#![no_main]

use faultline_parser::framing::InMemory;
use faultline_parser::{Diagnostic, CountedEvents, RecordSink, WinEvent};
use libfuzzer_sys::fuzz_target;

#[derive(Default)]
struct Count {
    records: u64,
    full: bool,
}

impl RecordSink for Count {
    type Error = std::convert::Infallible;
    fn event(&mut self, _e: WinEvent) -> Result<(), Self::Error> {
        self.records += 1;
        Ok(())
    }
    fn counted_events(&mut self, k: CountedEvents<'_>) -> Result<(), Self::Error> {
        self.records += k.records;
        Ok(())
    }
    fn diagnostic(&mut self, _d: Diagnostic) {}
    fn needs_event_data(&self) -> bool {
        self.full
    }
}

fuzz_target!(|data: &[u8]| {
    let mut file = b"ElfFile\0".to_vec();
    file.resize(4096, 0);
    file.extend_from_slice(data);
    let mut walk = Count::default();
    let Ok(()) = faultline_parser::evtx::parse_evtx(&file, &InMemory, true, &mut walk);
    let mut full = Count { full: true, ..Count::default() };
    let Ok(()) = faultline_parser::evtx::parse_evtx(&file, &InMemory, true, &mut full);
    // The bytes alone: chunks carved without a file header when they begin
    // as a chunk does.
    let mut carved = Count { full: true, ..Count::default() };
    let Ok(()) = faultline_parser::evtx::parse_evtx(data, &InMemory, true, &mut carved);
    std::hint::black_box((walk.records, full.records, carved.records));
});
