//! Modules in the request pipeline that neither Microsoft nor a widely
//! deployed vendor ships: how an IIS backdoor (a native module that sees
//! every request, IIS-Raid and its kin) shows in a Failed Request Tracing
//! trace, which names every module that ran (`NOTIFY_MODULE_START`).
//!
//! No rule can say this: it takes a list of what is normal and the order of
//! the trace's events (a managed module runs ASP.NET's pipeline steps inside
//! its notification; a native one does not).

use faultline_parser::Trace;

/// Modules IIS 7-10, ASP.NET, Microsoft's IIS add-ons and Azure App Service
/// register, and vendor modules common on real servers (compared without
/// case).
const KNOWN: &[&str] = &[
    // IIS's own native modules (applicationHost.config `globalModules`).
    "IIS Web Core",
    "HttpLoggingModule",
    "CustomLoggingModule",
    "UriCacheModule",
    "FileCacheModule",
    "TokenCacheModule",
    "HttpCacheModule",
    "DynamicCompressionModule",
    "StaticCompressionModule",
    "DefaultDocumentModule",
    "DirectoryListingModule",
    "ProtocolSupportModule",
    "HttpRedirectionModule",
    "ServerSideIncludeModule",
    "StaticFileModule",
    "AnonymousAuthenticationModule",
    "BasicAuthenticationModule",
    "DigestAuthenticationModule",
    "WindowsAuthenticationModule",
    "CertificateMappingAuthenticationModule",
    "IISCertificateMappingAuthenticationModule",
    "UrlAuthorizationModule",
    "IpRestrictionModule",
    "DynamicIpRestrictionModule",
    "RequestFilteringModule",
    "CustomErrorModule",
    "IsapiFilterModule",
    "IsapiModule",
    "CgiModule",
    "FastCgiModule",
    "FailedRequestsTracingModule",
    "TracingModule",
    "RequestMonitorModule",
    "WebDAVModule",
    "ConfigurationValidationModule",
    "ApplicationInitializationModule",
    "AppWarmupModule",
    "WebSocketModule",
    "CorsModule",
    "ManagedEngine",
    "ManagedEngine64",
    "ManagedEngineV4.0_32bit",
    "ManagedEngineV4.0_64bit",
    "ManagedPipelineHandler",
    "WebMatrixSupportModule",
    // Microsoft's add-ons: URL Rewrite, ARR, ANCM, HttpPlatformHandler,
    // Advanced Logging, iisnode.
    "RewriteModule",
    "ApplicationRequestRouting",
    "ARRHelper",
    "AspNetCoreModule",
    "AspNetCoreModuleV2",
    "httpPlatformHandler",
    "AdvancedLoggingModule",
    "iisnode",
    // Azure App Service's front end.
    "DWASModule",
    "AspNetFilterModule",
    "EasyAuthModule_32bit",
    "EasyAuthModule_64bit",
    // ASP.NET's built-in managed modules.
    "OutputCache",
    "Session",
    "WindowsAuthentication",
    "FormsAuthentication",
    "DefaultAuthentication",
    "RoleManager",
    "UrlAuthorization",
    "FileAuthorization",
    "AnonymousIdentification",
    "Profile",
    "UrlMappingsModule",
    "ServiceModel",
    "ServiceModel-4.0",
    "UrlRoutingModule",
    "UrlRoutingModule-4.0",
    "ScriptModule",
    "ScriptModule-4.0",
    // Vendors seen on real servers: ModSecurity, CA SiteMinder.
    "ModSecurity IIS (32bits)",
    "ModSecurity IIS (64bits)",
    "CASiteMinderWebagentModule",
];

/// Whether a module name is a known one (ASP.NET's generated
/// `__DynamicModule_` registrations by prefix).
fn known(name: &str) -> bool {
    name.starts_with("__DynamicModule_") || KNOWN.iter().any(|k| k.eq_ignore_ascii_case(name))
}

/// A module outside the known set, as one trace shows it.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Unknown<'t> {
    /// Its name as registered.
    pub(super) name: &'t str,
    /// The trace proves it native: ASP.NET's pipeline steps are traced
    /// (`AspNetPipelineEnter`), and none ran inside this module.
    pub(super) native: bool,
    /// The line of its first `NOTIFY_MODULE_START`.
    pub(super) line: u64,
}

