//! Any text as Sigma rules, read over an access log (the part of the input
//! from its `#Fields:` line on, or a few rows of ours): no panic while
//! loading, compiling, screening or correlating, and the screened
//! evaluation matches what the full evaluation matches on every row.
#![no_main]

use std::path::Path;

use faultline_hunt::correlation::Match;
use faultline_hunt::{Engine, LoadReport, audit::audit};
use libfuzzer_sys::fuzz_target;

/// Rows with the shapes rules look for: paths, queries, agents, statuses.
const LOG: &str = "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip \
cs(User-Agent) cs(Referer) cs-host sc-status sc-substatus sc-win32-status time-taken
2025-01-01 00:00:00 10.0.0.1 GET /index.html - 443 - 192.0.2.1 Mozilla/5.0+(Windows+NT+10.0) - www.example.com 200 0 0 5
2025-01-01 00:00:01 10.0.0.1 POST /aspnet_client/x.aspx cmd=whoami 443 - 192.0.2.2 curl/8.0 - www.example.com 200 0 0 9
2025-01-01 00:00:02 10.0.0.1 GET /a%2Fb id=1'+or+'1'='1 443 CONTOSO\\u 192.0.2.3 sqlmap/1.7 https://x/ www.example.com 500 0 64 30
2025-01-01 00:00:03 10.0.0.1 GET /missing.php - 80 - 2001:db8::1 - - - 404 0 2 1
2025-01-01 00:00:04 10.0.0.1 GET /owa/auth/x.js ${jndi:ldap://e/a} 443 - 192.0.2.4 python-requests/2.31 - - 401 1 0 3
";

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (rules, log) = match text.find("\n#Fields:") {
        Some(at) => (&text[..at], &text[at + 1..]),
        None => (&text[..], LOG),
    };
    let mut loaded = LoadReport::default();
    loaded.add_text(rules, Path::new("fuzz.yml"));
    let loaded = loaded.finish();
    let engine = Engine::new(loaded.rules);
    let audit = audit(&engine, log.as_bytes());
    assert!(audit.disagreements.is_empty(), "{:?}", audit.disagreements);
    let matches: Vec<Match<'_>> = audit
        .hits
        .iter()
        .map(|h| Match { rule: h.rule, time: h.seconds, host: "web01", values: &[] })
        .collect();
    for (i, c) in loaded.correlations.iter().enumerate() {
        let _ = c.evaluate(i, &matches);
    }
});
