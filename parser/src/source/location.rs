//! Host and site identity from a bundle's folder structure, for evidence that
//! does not name them itself.

/// Folder names that are part of the standard IIS and Windows layout, never
/// host names.
fn is_structural(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    matches!(
        lower.as_str(),
        "inetpub"
            | "logfiles"
            | "httperr"
            | "failedreqlogfiles"
            | "windows"
            | "system32"
            | "winevt"
            | "logs"
            | "wwwroot"
            | "temp"
            | "history"
            | "c"
            | "c$"
            | "c_drive"
            | "d"
            | "d$"
            | "home"
            | "logfiles_http"
    ) || service_instance(&lower).is_some()
}

/// `W3SVC<n>`/`FTPSVC<n>` folder names; `Some(None)` for a bare `W3SVC`
/// (centralized logging).
fn service_instance(lower: &str) -> Option<Option<u32>> {
    let digits = lower.strip_prefix("w3svc").or_else(|| lower.strip_prefix("ftpsvc"))?;
    if digits.is_empty() {
        return Some(None);
    }
    digits.parse().ok().map(Some)
}

/// Markers that only appear at or below the host's folder in an export.
fn is_anchor(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    matches!(lower.as_str(), "inetpub" | "logfiles" | "httperr" | "failedreqlogfiles" | "windows" | "winevt")
        || service_instance(&lower).is_some()
}

/// The host a file belongs to, from its path: the folder just above the
/// first standard IIS/Windows folder (`WEB01/inetpub/...`,
/// `WEB01/HTTPERR/...`), else the folder holding the file
/// (`WEB01/System.evtx`). `None` for a bare file name.
pub fn host_from_path(components: &[String]) -> Option<String> {
    let dirs = components.split_last().map(|(_, d)| d)?;
    let before = match dirs.iter().position(|c| is_anchor(c)) {
        Some(i) => &dirs[..i],
        None => dirs,
    };
    let candidate = before.iter().rev().find(|c| !is_structural(c))?;
    let plausible = !candidate.is_empty()
        && candidate != "."
        && candidate != ".."
        && candidate != "/"
        && !candidate.ends_with(':');
    plausible.then(|| candidate.clone())
}

/// The IIS site id from a `W3SVC<n>` (or `FTPSVC<n>`) folder in the path.
pub fn site_from_path(components: &[String]) -> Option<u32> {
    components.iter().rev().skip(1).find_map(|c| service_instance(&c.to_ascii_lowercase()).flatten())
}

/// The site id from an `s-sitename` value such as `W3SVC3`.
pub fn site_from_service_name(name: &[u8]) -> Option<u32> {
    let lower = String::from_utf8_lossy(name).to_ascii_lowercase();
    service_instance(&lower).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(p: &str) -> Vec<String> {
        p.split('/').map(str::to_string).collect()
    }

    #[test]
    fn host_from_bundle_layouts() {
        assert_eq!(
            host_from_path(&parts("case/WEB01/inetpub/logs/LogFiles/W3SVC1/u_ex.log")).as_deref(),
            Some("WEB01")
        );
        assert_eq!(host_from_path(&parts("WEB02/HTTPERR/httperr1.log")).as_deref(), Some("WEB02"));
        assert_eq!(host_from_path(&parts("bundle/SQL01/System.evtx")).as_deref(), Some("SQL01"));
        assert_eq!(host_from_path(&parts("inetpub/logs/LogFiles/W3SVC1/u_ex.log")), None);
        assert_eq!(host_from_path(&parts("u_ex.log")), None);
        assert_eq!(
            host_from_path(&parts("WEB03/C/Windows/System32/winevt/Logs/System.evtx")).as_deref(),
            Some("WEB03")
        );
    }

    #[test]
    fn site_from_folders_and_names() {
        assert_eq!(site_from_path(&parts("WEB01/inetpub/logs/LogFiles/W3SVC12/u_ex.log")), Some(12));
        assert_eq!(site_from_path(&parts("WEB01/LogFiles/W3SVC/u_ex.log")), None);
        assert_eq!(site_from_service_name(b"W3SVC294197211"), Some(294_197_211));
        assert_eq!(site_from_service_name(b"Default Web Site"), None);
    }
}
