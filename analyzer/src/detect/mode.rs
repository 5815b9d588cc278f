//! The failure-mode catalogue: every root cause faultline names, with its
//! stable id (a public contract: scripts key on it, so an id is never
//! renamed), its category, its title and what to do about it. A mode is
//! declared once, here; the table below will not compile without all four.

use serde::{Serialize, Serializer};

/// Where the assumption that stopped holding lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    /// The application or its runtime integration failed (crash, startup
    /// failure, hang, module).
    Runtime,
    /// An identity lacks a right it silently had before (files, keys, SQL,
    /// logon).
    Permission,
    /// A protocol-level mismatch (TLS, bindings, authentication schemes,
    /// limits, rewrites).
    Protocol,
    /// IIS or HTTP.sys owns something the application assumed it owned
    /// (configuration, queue, sockets, ports).
    Boundary,
    /// Errors that appear only under load.
    Capacity,
    /// Planned or operator actions (recycles, deployments, restarts, reboots).
    Operations,
    /// The evidence itself is missing or damaged.
    Evidence,
    /// Errors no known failure mode explains.
    Unexplained,
}

impl Category {
    /// The lower-case name used in output.
    pub fn name(self) -> &'static str {
        match self {
            Category::Runtime => "runtime",
            Category::Permission => "permission",
            Category::Protocol => "protocol",
            Category::Boundary => "boundary",
            Category::Capacity => "capacity",
            Category::Operations => "operations",
            Category::Evidence => "evidence",
            Category::Unexplained => "unexplained",
        }
    }
}

macro_rules! failure_modes {
    ($(
        $(#[$doc:meta])*
        $variant:ident => $id:literal, $category:ident, $title:literal, [$($fix:literal),+ $(,)?];
    )+) => {
        /// A root cause faultline can name. Serialized as its stable id.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum FailureMode {
            $($(#[$doc])* $variant,)+
        }

        impl FailureMode {
            /// Every mode, in catalogue order.
            pub const ALL: &'static [FailureMode] = &[$(FailureMode::$variant),+];

            /// The stable id (`worker-crash`).
            pub const fn id(self) -> &'static str {
                match self {
                    $(FailureMode::$variant => $id,)+
                }
            }

            /// Where the broken assumption lives.
            pub const fn category(self) -> Category {
                match self {
                    $(FailureMode::$variant => Category::$category,)+
                }
            }

            /// One line saying what failed.
            pub const fn title(self) -> &'static str {
                match self {
                    $(FailureMode::$variant => $title,)+
                }
            }

            /// What to do, in order. A detector with more specific evidence
            /// may give its own steps instead.
            pub const fn remediation(self) -> &'static [&'static str] {
                match self {
                    $(FailureMode::$variant => &[$($fix),+],)+
                }
            }
        }
    };
}

