//! Findings: the answer faultline gives, in the JSON contract of DESIGN.md.

use faultline_parser::Timestamp;
use serde::Serialize;

pub use crate::resolve::SourceKind;

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Background facts.
    Info,
    /// Worth knowing, little impact.
    Low,
    /// Some requests failed.
    Medium,
    /// Many requests failed or a site was degraded.
    High,
    /// A site or pool was down.
    Critical,
}

impl Severity {
    /// Parses `--fail-on` values.
    pub fn parse(s: &str) -> Option<Severity> {
        Some(match s.to_ascii_lowercase().as_str() {
            "info" => Severity::Info,
            "low" => Severity::Low,
            "medium" => Severity::Medium,
            "high" => Severity::High,
            "critical" => Severity::Critical,
            _ => return None,
        })
    }

    /// The lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// One piece of evidence: where to open it and what it says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// Source kind.
    pub source: SourceKind,
    /// File (or `archive!member`).
    pub path: String,
    /// 1-based line, for text sources.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// Record id, for event logs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<u64>,
    /// When.
    pub time: Timestamp,
    /// What it says, in one line.
    pub summary: String,
}

/// Where a finding applies.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Scope {
    /// Host.
    pub host: Option<String>,
    /// Site id.
    pub site: Option<String>,
    /// Application pool.
    pub app_pool: Option<String>,
}

/// A step of the root-cause timeline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Step {
    /// When.
    pub time: Timestamp,
    /// `cause`, `effect` or `context`.
    pub role: Role,
    /// Source kind.
    pub source: SourceKind,
    /// What happened.
    pub summary: String,
}

/// A timeline step's part in the story.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// What broke first.
    Cause,
    /// What followed from it.
    Effect,
    /// Around it, for orientation.
    Context,
}

/// A root-cause finding.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    /// Failure-mode id (../shared/reference/failure-modes.md), or `unexplained`.
    pub id: &'static str,
    /// Category of the id.
    pub category: &'static str,
    /// Title.
    pub title: &'static str,
    /// 0 to 1.
    pub confidence: f64,
    /// Severity.
    pub severity: Severity,
    /// Window start.
    pub start: Timestamp,
    /// Window end.
    pub end: Timestamp,
    /// Where.
    pub scope: Scope,
    /// What happened, naming the assumption that stopped holding.
    pub explanation: String,
    /// What to do.
    pub remediation: Vec<String>,
    /// The evidence.
    pub evidence: Vec<Evidence>,
    /// From first cause to effects.
    pub timeline: Vec<Step>,
    /// The same failure mode on other hosts in an overlapping window (one
    /// farm-wide incident): 1-based positions in the report's findings.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<usize>,
}

/// Category and title of each failure-mode id.
pub fn describe(id: &str) -> (&'static str, &'static str) {
    match id {
        "worker-crash" => ("runtime", "Worker process crashed; in-flight requests abandoned"),
        "rapid-fail-protection" => {
            ("runtime", "Rapid-fail protection disabled the app pool; HTTP.sys answers 503")
        }
        "pool-stopped" => {
            ("operations", "App pool, site or service stopped by an operator, script or iisreset")
        }
        "recycle-scheduled" => ("operations", "Periodic, scheduled or request-count recycle"),
        "recycle-memory-limit" => ("capacity", "Recycle on private/virtual memory limit"),
        "recycle-config-change" => {
            ("operations", "Recycle or restart caused by a configuration or web.config change")
        }
        "recycle-idle-timeout" => ("operations", "Idle-timeout shutdown; next requests pay the cold start"),
        "recycle-on-demand" => ("operations", "Recycle requested by an admin or tool"),
        "recycle-unhealthy" => {
            ("runtime", "Worker reported itself unhealthy or exceeded the shutdown time limit")
        }
        "worker-hang" => ("runtime", "Worker hung or starved; ping failure; requests pile up"),
        "request-queue-full" => ("capacity", "HTTP.sys queue or concurrency limit reached under load"),
        "port-exhaustion" => ("capacity", "Outbound ephemeral port exhaustion; downstream calls fail"),
        "app-init-failure" => {
            ("runtime", "HTTP 500 raised before the app's own logging runs (module or startup failure)")
        }
        "config-error" => ("boundary", "500.19: configuration cannot be read or parsed"),
        "handler-missing" => ("runtime", "Handler or module missing or not registered"),
        "ancm-startup-failure" => ("runtime", "ASP.NET Core app failed to start (500.30–500.38, 502.5)"),
        "backend-failure" => ("runtime", "502.3: backend (ANCM out-of-process, ARR) timed out or refused"),
        "static-content-failure" => ("permission", "Static files fail while dynamic endpoints work"),
        "auth-failure" => {
            ("protocol", "Authentication failures (401.1 / 401.2 / 401.3), beyond the normal handshake")
        }
        "tls-handshake-failure" => {
            ("protocol", "TLS fails for some clients (SNI, chain, protocol or cipher mismatch)")
        }
        "tls-private-key-access" => {
            ("permission", "The process identity cannot open a certificate's private key")
        }
        "db-login-failure" => ("permission", "Database login fails for the identity actually used"),
        "identity-logon-failure" => ("permission", "App pool identity cannot log on; the pool cannot start"),
        "config-store-broken" => {
            ("boundary", "applicationHost.config or generated pool config broken; every pool down")
        }
        "binding-conflict" => ("boundary", "Site binding or URL registration conflict; site cannot listen"),
        "rewrite-loop" => ("protocol", "URL Rewrite redirect loop or rewrite rule error"),
        "missing-logs" => {
            ("evidence", "A source is empty, cut short, cleared or disabled for the incident window")
        }
        "slow-responses" => {
            ("runtime", "Server-side slowness (distinguished from slow or vanishing clients)")
        }
        "request-limits" => ("protocol", "Request size, URL or header limits reject requests"),
        "deployment" => ("operations", "Deployment or app_offline window"),
        "memory-exhaustion" => ("capacity", "Server memory exhaustion"),
        "reboot" => ("operations", "Reboot or patching window"),
        _ => ("unexplained", "Errors no detector explains"),
    }
}
