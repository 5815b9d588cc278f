//! Any bytes as an event XML export, read whole and in stretches of a size
//! the input chooses: no panic, every event read has a position inside the
//! text, and no stretch hands an event another stretch handed.
#![no_main]

use std::collections::BTreeSet;

use faultline_parser::winevent::EventOrigin;
use faultline_parser::{Diagnostic, Format, Input, ReadConfig, RecordSink, WinEvent};
use libfuzzer_sys::fuzz_target;

#[derive(Default)]
struct Offsets(Vec<u64>);

impl RecordSink for Offsets {
    type Error = std::convert::Infallible;
    fn event(&mut self, e: WinEvent) -> Result<(), Self::Error> {
        if let EventOrigin::Xml { offset, .. } = e.origin {
            self.0.push(offset);
        }
        Ok(())
    }
    fn diagnostic(&mut self, _d: Diagnostic) {}
}

fuzz_target!(|data: &[u8]| {
    // The text may be longer than the bytes (a bad byte read as U+FFFD).
    let bound = data.len().max(1) as u64 * 3;
    let file = faultline_parser::eventxml::parse_event_xml(data);
    for e in &file.events {
        if let EventOrigin::Xml { offset, .. } = e.origin {
            assert!(offset <= bound);
        }
    }
    let Some((&size, _)) = data.split_first() else { return };
    let config = ReadConfig { all_events: true, ..ReadConfig::default() };
    let input = Input {
        data,
        format: Format::EventXml,
        pages: &faultline_parser::framing::InMemory,
        config: &config,
        progress: &|_| {},
        modified: None,
    };
    let Ok(sinks) =
        faultline_parser::eventxml::read_in_stretches(&input, &Offsets::default, usize::from(size) + 1);
    let mut seen = BTreeSet::new();
    for offset in sinks.iter().flat_map(|s| &s.0) {
        assert!(*offset <= bound);
        assert!(seen.insert(*offset), "an event at {offset} handed twice");
    }
});