/// The unknown modules of a trace, each once, in the order they first ran.
pub(super) fn unknown_modules(trace: &Trace) -> Vec<Unknown<'_>> {
    let mut unknown: Vec<Unknown<'_>> = Vec::new();
    let mut managed: Vec<&str> = Vec::new();
    let mut aspnet_traced = false;
    // Notifications nest (a child request inside a module's): the
    // innermost running module is the one ASP.NET's steps belong to.
    let mut running: Vec<&str> = Vec::new();
    for e in &trace.events {
        match e.name.as_deref() {
            Some("NOTIFY_MODULE_START") => {
                let name = e.data("ModuleName").unwrap_or_default();
                running.push(name);
                if !name.is_empty() && !known(name) && !unknown.iter().any(|u| u.name == name) {
                    unknown.push(Unknown { name, native: false, line: e.line });
                }
            }
            Some("NOTIFY_MODULE_END") => {
                running.pop();
            }
            Some("AspNetPipelineEnter") => {
                aspnet_traced = true;
                managed.extend(running.last());
            }
            _ => {}
        }
    }
    for u in &mut unknown {
        u.native = aspnet_traced && !managed.contains(&u.name);
    }
    unknown
}

#[cfg(test)]
mod tests {
    use super::*;
    use faultline_parser::freb::parse_freb;

    fn event(provider: &str, name: &str, data: &str) -> String {
        format!(
            "<Event xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\"><System><Provider Name=\"{provider}\"/><EventID>0</EventID><Opcode>1</Opcode><TimeCreated SystemTime=\"2025-11-24T13:00:00.000Z\"/></System><EventData>{data}</EventData><RenderingInfo Culture=\"en-US\"><Opcode>{name}</Opcode></RenderingInfo></Event>\n"
        )
    }

    fn module(name: &str, start: bool) -> String {
        let which = if start { "NOTIFY_MODULE_START" } else { "NOTIFY_MODULE_END" };
        event("WWW Server", which, &format!("<Data Name=\"ModuleName\">{name}</Data>"))
    }

    fn aspnet_step() -> String {
        event("ASPNET", "AspNetPipelineEnter", "<Data Name=\"Data1\">Contoso.Web.AuditModule</Data>")
    }

    fn doc(events: &str) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<failedRequest url=\"http://x:80/a.aspx\" siteId=\"1\" appPoolId=\"Shop\" verb=\"GET\" statusCode=\"500\">\n{events}</failedRequest>\n"
        )
    }

    /// A trace whose pipeline runs `modules` in order; `(name, managed)`:
    /// a managed one runs an ASP.NET pipeline step inside its notification.
    fn trace(modules: &[(&str, bool)], aspnet: bool) -> String {
        let mut events = String::new();
        for (name, is_managed) in modules {
            events.push_str(&module(name, true));
            if *is_managed && aspnet {
                events.push_str(&aspnet_step());
            }
            events.push_str(&module(name, false));
        }
        doc(&events)
    }

    fn unknown(xml: &str) -> Vec<(String, bool)> {
        let t = parse_freb(xml.as_bytes()).trace;
        unknown_modules(&t).into_iter().map(|u| (u.name.to_string(), u.native)).collect()
    }

    #[test]
    fn a_module_outside_the_known_set_is_named_and_proven_native_when_aspnet_is_traced() {
        let pipeline = [
            ("RequestFilteringModule", false),
            ("SharedModule", false),
            ("Session", true),
            ("AuditModule", true),
            ("SharedModule", false),
        ];
        assert_eq!(
            unknown(&trace(&pipeline, true)),
            [("SharedModule".to_string(), true), ("AuditModule".to_string(), false)]
        );
        // Without ASP.NET's steps in the trace nothing proves either kind.
        assert_eq!(
            unknown(&trace(&pipeline, false)),
            [("SharedModule".to_string(), false), ("AuditModule".to_string(), false)]
        );
    }

    #[test]
    fn a_step_after_a_nested_notification_belongs_to_the_outer_module() {
        // AuditModule's notification runs a child request's module, then
        // ASP.NET's step: AuditModule is managed, not native.
        let events = [
            module("RequestFilteringModule", true),
            aspnet_step(),
            module("RequestFilteringModule", false),
            module("AuditModule", true),
            module("StaticFileModule", true),
            module("StaticFileModule", false),
            aspnet_step(),
            module("AuditModule", false),
        ]
        .concat();
        assert_eq!(unknown(&doc(&events)), [("AuditModule".to_string(), false)]);
    }

    #[test]
    fn microsofts_and_common_vendor_modules_are_not_unknown() {
        let pipeline = [
            ("IIS Web Core", false),
            ("rewritemodule", false),
            ("AspNetCoreModuleV2", false),
            ("ModSecurity IIS (64bits)", false),
            ("ScriptModule-4.0", true),
            ("__DynamicModule_System.Web.WebPages.WebPageHttpModule_1a2b", true),
        ];
        assert!(unknown(&trace(&pipeline, true)).is_empty());
    }
}