failure_modes! {
    /// A w3wp worker died (WAS 5011/5009) and took its in-flight requests with it.
    WorkerCrash => "worker-crash", Runtime,
        "Worker process crashed; in-flight requests abandoned",
        [
            "Read the exception in .NET Runtime 1026 / Application Error 1000 and the WER report (dump path \
                in WER 1001).",
            "Catch and log exceptions on background threads and timers; avoid async void.",
            "Capture a crash dump (ProcDump or WER LocalDumps) if the exception is native.",
        ];
    /// Repeated worker failures made WAS disable the pool (5002).
    RapidFailProtection => "rapid-fail-protection", Runtime,
        "Rapid-fail protection disabled the app pool; HTTP.sys answers 503",
        [
            "Find why the worker keeps dying (see the worker-crash findings) and fix that first.",
            "Start the application pool (Start-WebAppPool or IIS Manager) once the cause is fixed.",
            "Consider rapidFailProtection settings and an alert on WAS 5002.",
        ];
    /// A pool was stopped deliberately (HTTP.sys 503 Disabled, no failure before).
    PoolStopped => "pool-stopped", Operations,
        "App pool, site or service stopped by an operator, script or iisreset",
        [
            "Find who stopped it (IIS Manager, appcmd, PowerShell, deployment scripts; Security 4688 if \
                process auditing is on).",
            "Start the pool, and keep autoStart on.",
        ];
    /// A periodic, request-count or scheduled recycle that cut requests.
    RecycleScheduled => "recycle-scheduled", Operations,
        "Periodic, scheduled or request-count recycle",
        [
            "If the recycle hurts, schedule it outside business hours (recycling/periodicRestart/schedule) \
                and enable overlapped recycling.",
        ];
    /// Recycles on the private or virtual memory limit: a leak.
    RecycleMemoryLimit => "recycle-memory-limit", Capacity,
        "Recycle on private/virtual memory limit",
        [
            "Capture memory dumps as private bytes grow (DebugDiag leak rule) and find what holds memory.",
            "Raise the limit only as a stop-gap; schedule recycles off-peak meanwhile.",
        ];
    /// A recycle because the pool's configuration changed.
    RecycleConfigChange => "recycle-config-change", Operations,
        "Recycle or restart caused by a configuration or web.config change",
        ["Change pool settings outside busy hours, or set disallowRotationOnConfigChange."];
    /// An idle-timeout shutdown.
    RecycleIdleTimeout => "recycle-idle-timeout", Operations,
        "Idle-timeout shutdown; next requests pay the cold start",
        [
            "Set processModel/@idleTimeout to 0 or use AlwaysRunning with Application Initialization for \
                latency-sensitive apps.",
        ];
    /// A recycle an administrator or a tool asked for.
    RecycleOnDemand => "recycle-on-demand", Operations,
        "Recycle or restart on request (an admin, a tool, a deployment or the platform)",
        ["Check who recycled it (IIS Manager, appcmd, scripts, deployment tools)."];
    /// The worker reported itself unhealthy.
    RecycleUnhealthy => "recycle-unhealthy", Runtime,
        "Worker reported itself unhealthy or exceeded the shutdown time limit",
        ["Find why the application reports itself unhealthy (W3SVC-WP 2299/2262 name the reason)."];
    /// The worker stopped answering WAS's health ping (5010) while requests piled up.
    WorkerHang => "worker-hang", Runtime,
        "Worker hung or starved; ping failure; requests pile up",
        [
            "Take a memory dump of w3wp when time-taken climbs (DebugDiag, ProcDump -h) and look for blocked \
                threads (sync-over-async, locks, slow dependencies).",
            "Check downstream calls' timeouts; do not block on async code.",
            "Keep pingInterval/pingResponseTime at defaults so a hung worker is replaced.",
        ];
    /// HTTP.sys turned requests away with 503 QueueFull or ConnLimit under load.
    RequestQueueFull => "request-queue-full", Capacity,
        "HTTP.sys queue or concurrency limit reached under load",
        [
            "Add capacity (servers, queueLength) or shed load upstream.",
            "Check what sent the burst (clients, retries, bots).",
        ];
    /// Outbound ephemeral ports ran out (Tcpip 4227/4231).
    PortExhaustion => "port-exhaustion", Capacity,
        "Outbound ephemeral port exhaustion; downstream calls fail",
        [
            "Reuse connections: one HttpClient per process, connection pooling on for SQL.",
            "Widen the dynamic port range only as a stop-gap.",
        ];
    /// 500s set before the application's own code ran (FREB names the module).
    AppInitFailure => "app-init-failure", Runtime,
        "HTTP 500 raised before the app's own logging runs (module or startup failure)",
        [
            "Read the error page FREB kept (GENERAL_RESPONSE_ENTITY_BUFFER) or browse locally for the \
                detailed error.",
            "Check what changed in the deployment: bin folder, web.config, dependencies reachable at \
                startup.",
        ];
    /// 500.19: the configuration of a path cannot be read or parsed.
    ConfigError => "config-error", Boundary,
        "500.19: configuration cannot be read or parsed",
        [
            "Open the file and line FREB's ConfigExceptionInfo names (or the detailed error page).",
            "Install the missing module (URL Rewrite, ASP.NET Core hosting bundle) or remove the section; \
                0x80070005 means grant IIS_IUSRS read access.",
        ];
    /// 500.21-500.24, 404.17, 404.4: a handler or module missing or not registered.
    HandlerMissing => "handler-missing", Runtime,
        "Handler or module missing or not registered",
        [
            "Install or register the module (ASP.NET 4.x: Windows feature / aspnet_regiis; ASP.NET Core: \
                hosting bundle).",
            "Check the handler mappings and their preconditions (bitness, managedHandler).",
        ];
    /// An ASP.NET Core application failed to start under ANCM (500.30-500.38, 502.5).
    AncmStartupFailure => "ancm-startup-failure", Runtime,
        "ASP.NET Core app failed to start (500.30–500.38, 502.5)",
        [
            "Read the app's output ANCM captured (1018, 1011, 1035; or set stdoutLogEnabled=\"true\" in \
                web.config) and fix what stopped the start.",
            "On premises, check the ASP.NET Core hosting bundle matches the app's runtime version, and the \
                app pool's bitness.",
        ];
    /// 502.3: the backend behind ANCM or ARR timed out or refused.
    BackendFailure => "backend-failure", Runtime,
        "502.3: backend (ANCM out-of-process, ARR) timed out or refused",
        [
            "12002 is a timeout: fix the slow backend, or raise the proxy's timeout (ANCM: requestTimeout in \
                the aspNetCore section; ARR: the server farm's applicationRequestRouting protocol timeout, or \
                the proxy section's timeout); 12029/12030 mean the backend is down or recycling.",
        ];
    /// Static files fail while dynamic endpoints work.
    StaticContentFailure => "static-content-failure", Permission,
        "Static files fail while dynamic endpoints work",
        [
            "401.3 / 0x80070005: grant IUSR (or the anonymous user) read on the content folder.",
            "404.3: add the MIME map; 404.4: restore the StaticFile handler.",
        ];
    /// 401.1 with rejected credentials, beyond the normal handshake.
    AuthFailure => "auth-failure", Protocol,
        "Authentication failures (401.1 / 401.2 / 401.3), beyond the normal handshake",
        [
            "Match the failures with Security 4625 on the server (logon type 3 or 8) for the accounts and \
                reasons.",
            "Check for changed passwords, locked accounts, or SPN problems for Kerberos.",
        ];
    /// TLS handshakes fail for some clients (Schannel 36874/36888/36887).
    TlsHandshakeFailure => "tls-handshake-failure", Protocol,
        "TLS fails for some clients (SNI, chain, protocol or cipher mismatch)",
        [
            "Read the alert codes: 40 handshake failure, 70 protocol version, 112 unrecognized name.",
            "Upgrade the old clients' TLS, or agree on a common protocol and cipher.",
        ];
    /// The process identity cannot read a certificate's private key (Schannel 36870).
    TlsPrivateKeyAccess => "tls-private-key-access", Permission,
        "The process identity cannot open a certificate's private key",
        [
            "Grant the pool identity (IIS APPPOOL\\<pool>) read access to the private key (certlm.msc, \
                Manage Private Keys).",
            "Check the key was imported with the certificate.",
        ];
    /// SQL Server rejects the login of the identity actually used (18456).
    DbLoginFailure => "db-login-failure", Permission,
        "Database login fails for the identity actually used",
        [
            "Create the login (and database user) for the identity named in 18456, or change the connection \
                string / pool identity.",
            "Read the reason: no such login, wrong password, disabled login, or Windows-only authentication.",
        ];
    /// The pool identity cannot log on, so the pool cannot start (WAS 5021/5057/5059).
    IdentityLogonFailure => "identity-logon-failure", Permission,
        "App pool identity cannot log on; the pool cannot start",
        [
            "Update the pool identity's password in IIS (or use a gMSA), or restore 'Log on as a batch job' \
                for the account.",
            "Start the pool again.",
        ];
    /// applicationHost.config or the generated pool configuration is broken (WAS 5172/5189).
    ConfigStoreBroken => "config-store-broken", Boundary,
        "applicationHost.config or generated pool config broken; every pool down",
        [
            "Restore applicationHost.config from %SystemDrive%\\inetpub\\history\\CFGHISTORY_* (or fix the \
                line named in WAS 5172).",
            "Start the application pools again (they were disabled by rapid-fail protection).",
        ];
    /// A site's binding or URL registration conflicts; it cannot listen.
    BindingConflict => "binding-conflict", Boundary,
        "Site binding or URL registration conflict; site cannot listen",
        [
            "Find what owns the port (netsh http show urlacl / servicestate) and fix the binding.",
            "Restart the site once the binding is free.",
        ];
    /// A URL Rewrite redirect loop.
    RewriteLoop => "rewrite-loop", Protocol,
        "URL Rewrite redirect loop or rewrite rule error",
        [
            "Make the rule's condition see the original scheme ({HTTP_X_FORWARDED_PROTO}) or remove it where \
                the load balancer redirects.",
            "FREB with the Rewrite area shows which rule matched.",
        ];
    /// A log is empty, cut short, cleared or was not written for the window.
    MissingLogs => "missing-logs", Evidence,
        "A source is empty, cut short, cleared or disabled for the incident window",
        [
            "Free space on the log volume; move logs off the system drive.",
            "Treat the gap as missing evidence, not as an idle site.",
        ];
    /// Requests to some URLs slow on the server side, completing normally.
    SlowResponses => "slow-responses", Runtime,
        "Server-side slowness (distinguished from slow or vanishing clients)",
        [
            "Profile the endpoint (FREB TIME_TAKEN traces show where the time goes), and check its \
                dependencies (queries, downstream calls).",
        ];
    /// Requests rejected for their size, URL or headers.
    RequestLimits => "request-limits", Protocol,
        "Request size, URL or header limits reject requests",
        [
            "Raise requestFiltering/requestLimits (maxAllowedContentLength, maxUrl, maxQueryString) if the \
                requests are legitimate.",
        ];
    /// A deployment or app_offline window.
    Deployment => "deployment", Operations,
        "Deployment or app_offline window",
        ["Deploy outside busy hours or behind a load balancer that drains the server."];
    /// The server ran out of memory.
    MemoryExhaustion => "memory-exhaustion", Capacity,
        "Server memory exhaustion",
        [
            "Find the process that grows (2004 names the top consumers) and cap it (pool privateMemory \
                limit).",
            "Add memory or spread load until the leak is fixed.",
        ];
    /// The server restarted.
    Reboot => "reboot", Operations,
        "Reboot or patching window",
        [
            "Patch in a maintenance window and drain the server from the load balancer first.",
            "For an unclean shutdown, check Kernel-Power 41 and the hardware/hypervisor logs.",
        ];
    /// Errors, slowness or silence no known failure mode explains: still a finding.
    Unexplained => "unexplained", Unexplained,
        "Errors no detector explains",
        [
            "Open the first rows cited and the application's logs for the window.",
            "Capture FREB for 500-599 on this site to see which module sets the error.",
        ];
    /// Unhandled application exceptions behind 500s that no boundary
    /// failure explains: the application's own code threw.
    AppException => "app-exception", Runtime,
        "Unhandled application exception behind HTTP 500s",
        [
            "Read the exception and stack cited; reproduce the endpoint named and fix the code or its input.",
            "If it started after a deployment, compare the deployed views, assemblies and configuration \
                with the previous release.",
        ];
}

