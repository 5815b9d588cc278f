//! The classic IIS questions, as named queries over the tables: what
//! IIS engineers have asked Log Parser for years, ready to run with
//! `faultline query --query NAME`. Every one orders its rows completely, so
//! that the answer is the same on every run.

/// A query with a name.
#[derive(Clone, Copy, Debug)]
pub struct NamedQuery {
    /// What to type after `--query`.
    pub name: &'static str,
    /// What it answers.
    pub description: &'static str,
    /// The SQL.
    pub sql: &'static str,
}

/// Every named query, in the order `--list-queries` shows them.
pub const QUERIES: &[NamedQuery] = &[
    NamedQuery {
        name: "hits-per-hour",
        description: "Requests and server errors per host and hour",
        sql: "SELECT host_name, strftime(timestamp, '%Y-%m-%d %H:00') AS hour, count(*) AS hits, \
              sum(CASE WHEN http_response_status_code >= 500 THEN 1 ELSE 0 END) AS server_errors \
              FROM requests GROUP BY host_name, hour ORDER BY host_name, hour",
    },
    NamedQuery {
        name: "status-codes",
        description: "Requests by status, sub-status and win32 status",
        sql: "SELECT http_response_status_code AS status, iis_substatus AS substatus, \
              iis_win32_status AS win32_status, count(*) AS hits FROM requests \
              GROUP BY status, substatus, win32_status ORDER BY hits DESC, status, substatus, win32_status",
    },
    NamedQuery {
        name: "slowest-urls",
        description: "The 20 URLs with the highest mean time-taken (with their hits and maximum)",
        sql: "SELECT url_path, count(*) AS hits, avg(time_taken_ms) AS mean_ms, max(time_taken_ms) AS max_ms \
              FROM requests WHERE time_taken_ms IS NOT NULL GROUP BY url_path \
              ORDER BY mean_ms DESC, hits DESC, url_path LIMIT 20",
    },
    NamedQuery {
        name: "server-errors-by-url",
        description: "5xx responses by URL, status and sub-status",
        sql: "SELECT url_path, http_response_status_code AS status, iis_substatus AS substatus, count(*) AS hits \
              FROM requests WHERE http_response_status_code >= 500 \
              GROUP BY url_path, status, substatus ORDER BY hits DESC, url_path, status, substatus",
    },
    NamedQuery {
        name: "top-clients",
        description: "The 20 busiest clients (behind proxies, as X-Forwarded-For names them), with their error counts",
        sql: "SELECT client_ip, count(*) AS hits, \
              sum(CASE WHEN http_response_status_code >= 400 THEN 1 ELSE 0 END) AS errors \
              FROM requests GROUP BY client_ip ORDER BY hits DESC, client_ip LIMIT 20",
    },
    NamedQuery {
        name: "client-aborts",
        description: "Requests the client abandoned (win32 64, 995, 1236) by URL",
        sql: "SELECT url_path, iis_win32_status AS win32_status, count(*) AS hits FROM requests \
              WHERE iis_win32_status IN (64, 995, 1236) \
              GROUP BY url_path, win32_status ORDER BY hits DESC, url_path, win32_status",
    },
    NamedQuery {
        name: "httperr-reasons",
        description: "HTTP.sys errors by host, app pool (queue) and reason",
        sql: "SELECT host_name, app_pool, httperr_reason, count(*) AS hits FROM httperr \
              GROUP BY host_name, app_pool, httperr_reason ORDER BY hits DESC, host_name, app_pool, httperr_reason",
    },
    NamedQuery {
        name: "failing-modules",
        description: "FREB traces by the module that set the error, with its status",
        sql: "SELECT failing_module, failing_notification, http_response_status_code AS status, \
              iis_substatus AS substatus, count(*) AS traces FROM traces WHERE failing_module IS NOT NULL \
              GROUP BY failing_module, failing_notification, status, substatus \
              ORDER BY traces DESC, failing_module, failing_notification, status, substatus",
    },
    NamedQuery {
        name: "failed-logins",
        description: "Failed logons (Security 4625) by client address, account and logon type",
        sql: "SELECT source_ip, user_name, logon_type, count(*) AS failures, min(timestamp) AS first, \
              max(timestamp) AS last FROM events \
              WHERE event_code = 4625 AND event_provider = 'Microsoft-Windows-Security-Auditing' \
              GROUP BY source_ip, user_name, logon_type ORDER BY failures DESC, source_ip, user_name, logon_type",
    },
    NamedQuery {
        name: "events-by-id",
        description: "Windows events kept, by provider and id",
        sql: "SELECT event_provider, event_code, count(*) AS events, min(timestamp) AS first, \
              max(timestamp) AS last FROM events GROUP BY event_provider, event_code \
              ORDER BY events DESC, event_provider, event_code",
    },
];

/// The named query, if there is one.
pub fn named_query(name: &str) -> Option<&'static NamedQuery> {
    QUERIES.iter().find(|q| q.name.eq_ignore_ascii_case(name))
}
