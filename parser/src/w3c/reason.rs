//! HTTP.sys `s-reason` phrases.

use std::fmt;

macro_rules! reasons {
    ($($variant:ident => $text:literal, $doc:literal;)*) => {
        /// The reason HTTP.sys gives for an HTTPERR row. Unknown phrases are
        /// kept as written in [`Reason::Other`].
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Reason<'a> {
            $(#[doc = $doc] $variant,)*
            /// A phrase not in Microsoft's table, kept verbatim.
            Other(&'a [u8]),
        }

        /// A [`Reason`] without the phrase of an unknown one: small, `Copy`,
        /// and free of the borrow of the log, for rows kept after the read.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum ReasonKind {
            $(#[doc = $doc] $variant,)*
            /// A phrase not in Microsoft's table.
            Other,
        }

        impl<'a> Reason<'a> {
            /// The reason's kind.
            pub fn kind(&self) -> ReasonKind {
                match self {
                    $(Reason::$variant => ReasonKind::$variant,)*
                    Reason::Other(_) => ReasonKind::Other,
                }
            }

            /// Maps the logged phrase to a reason.
            pub fn parse(b: &'a [u8]) -> Reason<'a> {
                match b {
                    $($text => Reason::$variant,)*
                    other => Reason::Other(other),
                }
            }

            /// The phrase as HTTP.sys writes it.
            pub fn as_bytes(&self) -> &'a [u8] {
                match self {
                    $(Reason::$variant => $text,)*
                    Reason::Other(b) => b,
                }
            }
        }
    };
}

reasons! {
    AppOffline => b"AppOffline", "503: the pool is held offline after repeated failures (rapid-fail protection).";
    Disabled => b"Disabled", "503: the pool was deliberately stopped.";
    AppShutdown => b"AppShutdown", "503: the application shut down under admin policy.";
    AppPoolTimer => b"AppPoolTimer", "503: the pool's process is too busy to take the request.";
    QueueFull => b"QueueFull", "503: the pool's request queue is full.";
    ConnLimit => b"ConnLimit", "503: the site connection limit was reached.";
    NotAvailable => b"N/A", "503: internal error (allocation failure, registration conflict, service not listening).";
    NotImplemented => b"N/I", "501: not implemented (e.g. unknown Transfer-Encoding).";
    ConnectionAbandonedByAppPool => b"Connection_Abandoned_By_AppPool", "The worker owning the request exited (IIS 6 naming).";
    ConnectionAbandonedByReqQueue => b"Connection_Abandoned_By_ReqQueue", "The worker owning the request exited or dropped it (IIS 7+).";
    ConnectionDropped => b"Connection_Dropped", "The client dropped the connection before the final response.";
    ConnectionDroppedListFull => b"Connection_Dropped_List_Full", "The list of dropped connections is full.";
    ConnectionsRefused => b"Connections_Refused", "Kernel NonPagedPool is low; HTTP.sys refused connections.";
    ClientReset => b"Client_Reset", "The connection closed before the request reached a worker.";
    TimerAppPool => b"Timer_AppPool", "A request waited too long in the pool queue.";
    TimerReqQueue => b"Timer_ReqQueue", "A request waited too long in the request queue (IIS 7+).";
    TimerConnectionIdle => b"Timer_ConnectionIdle", "An idle keep-alive connection expired.";
    TimerEntityBody => b"Timer_EntityBody", "The request body did not arrive in time.";
    TimerHeaderWait => b"Timer_HeaderWait", "The request headers did not arrive in time.";
    TimerMinBytesPerSecond => b"Timer_MinBytesPerSecond", "The client read the response too slowly.";
    TimerResponse => b"Timer_Response", "Reserved timer.";
    TimerSslRenegotiation => b"Timer_SslRenegotiation", "TLS renegotiation (client certificate) took too long.";
    BadRequest => b"BadRequest", "400: general parse error.";
    Header => b"Header", "400: parse error in a header.";
    Hostname => b"Hostname", "400: parse error in the host name.";
    InvalidCrLf => b"Invalid_CR/LF", "400: illegal CR/LF.";
    Forbidden => b"Forbidden", "400/403: forbidden element or sequence.";
    FieldLength => b"FieldLength", "400: a header field was too long.";
    RequestLength => b"RequestLength", "400: the request headers were too long.";
    Url => b"URL", "400: parse error in the URL.";
    UrlLength => b"URL_Length", "414: URL too long.";
    Verb => b"Verb", "400: parse error in the verb.";
    Number => b"Number", "400: parse error in a number.";
    LengthRequired => b"LengthRequired", "411: a required length was missing.";
    Precondition => b"Precondition", "412: a required precondition was missing.";
    EntityTooLarge => b"EntityTooLarge", "413: the entity was too large.";
    VersionNotSupported => b"Version_N/S", "505: HTTP version not supported.";
    Internal => b"Internal", "500: internal error in HTTP.sys.";
    NotFound => b"NotFound", "404: no URL registration matched.";
}

impl Reason<'_> {
    /// Whether the phrase is one Microsoft documents (or that real logs show).
    pub fn is_known(&self) -> bool {
        !matches!(self, Reason::Other(_))
    }

    /// Whether this row marks requests orphaned by a dying worker process.
    pub fn is_abandoned(&self) -> bool {
        self.kind().is_abandoned()
    }
}

impl ReasonKind {
    /// Whether this row marks requests orphaned by a dying worker process.
    pub fn is_abandoned(self) -> bool {
        matches!(self, ReasonKind::ConnectionAbandonedByAppPool | ReasonKind::ConnectionAbandonedByReqQueue)
    }
}

impl fmt::Display for Reason<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::value::decode_text(self.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_unknown_reasons_round_trip() {
        for phrase in [&b"N/A"[..], b"Connection_Abandoned_By_ReqQueue", b"Version_N/S", b"Request_Too_Large"]
        {
            assert_eq!(Reason::parse(phrase).as_bytes(), phrase);
        }
        assert_eq!(Reason::parse(b"QueueFull"), Reason::QueueFull);
        assert!(!Reason::parse(b"Request_Too_Large").is_known());
        assert!(Reason::parse(b"Connection_Abandoned_By_AppPool").is_abandoned());
        assert_eq!(Reason::parse(b"QueueFull").kind(), ReasonKind::QueueFull);
        assert_eq!(Reason::parse(b"Request_Too_Large").kind(), ReasonKind::Other);
    }
}
