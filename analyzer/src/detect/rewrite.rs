//! `rewrite-loop`: clients sent round the same redirect again and again, a
//! rewrite rule matching its own result (typically an HTTP-to-HTTPS rule
//! behind a TLS-offloading load balancer).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use faultline_parser::Span;

use super::{Draft, FailureMode, clusters, grouped};
use crate::evidence::{RequestRow, Store};
use crate::finding::{Role, Severity};

/// Redirects of one client to one URL, this close together, this many
/// times, are a loop.
const LOOP_GAP: Span = Span::secs(10);
const LOOP_REDIRECTS: usize = 10;

/// A status that sends the client elsewhere.
fn is_redirect(code: u16) -> bool {
    matches!(code, 301 | 302 | 307 | 308)
}

pub(super) fn detect(store: &Store, out: &mut Vec<Draft>) {
    let redirects = store.requests.iter().filter(|r| is_redirect(r.status.code));
    let chains = grouped(redirects, |r| (r.host.clone(), r.client.clone(), r.stem.clone()));
    let mut loops: BTreeMap<(Arc<str>, Option<u32>), Vec<&RequestRow>> = BTreeMap::new();
    for ((host, _, _), rows) in chains {
        for c in clusters(rows, |r| r.time, LOOP_GAP) {
            if c.len() >= LOOP_REDIRECTS {
                loops.entry((host.clone(), c[0].site)).or_default().extend(c);
            }
        }
    }
    for ((host, site), mut rows) in loops {
        rows.sort_by_key(|r| (r.time, r.source, r.line));
        let clients: BTreeSet<&str> = rows.iter().map(|r| &*r.client).collect();
        let mut urls: Vec<&str> = rows.iter().map(|r| &*r.stem).collect();
        urls.sort_unstable();
        urls.dedup();
        // A site that served no success while its clients looped was
        // unusable, whichever URL they asked for.
        let (first, last) = (rows[0].time, rows[rows.len() - 1].time);
        // Successes (2xx; a redirect is what the loop answers), more than a
        // few: the minutes at its edges hold requests from before and after.
        let (ok, all) = store
            .minutes
            .range((host.clone(), site, first.minute())..=(host.clone(), site, last.minute()))
            .fold((0u64, 0u64), |(ok, all), (_, m)| {
                (ok + u64::from(m.by_class[2]), all + u64::from(m.total))
            });
        let served = ok * 20 > all;
        let severity = if served { Severity::Medium } else { Severity::High };
        let who = match clients.len() {
            1 => "1 client (c-ip: behind a load balancer, the balancer's address) was".to_string(),
            n => format!("{n} clients were"),
        };
        let what = match urls.as_slice() {
            [one] => format!("the same URL ({one})"),
            more => format!("each of {} URLs ({})", more.len(), crate::describe::listed(more, 3)),
        };
        let mut d = Draft::new(FailureMode::RewriteLoop, severity, 0.85, first, last)
            .scope(Some(&host), site, None)
            .explain(format!(
                "{who} redirected round {what} ten times or more in seconds ({} redirects): a rewrite rule \
                    keeps matching its own result, typically an HTTP-to-HTTPS rule behind a TLS-offloading load \
                    balancer.{}",
                rows.len(),
                if served {
                    ""
                } else {
                    " The site served no success meanwhile: it was unusable for its clients."
                }
            ));
        // A busy minute lists its first redirects only: the ones past them
        // are counted by status, whatever their URL, and said as such.
        let minutes = rows[0].time.minute()..=rows[rows.len() - 1].time.minute();
        let more = store.unlisted_between(&host, site, minutes, |s| is_redirect(s.code)).count;
        if more > 0 {
            d.explanation.push_str(&format!(
                " Those are the redirects listed: the same minutes counted {more} more redirects of any URL, \
                    not listed."
            ));
        }
        d.cite_first(rows.iter(), 6, Role::Effect, |r| store.cite_request(r));
        out.push(d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::testing::Given;

    #[test]
    fn a_client_redirected_again_and_again_is_a_loop() {
        let found = (Given::new().requests(12, "WEB01", 1, 100, "/login", (301, 0, 0), 1)).detected(detect);
        assert_eq!((found.len(), found[0].id), (1, FailureMode::RewriteLoop));
    }

    /// In a busy minute the redirects past those listed are counted by
    /// status only: said beside the loop, not taken into its count; other
    /// statuses counted are not redirects.
    #[test]
    fn a_loop_in_a_busy_minute_says_the_redirects_counted() {
        let busy = Given::new()
            .requests(12, "WEB01", 1, 100, "/login", (301, 0, 0), 1)
            .unlisted("WEB01", 1, 100, (301, 0, 0), 900)
            .unlisted("WEB01", 1, 100, (500, 0, 0), 50);
        let found = busy.detected(detect);
        assert_eq!(found.len(), 1);
        let text = &found[0].explanation;
        assert!(text.contains("(12 redirects)"), "{text}");
        assert!(text.contains("counted 900 more redirects of any URL, not listed"), "{text}");
        let quiet = Given::new().requests(12, "WEB01", 1, 100, "/login", (301, 0, 0), 1).detected(detect);
        assert!(!quiet[0].explanation.contains("not listed"), "{}", quiet[0].explanation);
    }

    /// Loops over several URLs while the site served nothing else make it
    /// unusable: high, the URLs named; with successes beside them, medium.
    #[test]
    fn a_site_that_only_loops_is_unusable() {
        let looping = |e: Given| {
            e.requests(12, "WEB01", 1, 100, "/", (301, 0, 0), 1).requests(
                12,
                "WEB01",
                1,
                100,
                "/about",
                (301, 0, 0),
                1,
            )
        };
        let only = looping(Given::new()).detected(detect);
        assert_eq!(only[0].severity, Severity::High);
        assert!(only[0].explanation.contains("each of 2 URLs (/, /about)"), "{}", only[0].explanation);
        let served =
            looping(Given::new().requests(5, "WEB01", 1, 100, "/shop", (200, 0, 0), 20)).detected(detect);
        assert_eq!(served[0].severity, Severity::Medium);
    }

    #[test]
    fn redirects_spread_over_time_are_ordinary() {
        let mut e = Given::new();
        for i in 0..12 {
            e = e.request("WEB01", 1, 100 + 60 * i, "/login", (302, 0, 0), 1);
        }
        assert!(e.detected(detect).is_empty());
    }
}
