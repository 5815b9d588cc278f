//! Any bytes as an IIS detailed error page: no panic; a page read or a
//! reason why not.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (trace, diagnostics) = faultline_parser::errorpage::parse_page(data, None);
    assert!(trace.is_some() || !diagnostics.is_empty());
    let _ = faultline_parser::errorpage::looks_like_error_page(data);
});
