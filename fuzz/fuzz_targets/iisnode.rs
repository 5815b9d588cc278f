//! Any bytes as iisnode's log: no panic; every event an entry's start
//! named, timed.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (events, _) = faultline_parser::iisnode::parse_log(data);
    assert!(events.iter().all(|e| e.origin.line().is_some()));
    let _ = faultline_parser::iisnode::looks_like_iisnode_log(data);
});
