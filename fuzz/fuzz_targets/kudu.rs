//! Any bytes as a Kudu request trace: no panic; an event or a reason why
//! not.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = faultline_parser::kudu::parse_trace(data, "2025-09-13T17-38-29_8deff5_002_POST_api-zipdeploy_500_28s.xml");
    let _ = faultline_parser::kudu::looks_like_kudu_trace(data);
});
