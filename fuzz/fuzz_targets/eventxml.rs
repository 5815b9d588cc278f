//! Any bytes as an event XML export: no panic, and every event read has a
//! position inside the input.
#![no_main]

use faultline_parser::winevent::EventOrigin;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let file = faultline_parser::eventxml::parse_event_xml(data);
    for e in &file.events {
        if let EventOrigin::Xml { offset, .. } = e.origin {
            assert!(offset as usize <= data.len().max(1) * 3);
        }
    }
});
