//! Any bytes read as UTF-16 or UTF-32 text in either byte order: no panic,
//! UTF-8 out, and a stray byte stepped over no more often than a run of
//! units out of step can be found.
#![no_main]

use faultline_parser::encoding::{ByteOrder, WideText, utf8_in_step};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for unit in [2, 4] {
        for order in [ByteOrder::Le, ByteOrder::Be] {
            let wide = WideText { order, unit, bom: 0 };
            let (text, realigned) = utf8_in_step(data, wide).expect("in memory");
            assert!(std::str::from_utf8(&text).is_ok());
            // Each step follows a run of eight units (sixteen bytes, less
            // the unit a step may take back), but for one the text ends in.
            assert!(realigned.count <= data.len() as u64 / 12 + 1);
            if let Some(first) = realigned.first {
                assert!(first.file_offset < data.len() as u64);
                assert!(first.text_offset <= text.len() as u64);
            }
        }
    }
});
