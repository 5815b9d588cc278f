//! Changes that switch IIS's access logging off or back on: an
//! IIS-Configuration change of `httpLogging/@dontLog` or a site's
//! `logFile/@enabled`, or `appcmd` run to make one. An intruder hides what a
//! web shell does this way; an outage analysis must know that the requests
//! of that stretch are missing, not absent.

use faultline_parser::WinEvent;
use faultline_parser::winevent::Family;

/// Which way a change turned logging.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Switch {
    /// No more access-log rows.
    Off,
    /// Rows again.
    On,
}

impl Switch {
    fn of(off: bool) -> Switch {
        if off { Switch::Off } else { Switch::On }
    }
}

/// What `path = value` in IIS configuration does to logging.
fn configuration(path: &str, value: &str) -> Option<Switch> {
    let path = path.trim().to_ascii_lowercase();
    let value = value.trim().trim_matches('"');
    let is = |v: &str| value.eq_ignore_ascii_case(v);
    if path.ends_with("httplogging/@dontlog") && (is("true") || is("false")) {
        return Some(Switch::of(is("true")));
    }
    if path.ends_with("logfile/@enabled") && (is("true") || is("false")) {
        return Some(Switch::of(is("false")));
    }
    None
}

/// What an `appcmd` command line does to logging (`/dontLog:True`,
/// `/logFile.enabled:false`, either quoted).
fn command_line(line: &str) -> Option<Switch> {
    // Most process starts are not appcmd's: ruled out before any copy.
    if !faultline_parser::value::contains_ignore_case(line.as_bytes(), b"appcmd") {
        return None;
    }
    let line: String = line.to_ascii_lowercase().chars().filter(|c| *c != '"' && *c != '\'').collect();
    for (setting, off) in [("dontlog:", "true"), ("logfile.enabled:", "false")] {
        if let Some(at) = line.find(setting) {
            let value: String =
                line[at + setting.len()..].chars().take_while(|c| c.is_ascii_alphabetic()).collect();
            if value == "true" || value == "false" {
                return Some(Switch::of(value == off));
            }
        }
    }
    None
}

/// Whether an event switches access logging off or on.
pub fn logging_switch(e: &WinEvent) -> Option<Switch> {
    // The id first: it rules out nearly every event without reading the
    // provider's name (the hunt asks this of every event it reads).
    if !matches!(e.event_id, 29 | 4688 | 1) {
        return None;
    }
    match (e.family(), e.event_id) {
        (Family::IisConfiguration, 29) => configuration(e.data("Configuration")?, e.data("NewValue")?),
        (Family::SecurityAuditing, 4688) | (Family::Sysmon, 1) => command_line(e.data("CommandLine")?),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configuration_changes_of_the_logging_switches() {
        let off = configuration("/system.webServer/httpLogging/@dontLog", "true");
        assert_eq!(off, Some(Switch::Off));
        assert_eq!(configuration("/system.webServer/httpLogging/@dontLog", "False"), Some(Switch::On));
        let site = "/system.applicationHost/sites/site[@name='Shop']/logFile/@enabled";
        assert_eq!(configuration(site, "false"), Some(Switch::Off));
        // Other logging settings change where or how, not whether.
        assert_eq!(
            configuration("/system.applicationHost/sites/siteDefaults/logFile/@directory", "D:\\x"),
            None
        );
        assert_eq!(configuration("/system.webServer/httpLogging/@selectiveLogging", "LogError"), None);
    }

    #[test]
    fn appcmd_command_lines_that_switch_logging() {
        let appcmd = "C:\\Windows\\System32\\inetsrv\\appcmd.exe";
        let off = format!("{appcmd} set config /section:httpLogging /dontLog:True");
        assert_eq!(command_line(&off), Some(Switch::Off));
        let quoted = format!("{appcmd} set config -section:system.webServer/httpLogging /dontLog:\"false\"");
        assert_eq!(command_line(&quoted), Some(Switch::On));
        let site = format!("{appcmd} set site \"Default Web Site\" /logFile.enabled:false");
        assert_eq!(command_line(&site), Some(Switch::Off));
        // Listing, recycling, or another program with the same words.
        assert_eq!(command_line(&format!("{appcmd} list config /section:httpLogging")), None);
        assert_eq!(command_line("notepad.exe dontlog:true.txt"), None);
    }
}
