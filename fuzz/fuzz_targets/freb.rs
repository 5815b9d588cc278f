//! Any bytes as a FREB trace: no panic; whatever was read is summarized.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let file = faultline_parser::freb::parse_freb(data);
    let _ = file.trace.time();
});
