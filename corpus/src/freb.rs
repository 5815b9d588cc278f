//! Failed Request Tracing traces, shaped as IIS 10 writes them: the header,
//! `failedRequest` attributes one per line, and `Event` children with
//! `System`, `EventData`, `RenderingInfo` and `ExtendedTracingInfo`.

use std::fmt::Write as _;

const GENERAL: &str = "{D42CF7EF-DE92-473E-8B6C-621EA663113A}";
const NOTIFICATIONS: &str = "{002E91E3-E7AE-44AB-8E07-99230FFA6ADE}";

/// The request a trace describes.
#[derive(Clone, Debug)]
pub struct TraceSpec {
    /// `url` (scheme://host:port/path).
    pub url: String,
    /// `siteId`.
    pub site_id: u32,
    /// `appPoolId`.
    pub app_pool: String,
    /// `processId`.
    pub process_id: u32,
    /// `verb`.
    pub verb: String,
    /// Client address and port.
    pub client: (String, u16),
    /// Final status and sub-status.
    pub status: (u16, u32),
    /// `timeTaken` in milliseconds.
    pub time_taken_ms: u64,
    /// Start time, Unix milliseconds.
    pub start_ms: i64,
    /// The module that set the error status, its notification (number,
    /// name), and the HRESULT; `None` for a slow request.
    pub error: Option<(String, u32, String, u32)>,
    /// `ConfigExceptionInfo` for 500.19.
    pub config_exception: Option<String>,
    /// Computer name.
    pub computer: String,
    /// Activity id GUID text (with braces).
    pub activity_id: String,
    /// Further native modules the pipeline runs at BEGIN_REQUEST, after
    /// request filtering (a vendor's, or a backdoor's).
    pub modules: Vec<String>,
}

fn iso_ms(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (date, time) = crate::w3c::date_and_time(secs);
    format!("{date}T{time}.{:03}Z", ms.rem_euclid(1000))
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

struct Writer<'a> {
    out: String,
    spec: &'a TraceSpec,
}

impl Writer<'_> {
    #[allow(clippy::too_many_arguments)]
    fn event(
        &mut self,
        opcode: u16,
        level: u8,
        keywords: u64,
        ms: i64,
        name: &str,
        data: &[(&str, String)],
        descriptions: &[(&str, String)],
        class: &str,
    ) {
        let s = self.spec;
        let _ = write!(
            self.out,
            "<Event xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\">\n <System>\n  <Provider Name=\"WWW Server\" Guid=\"{{3A2A4E84-4C21-4981-AE10-3FDA0D9B0F83}}\"/>\n  <EventID>0</EventID>\n  <Version>1</Version>\n  <Level>{level}</Level>\n  <Opcode>{opcode}</Opcode>\n  <Keywords>0x{keywords:x}</Keywords>\n  <TimeCreated SystemTime=\"{}\"/>\n  <Correlation ActivityID=\"{}\"/>\n  <Execution ProcessID=\"{}\" ThreadID=\"{}\"/>\n  <Computer>{}</Computer>\n </System>\n <EventData>\n  <Data Name=\"ContextId\">{}</Data>\n",
            iso_ms(ms),
            s.activity_id,
            s.process_id,
            s.process_id + 37,
            s.computer,
            s.activity_id
        );
        for (k, v) in data {
            let _ = writeln!(self.out, "  <Data Name=\"{k}\">{}</Data>", xml_escape(v));
        }
        let _ = write!(
            self.out,
            " </EventData>\n <RenderingInfo Culture=\"en-US\">\n  <Opcode>{name}</Opcode>\n"
        );
        if keywords == 0x100 {
            self.out.push_str("  <Keywords>\n   <Keyword>RequestNotifications</Keyword>\n  </Keywords>\n");
        }
        for (k, v) in descriptions {
            let _ =
                writeln!(self.out, "  <freb:Description Data=\"{k}\">{}</freb:Description>", xml_escape(v));
        }
        let _ = write!(
            self.out,
            " </RenderingInfo>\n <ExtendedTracingInfo xmlns=\"http://schemas.microsoft.com/win/2004/08/events/trace\">\n  <EventGuid>{class}</EventGuid>\n </ExtendedTracingInfo>\n</Event>\n"
        );
    }
}

