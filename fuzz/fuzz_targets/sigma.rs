//! Any text as Sigma rules, read over an access log (the part of the input
//! from its `#Fields:` line on, or a few rows of ours) and over Windows
//! events (the part from its first `<Event`, or a few of ours): no panic
//! while loading, compiling, screening, evaluating or correlating; the
//! screened evaluation of each row matches what the full one matches, and
//! an event viewed through the fields the rules read matches what it
//! matches viewed whole.
#![no_main]

use std::path::Path;

use faultline_hunt::correlation::Match;
use faultline_hunt::{Engine, LoadReport, View, audit::audit};
use faultline_parser::eventxml::parse_event_xml;
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

/// Events web-shell rules look for: a shell under w3wp, a new service, a
/// cleared log.
const EVENTS: &str = r#"<Events>
<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><Provider Name="Microsoft-Windows-Sysmon"/><EventID>1</EventID><TimeCreated SystemTime="2025-01-01T00:00:05Z"/><Channel>Microsoft-Windows-Sysmon/Operational</Channel><Computer>web01</Computer></System><EventData><Data Name="Image">C:\Windows\System32\cmd.exe</Data><Data Name="CommandLine">cmd.exe /c whoami</Data><Data Name="ParentImage">c:\windows\system32\inetsrv\w3wp.exe</Data><Data Name="ParentCommandLine">w3wp.exe -ap "ShopPool"</Data></EventData></Event>
<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><Provider Name="Microsoft-Windows-Security-Auditing"/><EventID>4688</EventID><TimeCreated SystemTime="2025-01-01T00:00:06Z"/><Channel>Security</Channel><Computer>web01</Computer></System><EventData><Data Name="NewProcessName">C:\Windows\System32\net.exe</Data><Data Name="ParentProcessName">C:\Windows\System32\inetsrv\w3wp.exe</Data><Data Name="CommandLine">net user</Data></EventData></Event>
<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><Provider Name="Service Control Manager"/><EventID>7045</EventID><TimeCreated SystemTime="2025-01-01T00:00:07Z"/><Channel>System</Channel><Computer>web01</Computer></System><EventData><Data Name="ServiceName">updater</Data><Data Name="ImagePath">C:\Users\Public\u.exe</Data></EventData></Event>
<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><Provider Name="Microsoft-Windows-Eventlog"/><EventID>104</EventID><TimeCreated SystemTime="2025-01-01T00:00:08Z"/><Channel>System</Channel><Computer>web01</Computer></System><UserData><LogFileCleared><SubjectUserName>admin</SubjectUserName><Channel>System</Channel></LogFileCleared></UserData></Event>
</Events>
"#;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (text, events) = match text.find("\n<Event") {
        Some(at) => (&text[..at], &text[at + 1..]),
        None => (&text[..], EVENTS),
    };
    let (rules, log) = match text.find("\n#Fields:") {
        Some(at) => (&text[..at], &text[at + 1..]),
        None => (text, LOG),
    };
    let mut loaded = LoadReport::default();
    loaded.add_text(rules, Path::new("fuzz.yml"));
    let loaded = loaded.finish();
    let engine = Engine::new(loaded.rules);
    let audit = audit(&engine, log.as_bytes());
    assert!(audit.disagreements.is_empty(), "{:?}", audit.disagreements);
    let mut matches: Vec<Match<'_>> = audit
        .hits
        .iter()
        .map(|h| Match { rule: h.rule, time: h.seconds, host: "web01", values: &[] })
        .collect();
    let (mut whole, mut read) = (View::default(), engine.view(Vec::new()));
    for e in &parse_event_xml(events.as_bytes()).events {
        let (mut all, mut some) = (Vec::new(), Vec::new());
        whole.event(e);
        engine.matches(&mut whole, &mut all);
        read.event(e);
        engine.matches(&mut read, &mut some);
        assert_eq!(all, some, "{e:?}");
        let time = e.time.seconds();
        matches.extend(all.into_iter().map(|rule| Match { rule, time, host: "web01", values: &[] }));
    }
    matches.sort_by_key(|m| m.time);
    for (i, c) in loaded.correlations.iter().enumerate() {
        let _ = c.evaluate(i, &matches);
    }
});
