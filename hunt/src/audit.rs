//! The screen held to its promise: an access log read both ways, each row
//! evaluated in full and as the screen lets it through (the line filter's
//! marks, the cleared rows' smaller view). The screen may change how fast
//! the rules run, never what they match; the unit tests, the property test
//! and the fuzz target over arbitrary rules all read logs through this.

use faultline_parser::framing::InMemory;
use faultline_parser::w3c::{Dialect, TextConfig, parse_text};
use faultline_parser::{RecordSink, Request};

use crate::engine::Found;
use crate::screen::Screening;
use crate::{Engine, View};

/// A row whose screened evaluation differs from the full one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Disagreement {
    /// The row's line.
    pub line: u64,
    /// The rules the full evaluation matched.
    pub full: Vec<usize>,
    /// The rules the screened evaluation matched (none when the screen
    /// turned the row away).
    pub screened: Vec<usize>,
    /// A rule matched both ways read a field otherwise through the
    /// cleared row's view.
    pub read_otherwise: bool,
}

/// One match of the full evaluation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hit {
    /// The row's line.
    pub line: u64,
    /// The row's time, in seconds.
    pub seconds: i64,
    /// The rule's index.
    pub rule: usize,
}

/// An access log read both ways.
#[derive(Debug, Default)]
pub struct Audit {
    /// Rows read.
    pub rows: u64,
    /// Rows the full evaluation matched some rule on.
    pub matched: u64,
    /// Every match of the full evaluation, in line order.
    pub hits: Vec<Hit>,
    /// The rows where the two ways differ: none, or the screen is wrong.
    pub disagreements: Vec<Disagreement>,
}

/// Reads the W3C log `log` through `engine`, each row both ways.
pub fn audit(engine: &Engine, log: &[u8]) -> Audit {
    let new_sink = || Reader {
        engine,
        screening: Screening::default(),
        view: View::default(),
        cleared_view: engine.cleared_view(Vec::new()),
        audit: Audit::default(),
    };
    let Ok(parts) = parse_text(log, Dialect::W3c, &TextConfig::default(), &InMemory, &|_| {}, new_sink);
    let mut whole = Audit::default();
    for part in parts {
        let a = part.audit;
        whole.rows += a.rows;
        whole.matched += a.matched;
        whole.hits.extend(a.hits);
        whole.disagreements.extend(a.disagreements);
    }
    whole
}

struct Reader<'e> {
    engine: &'e Engine,
    screening: Screening,
    view: View,
    cleared_view: Option<View>,
    audit: Audit,
}

impl RecordSink for Reader<'_> {
    type Error = std::convert::Infallible;

    fn request(&mut self, r: &Request<'_>) -> Result<(), Self::Error> {
        let a = &mut self.audit;
        a.rows += 1;
        let may = self.engine.may_match(r, &mut self.screening);
        self.view.request(r);
        let mut full = Vec::new();
        self.engine.matches(&mut self.view, &mut full);
        a.matched += u64::from(!full.is_empty());
        let (line, seconds) = (r.origin.line, r.time.seconds());
        a.hits.extend(full.iter().map(|&rule| Hit { line, seconds, rule }));
        let mut screened = Vec::new();
        let mut read_otherwise = false;
        if may {
            let cleared = self.screening.cleared();
            let view = match self.cleared_view.as_mut().filter(|_| cleared) {
                Some(view) => view,
                None => &mut self.view,
            };
            view.request(r);
            self.engine.matches_screened(view, &mut Found::default(), &mut screened, &self.screening);
            // The full view still holds this row when the cleared one was
            // read.
            let values = |v: &View, f: &str| v.values(f).map(|(v, _)| v.to_string()).collect::<Vec<_>>();
            read_otherwise = self.cleared_view.as_ref().filter(|_| cleared).is_some_and(|view| {
                screened
                    .iter()
                    .flat_map(|&i| self.engine.rules()[i].fields())
                    .any(|f| values(view, f) != values(&self.view, f))
            });
        }
        if screened != full || read_otherwise {
            a.disagreements.push(Disagreement { line, full, screened, read_otherwise });
        }
        Ok(())
    }

    fn access_log_text(&mut self, text: &[u8], offset: u64) {
        self.engine.mark_lines(text, offset, &mut self.screening);
    }
}