/// Writes one trace document.
pub fn write_trace(spec: &TraceSpec) -> String {
    let status = if spec.status.1 == 0 {
        spec.status.0.to_string()
    } else {
        format!("{}.{}", spec.status.0, spec.status.1)
    };
    let (reason, trigger) = match spec.error {
        Some(_) => ("STATUS_CODE", spec.status.0.to_string()),
        None => ("TIME_TAKEN", "0".to_string()),
    };
    let mut w = Writer { out: String::with_capacity(16 * 1024), spec };
    let _ = write!(
        w.out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<?xml-stylesheet type='text/xsl' href='freb.xsl'?>\n<failedRequest url=\"{}\"\n               siteId=\"{}\"\n               appPoolId=\"{}\"\n               processId=\"{}\"\n               verb=\"{}\"\n               remoteUserName=\"\"\n               userName=\"\"\n               tokenUserName=\"IIS APPPOOL\\{}\"\n               authenticationType=\"anonymous\"\n               activityId=\"{}\"\n               failureReason=\"{reason}\"\n               statusCode=\"{status}\"\n               triggerStatusCode=\"{trigger}\"\n               timeTaken=\"{}\"\n               xmlns:freb=\"http://schemas.microsoft.com/win/2006/06/iis/freb\"\n               >\n",
        xml_escape(&spec.url),
        spec.site_id,
        spec.app_pool,
        spec.process_id,
        spec.verb,
        spec.app_pool,
        spec.activity_id,
        spec.time_taken_ms
    );
    let t0 = spec.start_ms;
    let end = t0 + spec.time_taken_ms as i64;
    let path = spec.url.splitn(4, '/').nth(3).map_or_else(|| "/".to_string(), |p| format!("/{p}"));
    w.event(
        1,
        0,
        0,
        t0,
        "GENERAL_REQUEST_START",
        &[
            ("SiteId", spec.site_id.to_string()),
            ("AppPoolId", spec.app_pool.clone()),
            ("ConnId", "1610612958".into()),
            ("RawConnId", "0".into()),
            ("RequestURL", spec.url.clone()),
            ("RequestVerb", spec.verb.clone()),
        ],
        &[],
        GENERAL,
    );
    w.event(
        50,
        4,
        0,
        t0,
        "GENERAL_ENDPOINT_INFORMATION",
        &[
            ("RemoteAddress", spec.client.0.clone()),
            ("RemotePort", spec.client.1.to_string()),
            ("LocalAddress", "10.0.1.160".into()),
            ("LocalPort", "443".into()),
        ],
        &[],
        GENERAL,
    );
    let mut stages: Vec<(u32, &str, &str)> = vec![
        (1, "BEGIN_REQUEST", "RequestFilteringModule"),
        (2, "AUTHENTICATE_REQUEST", "AnonymousAuthenticationModule"),
        (16, "MAP_REQUEST_HANDLER", "IIS Web Core"),
        (128, "EXECUTE_REQUEST_HANDLER", "ManagedPipelineHandler"),
    ];
    for (i, m) in spec.modules.iter().enumerate() {
        stages.insert(1 + i, (1, "BEGIN_REQUEST", m.as_str()));
    }
    let step = (spec.time_taken_ms as i64 / 6).max(0);
    let mut now = t0;
    for (n, (number, name, module)) in stages.iter().enumerate() {
        let start = now;
        let last = n + 1 == stages.len();
        now += if last { step * 3 } else { step / 3 };
        w.event(
            1,
            5,
            0x100,
            start,
            "NOTIFY_MODULE_START",
            &[
                ("ModuleName", (*module).into()),
                ("Notification", number.to_string()),
                ("fIsPostNotification", "false".into()),
            ],
            &[("Notification", (*name).into())],
            NOTIFICATIONS,
        );
        if let Some((emodule, enumber, ename, hresult)) = &spec.error
            && enumber == number
        {
            w.event(
                16,
                3,
                0x100,
                now,
                "MODULE_SET_RESPONSE_ERROR_STATUS",
                &[
                    ("ModuleName", emodule.clone()),
                    ("Notification", enumber.to_string()),
                    ("HttpStatus", spec.status.0.to_string()),
                    ("HttpReason", "Internal Server Error".into()),
                    ("HttpSubStatus", spec.status.1.to_string()),
                    ("ErrorCode", hresult.to_string()),
                    ("ConfigExceptionInfo", spec.config_exception.clone().unwrap_or_default()),
                ],
                &[("Notification", ename.clone()), ("ErrorCode", format!("(0x{hresult:08x})"))],
                NOTIFICATIONS,
            );
        }
        w.event(
            2,
            5,
            0x100,
            now,
            "NOTIFY_MODULE_END",
            &[
                ("ModuleName", (*module).into()),
                ("Notification", number.to_string()),
                ("fIsPostNotificationEvent", "false".into()),
                ("NotificationStatus", "0".into()),
            ],
            &[("Notification", (*name).into()), ("NotificationStatus", "NOTIFICATION_CONTINUE".into())],
            NOTIFICATIONS,
        );
    }
    if spec.error.is_some() {
        w.event(
            31,
            4,
            0,
            end,
            "GENERAL_RESPONSE_ENTITY_BUFFER",
            &[("Buffer", format!("<h1>HTTP Error {status}</h1><p>{path}</p>"))],
            &[],
            GENERAL,
        );
    }
    w.event(
        2,
        0,
        0,
        end,
        "GENERAL_REQUEST_END",
        &[
            ("BytesSent", "1234".into()),
            ("BytesReceived", "456".into()),
            ("HttpStatus", spec.status.0.to_string()),
            ("HttpSubStatus", spec.status.1.to_string()),
        ],
        &[],
        GENERAL,
    );
    w.out.push_str("</failedRequest>\n");
    w.out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trace_is_well_formed_and_names_its_error() {
        let spec = TraceSpec {
            url: "https://shop.example.com:443/api/orders?x=1&y=2".into(),
            site_id: 1,
            app_pool: "ShopPool".into(),
            process_id: 4242,
            verb: "GET".into(),
            client: ("203.0.113.7".into(), 50123),
            status: (500, 19),
            time_taken_ms: 31,
            start_ms: 1_763_996_400_000,
            error: Some(("IIS Web Core".into(), 1, "BEGIN_REQUEST".into(), 0x8007_000D)),
            config_exception: Some(
                "\\\\?\\C:\\inetpub\\shop\\web.config ( 12) :Unrecognized configuration section rewrite."
                    .into(),
            ),
            computer: "WEB01".into(),
            activity_id: "{80000012-0001-F700-B63F-84710C7967BB}".into(),
            modules: vec!["SharedModule".into()],
        };
        let xml = write_trace(&spec);
        assert!(xml.contains("statusCode=\"500.19\""));
        assert!(xml.contains("<Opcode>MODULE_SET_RESPONSE_ERROR_STATUS</Opcode>"));
        assert!(xml.contains("x=1&amp;y=2"));
        assert!(xml.contains("<Data Name=\"ModuleName\">SharedModule</Data>"));
        assert!(xml.ends_with("</failedRequest>\n"));
    }
}
