//! The Windows events the detectors ask for, by name: a provider family and
//! an event id. Every kind here must be one the parser's catalogue keeps
//! (a test checks it), or the question could never be answered.

use faultline_parser::winevent::Family;

use crate::evidence::EventKind;

macro_rules! kinds {
    ($($(#[$doc:meta])* $name:ident = [$($family:ident $id:literal),+ $(,)?];)+) => {
        $($(#[$doc])* pub const $name: &[EventKind] = &[$(EventKind::new(Family::$family, $id)),+];)+

        /// Every list above.
        #[cfg(test)]
        const ALL: &[&[EventKind]] = &[$($name),+];
    };
}

kinds! {
    /// WAS 5002: rapid-fail protection disabled a pool.
    POOL_DISABLED = [Was 5002];
    /// WAS 5009 (terminated unexpectedly), 5011 (fatal communication error),
    /// 5012 (failed to respond in time): a worker failed.
    WORKER_FAILED = [Was 5009, Was 5011, Was 5012];
    /// WAS 5009 and 5011: a worker died.
    WORKER_DIED = [Was 5009, Was 5011];
    /// WAS 5010: a worker failed its health ping and was killed.
    WORKER_PING_FAILED = [Was 5010];
    /// WAS 5172 and 5189: the configuration store could not be read.
    CONFIG_STORE_BROKEN = [Was 5172, Was 5189];
    /// W3SVC-WP 2297 and 2307, WAS 5203: a worker could not read its
    /// configuration (its pool's generated file, the global modules) and
    /// aborted its start.
    WORKER_CONFIG_UNREADABLE = [W3svcWp 2297, W3svcWp 2307, Was 5203];
    /// WAS 5021, 5057, 5059: a pool's identity is invalid; the pool is disabled.
    POOL_IDENTITY_INVALID = [Was 5021, Was 5057, Was 5059];
    /// WAS 5074, 5075, 5076: periodic, request-count and scheduled recycles.
    RECYCLE_SCHEDULED = [Was 5074, Was 5075, Was 5076];
    /// WAS 5077 and 5117: recycles on the private or virtual memory limit.
    RECYCLE_MEMORY_LIMIT = [Was 5077, Was 5117];
    /// WAS 5078: a recycle because the worker reported itself unhealthy.
    RECYCLE_UNHEALTHY = [Was 5078];
    /// WAS 5079: a recycle on request.
    RECYCLE_ON_DEMAND = [Was 5079];
    /// WAS 5080: a recycle because the pool's configuration changed.
    RECYCLE_CONFIG_CHANGE = [Was 5080];
    /// WAS 5186: an idle-timeout shutdown.
    RECYCLE_IDLE_TIMEOUT = [Was 5186];
    /// WAS 5013: a worker shutting down (a recycle, a stop) outlived the
    /// pool's shutdownTimeLimit and was killed with its requests.
    SHUTDOWN_TIME_LIMIT = [Was 5013];
    /// W3SVC-WP 2299, 2262, 2263: why a worker called itself unhealthy.
    WORKER_UNHEALTHY = [W3svcWp 2299, W3svcWp 2262, W3svcWp 2263];
    /// W3SVC-WP 2280, 2282, 2293, 2295, 2296: the worker could not load a
    /// native module (missing, wrong bitness) or it would not register;
    /// 2294: it could not preload the .NET runtime its pool names. Each
    /// stops the worker's start.
    MODULE_LOAD_FAILED =
        [W3svcWp 2280, W3svcWp 2282, W3svcWp 2293, W3svcWp 2295, W3svcWp 2296, W3svcWp 2294];
    /// W3SVC-WP 2276 (failed to initialize), 2277 (process model host),
    /// 2278 (request processing), 2279 (a protocol's queue), 2281
    /// (communication with W3SVC), 2269 (HTTP.sys communication): a worker
    /// did not start, for a reason its binary data holds.
    WORKER_START_FAILED = [W3svcWp 2276, W3svcWp 2277, W3svcWp 2278, W3svcWp 2279, W3svcWp 2281, W3svcWp 2269];
    /// W3SVC-WP 2214 and 2274 (the other processor architecture): an ISAPI
    /// filter did not load; 2220: an ISAPI extension did not load. The
    /// worker stays up and fails the requests that need them.
    FILTER_LOAD_FAILED = [W3svcWp 2214, W3svcWp 2274, W3svcWp 2220];
    /// W3SVC-WP 2268: a site's start was aborted because its ISAPI filters
    /// did not all load.
    SITE_FILTERS_ABORTED = [W3svcWp 2268];
    /// W3SVC 1004 and 1007: a site's URL could not be registered with HTTP.sys.
    SITE_URL_CONFLICT = [W3svc 1004, W3svc 1007];
    /// HttpEvent 15005: HTTP.sys could not bind to an address.
    HTTP_BIND_FAILED = [HttpEvent 15005];
    /// HttpEvent 15000-15002 and 15011-15013: HTTP.sys could not write its logs.
    HTTP_LOG_WRITE_FAILED = [
        HttpEvent 15000, HttpEvent 15001, HttpEvent 15002, HttpEvent 15011, HttpEvent 15012, HttpEvent 15013,
    ];
    /// Srv 2013: a disk is at or near capacity.
    DISK_NEAR_CAPACITY = [Srv 2013];
    /// Kerberos 4 (on a client): KRB_AP_ERR_MODIFIED, a service could not
    /// decrypt the ticket it was sent.
    KERBEROS_TICKET_UNREADABLE = [Kerberos 4];
    /// Schannel 36870 and 36869: a certificate's private key could not be used.
    TLS_KEY_UNREADABLE = [Schannel 36870, Schannel 36869];
    /// Schannel 36874, 36888, 36887: handshakes failed.
    TLS_HANDSHAKE_FAILED = [Schannel 36874, Schannel 36888, Schannel 36887];
    /// HttpEvent 15021: HTTP.sys could not use an endpoint's SSL
    /// configuration (its certificate missing or unusable).
    SSL_BINDING_UNUSABLE = [HttpEvent 15021];
    /// HttpEvent 15300 and 15301: an endpoint's SSL certificate settings
    /// were deleted or created (a binding changed).
    SSL_BINDING_CHANGED = [HttpEvent 15300, HttpEvent 15301];
    /// Tcpip 4227 and 4231: ephemeral ports ran out.
    PORTS_EXHAUSTED = [Tcpip 4227, Tcpip 4231];
    /// EventLog 104 and 1102: an event log was cleared.
    LOG_CLEARED = [EventLog 104, EventLog 1102];
    /// IIS-Configuration 29: a configuration setting changed.
    IIS_CONFIG_CHANGED = [IisConfiguration 29];
    /// Security 4688 and Sysmon 1: a process started.
    PROCESS_STARTED = [SecurityAuditing 4688, Sysmon 1];
    /// EventLog 6005: the event log service started (the machine booted).
    BOOTED = [EventLog 6005];
    /// EventLog 6011: the machine's NetBIOS and DNS names were changed.
    RENAMED = [EventLog 6011];
    /// EventLog 6009 (the OS version, logged at boot) and Kernel-General 12
    /// (the operating system started): a boot. Not 6005, which the event
    /// log service writes whenever it starts.
    BOOT_MARKS = [EventLog 6009, KernelGeneral 12];
    /// Service Control Manager 7036: a service entered the running or
    /// stopped state (the catalogue keeps those of IIS, SQL Server and the
    /// event log).
    SERVICE_CHANGED = [ServiceControlManager 7036];
    /// Service Control Manager 7045: a service was installed.
    SERVICE_INSTALLED = [ServiceControlManager 7045];
    /// User32 1074 (a planned restart), EventLog 6006 (clean stop) and 6008
    /// (unexpected stop), Kernel-Power 41 (the system rebooted without a clean
    /// shutdown).
    SHUT_DOWN = [User32 1074, EventLog 6006, EventLog 6008, KernelPower 41];
    /// ANCM events that mean the application did not start: in-process
    /// start failures (1007, 1011, 1018 with one of those, 1035), the shim's
    /// (1010, 1027, 1031), handler and hosting-model errors (1008, 1009, 1028,
    /// 1029, 1034), out-of-process start failures (1020; 1000 from ANCM v1)
    /// and the rapid-fail cut-off (1003).
    ANCM_START_FAILED = [
        Ancm 1000, Ancm 1003, Ancm 1007, Ancm 1008, Ancm 1009, Ancm 1010, Ancm 1011, Ancm 1018, Ancm 1020,
        Ancm 1027, Ancm 1028, Ancm 1029, Ancm 1031, Ancm 1034, Ancm 1035,
    ];
    /// ANCM 1032 (in-process app started) and 1001 (out-of-process backend
    /// started and listening).
    ANCM_STARTED = [Ancm 1032, Ancm 1001];
    /// ZipFS 0: App Service's run-from-package file system reporting on the
    /// site's package (it writes only when something fails).
    PACKAGE_MOUNT = [ZipFs 0];
    /// iisnode's log: node.exe ended on an uncaught exception (read from
    /// `logging-errors.txt`).
    NODE_APP_CRASHED = [Iisnode 1000];
    /// Where a failed deployment shows: a request Kudu (App Service's
    /// deployment site) traced because it was slow or failed, and ASP.NET
    /// 1309 for an exception Kudu (an ASP.NET app on the `.scm.` site) threw
    /// on one.
    DEPLOYMENT_REPORTS = [Kudu 1, AspNet 1309];
    /// ANCM 1012: app_offline.htm took the application offline.
    APP_OFFLINE = [Ancm 1012];
    /// ANCM 1005: the application did not shut down within the time limit
    /// ("Failed to gracefully shutdown application").
    ANCM_UNGRACEFUL = [Ancm 1005];
    /// ANCM 1033: the application shut down (a restart, a recycle).
    ANCM_SHUT_DOWN = [Ancm 1033];
    /// ANCM's starts (1032, 1001) and shutdowns (1033) of an application:
    /// a site cycling through them.
    ANCM_CYCLE = [Ancm 1032, Ancm 1001, Ancm 1033];
    /// ANCM stopping an application: it shut down (1033), or app_offline.htm
    /// took it offline (1012).
    ANCM_STOPPED = [Ancm 1033, Ancm 1012];
    /// Application Error 1000: a process faulted.
    APPLICATION_FAULT = [ApplicationError 1000];
    /// .NET Runtime 1026 (an unhandled exception ended the process) and
    /// ASP.NET 1325 (an unhandled exception ended the application's process).
    RUNTIME_TERMINATED = [DotNetRuntime 1026, AspNet 1325];
    /// .NET Runtime 1026 alone.
    DOTNET_TERMINATED = [DotNetRuntime 1026];
    /// ASP.NET 1309: an unhandled exception in a request.
    ASPNET_REQUEST_FAILED = [AspNet 1309];
    /// ASP.NET 1310: a web error event (parser, compilation or configuration
    /// error of the application).
    ASPNET_WEB_ERROR = [AspNet 1310];
    /// .NET Runtime 1000: what the ASP.NET Core event-log logger writes
    /// (category, event id, message and exception in one text).
    APP_LOGGER = [DotNetRuntime 1000];
    /// Where an application reports its errors: ASP.NET 1309, the ASP.NET
    /// Core logger (.NET Runtime 1000) and process-ending exceptions (.NET
    /// Runtime 1026).
    APP_ERRORS = [AspNet 1309, DotNetRuntime 1000, DotNetRuntime 1026];
    /// Windows Error Reporting 1001: a fault report (names the dump).
    ERROR_REPORT = [WindowsErrorReporting 1001];
    /// Resource-Exhaustion-Detector 2004: virtual memory ran low.
    LOW_MEMORY = [ResourceExhaustion 2004];
    /// SQL Server 18456: a login failed.
    SQL_LOGIN_FAILED = [SqlServer 18456];
    /// Kernel-General 1 (the clock was set) and Security 4616 (the system
    /// time was changed); the parser keeps steps of two minutes or more.
    CLOCK_SET = [KernelGeneral 1, SecurityAuditing 4616];
    /// Windows Time 35 (synchronizing from a source) and 52 (the clock set
    /// by an offset).
    TIME_SERVICE_SET = [TimeService 35, TimeService 52];
    /// Security 4624: a logon.
    LOGON = [SecurityAuditing 4624];
    /// Security 4625: a failed logon.
    LOGON_FAILED = [SecurityAuditing 4625];
}

#[cfg(test)]
mod tests {
    use faultline_parser::winevent::keeps;

    use super::*;

    /// A detector asking for a kind the parser never keeps would never
    /// match (the crash detector once asked for .NET Runtime 1325).
    #[test]
    fn every_kind_is_kept_by_the_parsers_catalogue() {
        for kind in ALL.iter().flat_map(|k| k.iter()) {
            assert!(keeps(kind.family, kind.id), "{kind:?} is never kept");
        }
    }
}