impl FailureMode {
    /// The mode with this id, if there is one.
    pub fn from_id(id: &str) -> Option<FailureMode> {
        FailureMode::ALL.iter().copied().find(|m| m.id() == id)
    }
}

impl std::fmt::Display for FailureMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

impl Serialize for FailureMode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_kebab_case_and_round_trip() {
        let mut seen = std::collections::BTreeSet::new();
        for &mode in FailureMode::ALL {
            let id = mode.id();
            assert!(seen.insert(id), "{id} twice");
            assert!(id.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'), "{id}");
            assert_eq!(FailureMode::from_id(id), Some(mode));
            assert!(!mode.title().is_empty() && !mode.remediation().is_empty(), "{id}");
            assert_eq!(serde_json::to_string(&mode).expect("serializes"), format!("\"{id}\""));
        }
        assert_eq!(FailureMode::from_id("worker-crashed"), None, "a typo is no mode");
    }

    /// The ids released so far: a public contract (scripts key on them), so
    /// none may disappear or change its spelling. New modes are added here
    /// when they ship.
    const RELEASED: &[&str] = &[
        "worker-crash",
        "rapid-fail-protection",
        "pool-stopped",
        "recycle-scheduled",
        "recycle-memory-limit",
        "recycle-config-change",
        "recycle-idle-timeout",
        "recycle-on-demand",
        "recycle-unhealthy",
        "worker-hang",
        "request-queue-full",
        "port-exhaustion",
        "app-init-failure",
        "config-error",
        "handler-missing",
        "ancm-startup-failure",
        "backend-failure",
        "static-content-failure",
        "auth-failure",
        "tls-handshake-failure",
        "tls-private-key-access",
        "db-login-failure",
        "identity-logon-failure",
        "config-store-broken",
        "binding-conflict",
        "rewrite-loop",
        "missing-logs",
        "slow-responses",
        "request-limits",
        "deployment",
        "memory-exhaustion",
        "reboot",
        "unexplained",
        "app-exception",
    ];

    #[test]
    fn every_released_id_is_still_a_mode() {
        for id in RELEASED {
            assert!(FailureMode::from_id(id).is_some(), "{id} was released and must stay");
        }
        assert_eq!(FailureMode::ALL.len(), RELEASED.len(), "a new mode: add its id to RELEASED");
    }

    /// docs/failure-modes.md describes every mode, under its id and title,
    /// and no other.
    #[test]
    fn the_catalogue_page_lists_every_mode() {
        let page = include_str!("../../../docs/failure-modes.md");
        let mut documented: Vec<(&str, &str)> = page
            .lines()
            .filter_map(|l| l.strip_prefix("### `"))
            .filter_map(|l| l.split_once("`: "))
            .collect();
        documented.sort_unstable();
        let mut known: Vec<(&str, &str)> = FailureMode::ALL.iter().map(|m| (m.id(), m.title())).collect();
        known.sort_unstable();
        assert_eq!(documented, known);
    }
}
