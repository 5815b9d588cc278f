//! The report's SVG charts: requests, server errors and HTTP.sys errors per
//! bucket of minutes over a window, with a time axis in the reader's zone,
//! and (for a finding) lanes marking its evidence by source at its times.

use std::fmt::Write as _;

use faultline_analyzer::Report;
use faultline_analyzer::evidence::Minute;
use faultline_analyzer::finding::{Finding, Role};
use faultline_analyzer::hunting::Detection;
use faultline_analyzer::resolve::SourceKind;
use faultline_hunt::Level;
use faultline_parser::Timestamp;

use super::html::esc;
use crate::config::Zone;

pub const CHART_W: f64 = 1000.0;
pub const PAD_L: f64 = 48.0;
const PLOT_H: f64 = 148.0;
const AXIS_H: f64 = 26.0;
const LANE_H: f64 = 15.0;

/// Minutes `first..=last` (minutes since the epoch) cut into buckets.
#[derive(Clone, Copy, Debug)]
pub struct Window {
    pub first: i64,
    pub last: i64,
    /// Minutes per bucket.
    pub bucket: i64,
}

impl Window {
    /// A window over `first..=last` with buckets small enough that the
    /// chart has about one per two pixels.
    pub fn new(first: i64, last: i64) -> Window {
        let last = last.max(first);
        let span = last - first + 1;
        let bucket = (span as f64 / CHART_W * 2.0).ceil().max(1.0) as i64;
        Window { first, last, bucket }
    }

    pub fn buckets(&self) -> usize {
        usize::try_from((self.last - self.first).div_euclid(self.bucket) + 1).unwrap_or(1)
    }

    fn bucket_of(&self, minute: i64) -> Option<usize> {
        if !(self.first..=self.last).contains(&minute) {
            return None;
        }
        usize::try_from((minute - self.first) / self.bucket).ok().map(|b| b.min(self.buckets() - 1))
    }

    /// The x of a minute (clamped into the plot).
    pub fn x(&self, minute: f64) -> f64 {
        let span = (self.last - self.first + 1) as f64;
        let at = ((minute - self.first as f64) / span).clamp(0.0, 1.0);
        PAD_L + at * (CHART_W - PAD_L - 4.0)
    }

    /// The x of an instant.
    pub fn x_of(&self, t: Timestamp) -> f64 {
        self.x(t.seconds() as f64 / 60.0)
    }

    /// "per minute" or "per N minutes".
    pub fn per(&self) -> String {
        if self.bucket == 1 { "minute".to_string() } else { format!("{} minutes", self.bucket) }
    }
}

/// Which of a host's sites a chart counts.
#[derive(Clone, Copy, Debug)]
pub enum Sites {
    /// This site (`None`: the rows that name no site).
    Exactly(Option<u32>),
    /// Every site of the host.
    All,
}

/// One chart's counts per bucket: requests merged (totals, 5xx, latency)
/// and HTTP.sys error rows (requests IIS never saw).
pub struct Series {
    pub merged: Vec<Minute>,
    pub refused: Vec<u32>,
}

impl Series {
    /// The counts of `host` on the sites `sites` picks within the window.
    pub fn of(report: &Report, window: &Window, host: &str, sites: Sites) -> Series {
        let mut s =
            Series { merged: vec![Minute::default(); window.buckets()], refused: vec![0; window.buckets()] };
        let wanted = |h: &str, s: Option<u32>| {
            h == host
                && match sites {
                    Sites::Exactly(site) => s == site,
                    Sites::All => true,
                }
        };
        for ((h, s_id, minute), m) in &report.store.minutes {
            if let Some(b) = window.bucket_of(*minute).filter(|_| wanted(h, *s_id)) {
                s.merged[b].add(m);
            }
        }
        for e in &report.store.errors {
            if let Some(b) = window.bucket_of(e.time.minute()).filter(|_| wanted(&e.host, e.site)) {
                s.refused[b] += 1;
            }
        }
        for ((h, minute, _, _, site), unlisted) in &report.store.unlisted_errors {
            if let Some(b) = window.bucket_of(*minute).filter(|_| wanted(h, *site)) {
                s.refused[b] += unlisted.count;
            }
        }
        s
    }
}

/// Ticks on round local times (every `step` minutes, `step` chosen for
/// about eight ticks), each aligned with the offset in force at it, so a
/// daylight-saving change does not shift the labels off the hour.
fn ticks(window: &Window, zone: &Zone) -> Vec<(i64, String)> {
    const STEPS: [i64; 13] = [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 2880];
    let span = window.last - window.first + 1;
    let step = STEPS.into_iter().find(|s| span / s <= 8).unwrap_or_else(|| (span / 8 / 1440 + 1) * 1440);
    let at = |minute: i64| zone.local(Timestamp::from_parts(minute * 60, 0));
    let days = at(window.first).date_naive() != at(window.last).date_naive();
    let years = at(window.first).format("%Y").to_string() != at(window.last).format("%Y").to_string();
    let mut out = Vec::new();
    let mut last_day = None;
    let mut minute = window.first;
    while minute <= window.last + 1 && out.len() < 64 {
        let offset = i64::from(at(minute).offset().local_minus_utc()) / 60;
        let r = (minute + offset).rem_euclid(step);
        let tick = if r == 0 { minute } else { minute + step - r };
        if tick > window.last + 1 {
            break;
        }
        let local = at(tick);
        let day = local.date_naive();
        let format = match (step >= 1440, years, days && last_day != Some(day)) {
            (true, true, _) => "%Y-%m-%d",
            (true, false, _) => "%m-%d",
            (false, _, true) => "%m-%d %H:%M",
            (false, _, false) => "%H:%M",
        };
        last_day = Some(day);
        out.push((tick, local.format(format).to_string()));
        minute = tick + step;
    }
    out
}

/// The time axis under a plot whose base is at `y`: ticks, `hh:mm` labels
/// in the reader's zone, and the zone's name.
fn axis(svg: &mut String, window: &Window, zone: &Zone, y: f64) {
    let _ = write!(
        svg,
        "<g class=\"axis\"><line x1=\"{PAD_L}\" x2=\"{CHART_W}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#999\"/>"
    );
    for (minute, label) in ticks(window, zone) {
        let x = window.x(minute as f64);
        let _ = write!(
            svg,
            "<line x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{y:.1}\" y2=\"{:.1}\" stroke=\"#999\"/><text class=\"tick\" x=\"{x:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"middle\">{}</text>",
            y + 4.0,
            y + 15.0,
            esc(&label)
        );
    }
    let _ = write!(
        svg,
        "<text class=\"zone\" x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"end\" fill=\"#555\">{}</text></g>",
        CHART_W - 4.0,
        y + 25.0,
        esc(zone.name())
    );
}

/// What to mark on a chart beside its counts.
pub enum Marks<'a> {
    /// The windows and causes of these findings, and a lane of these
    /// security detections (the overview).
    Findings(Vec<&'a Finding>, Vec<&'a Detection>),
    /// One finding zoomed: its window, its recovery, and lanes of its
    /// evidence by source.
    Zoom(&'a Finding),
}

/// The lanes of a zoomed finding: evidence by source, in this order.
const LANES: [(&str, &[SourceKind]); 5] = [
    ("event", &[SourceKind::Evtx, SourceKind::Eventxml]),
    ("FREB", &[SourceKind::Freb]),
    ("HTTPERR", &[SourceKind::Httperr]),
    ("W3C", &[SourceKind::W3c]),
    ("error page", &[SourceKind::Errorpage]),
];

/// Draws one chart.
pub fn draw(
    page: &mut String,
    window: &Window,
    series: &Series,
    marks: &Marks<'_>,
    label: &str,
    zone: &Zone,
) {
    let lanes: Vec<(&str, &[SourceKind])> = match marks {
        Marks::Zoom(f) => LANES
            .into_iter()
            .filter(|(_, kinds)| {
                f.evidence.iter().any(|e| kinds.contains(&e.source))
                    || f.timeline.iter().any(|s| kinds.contains(&s.source))
            })
            .collect(),
        Marks::Findings(_, detections) if !detections.is_empty() => vec![("security", &[][..])],
        Marks::Findings(..) => Vec::new(),
    };
    let lanes_h = lanes.len() as f64 * LANE_H;
    let height = PLOT_H + lanes_h + AXIS_H;
    let total: Vec<u32> = series.merged.iter().map(|m| m.total).collect();
    let errors: Vec<u32> = series.merged.iter().map(|m| m.by_class[5]).collect();
    let peak = total.iter().chain(&series.refused).copied().max().unwrap_or(0).max(1);
    let y_of = |v: u32| (PLOT_H - 4.0) - f64::from(v) / f64::from(peak) * (PLOT_H - 14.0);
    let points = |v: &[u32]| {
        v.iter()
            .enumerate()
            .map(|(i, &n)| {
                format!("{:.1},{:.1}", window.x((window.first + i as i64 * window.bucket) as f64), y_of(n))
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let _ = write!(
        page,
        "<svg class=\"chart\" role=\"img\" aria-label=\"requests and server errors per {} on {}\" width=\"{CHART_W}\" height=\"{height}\" viewBox=\"0 0 {CHART_W} {height}\" xmlns=\"http://www.w3.org/2000/svg\">",
        window.per(),
        esc(label)
    );
    let shade = |page: &mut String, f: &Finding| {
        let (x0, x1) = (window.x_of(f.start), window.x_of(f.end));
        let _ = write!(
            page,
            "<rect class=\"window\" x=\"{x0:.1}\" y=\"0\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#f5a623\" fill-opacity=\"0.22\"><title>{}</title></rect>",
            (x1 - x0).max(2.0),
            PLOT_H + lanes_h,
            esc(f.id.id())
        );
    };
    let line = |page: &mut String, x: f64, class: &str, colour: &str, title: &str| {
        let _ = write!(
            page,
            "<line class=\"{class}\" x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"0\" y2=\"{:.1}\" stroke=\"{colour}\" stroke-width=\"1\"><title>{}</title></line>",
            PLOT_H + lanes_h,
            esc(title)
        );
    };
    match marks {
        Marks::Findings(findings, detections) => {
            for f in findings {
                shade(page, f);
                for step in f.timeline.iter().filter(|s| s.role == Role::Cause) {
                    line(page, window.x_of(step.time), "cause", "#b00020", &step.summary);
                }
            }
            if !detections.is_empty() {
                security_lane(page, window, detections);
            }
        }
        Marks::Zoom(f) => {
            shade(page, f);
            if let Some(cause) = f.timeline.iter().find(|s| s.role == Role::Cause) {
                line(page, window.x_of(cause.time), "cause", "#b00020", &cause.summary);
            }
            line(
                page,
                window.x_of(f.end),
                "recovery",
                "#2e7d32",
                "the finding's window ends: recovery or the end of the evidence",
            );
            lanes_of(page, window, f, &lanes);
        }
    }
    let _ = write!(
        page,
        "<polyline class=\"requests\" fill=\"none\" stroke=\"#888\" stroke-width=\"1.2\" points=\"{}\"/><polyline class=\"errors\" fill=\"none\" stroke=\"#d00\" stroke-width=\"1.4\" points=\"{}\"/>",
        points(&total),
        points(&errors)
    );
    if series.refused.iter().any(|&n| n > 0) {
        let _ = write!(
            page,
            "<polyline class=\"httperr\" fill=\"none\" stroke=\"#6a3fb5\" stroke-width=\"1.4\" points=\"{}\"/>",
            points(&series.refused)
        );
    }
    let _ = write!(
        page,
        "<text x=\"4\" y=\"14\" font-size=\"11\">{peak}</text><text x=\"4\" y=\"{:.1}\" font-size=\"11\">0</text>",
        PLOT_H - 4.0
    );
    axis(page, window, zone, PLOT_H + lanes_h);
    let _ = writeln!(page, "</svg>");
}

/// A lane per source under the plot, each of the finding's evidence and
/// steps marked at its time (cause red, effect orange, other grey).
fn lanes_of(page: &mut String, window: &Window, f: &Finding, lanes: &[(&str, &[SourceKind])]) {
    for (i, (name, kinds)) in lanes.iter().enumerate() {
        let y = PLOT_H + i as f64 * LANE_H;
        let _ = write!(
            page,
            "<g class=\"lane\"><line x1=\"{PAD_L}\" x2=\"{CHART_W}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#e4e4e8\"/><text x=\"4\" y=\"{:.1}\" font-size=\"9\" fill=\"#555\">{name}</text>",
            y + 11.0
        );
        let mut marked = Vec::new();
        for step in f.timeline.iter().filter(|s| kinds.contains(&s.source)) {
            let colour = match step.role {
                Role::Cause => "#b00020",
                Role::Effect => "#e07b00",
                Role::Context => "#888",
            };
            marked.push(step.time);
            mark(page, window.x_of(step.time), y, colour, &step.summary);
        }
        for e in f.evidence.iter().filter(|e| kinds.contains(&e.source) && !marked.contains(&e.time)) {
            mark(page, window.x_of(e.time), y, "#888", &e.summary);
        }
        page.push_str("</g>");
    }
}

/// A lane of security detections under the plot, each at its time,
/// coloured by level.
fn security_lane(page: &mut String, window: &Window, detections: &[&Detection]) {
    let y = PLOT_H;
    let _ = write!(
        page,
        "<g class=\"lane security\"><line x1=\"{PAD_L}\" x2=\"{CHART_W}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#e4e4e8\"/><text x=\"4\" y=\"{:.1}\" font-size=\"9\" fill=\"#555\">security</text>",
        y + 11.0
    );
    for d in detections {
        let colour = match d.rule.meta.level {
            Level::Critical | Level::High => "#7b1fa2",
            _ => "#e07b00",
        };
        let title = format!("{} ({}): {}", d.rule.meta.title, d.rule.meta.level.name(), d.evidence.summary);
        mark(page, window.x_of(d.time), y, colour, &title);
    }
    page.push_str("</g>");
}

fn mark(page: &mut String, x: f64, y: f64, colour: &str, title: &str) {
    let _ = write!(
        page,
        "<rect class=\"mark\" x=\"{:.1}\" y=\"{:.1}\" width=\"3\" height=\"{:.1}\" fill=\"{colour}\"><title>{}</title></rect>",
        x - 1.5,
        y + 3.0,
        LANE_H - 6.0,
        esc(title)
    );
}

const LATENCY_H: f64 = 96.0;

/// Median and 95th percentile of time-taken per bucket, on a log scale.
pub fn latency(page: &mut String, s: &Series, label: &str, window: &Window, zone: &Zone) {
    let quantiles = |q: f64| -> Vec<(usize, u64)> {
        s.merged.iter().enumerate().filter_map(|(i, m)| Some((i, m.latency_quantile(q)?))).collect()
    };
    let (p50, p95) = (quantiles(0.5), quantiles(0.95));
    let Some(top) = p95.iter().map(|x| x.1).max() else {
        return;
    };
    let decades = ((top.max(1) as f64).log10().ceil()).max(1.0);
    let y_of = |ms: u64| (LATENCY_H - 14.0) - ((ms.max(1) as f64).log10() / decades) * (LATENCY_H - 22.0);
    let x_of = |i: usize| window.x((window.first + i as i64 * window.bucket) as f64);
    // One polyline per run of buckets with traffic: a silence is a gap,
    // not a slope.
    let lines = |v: &[(usize, u64)], class: &str, colour: &str| {
        let mut svg = String::new();
        for run in v.chunk_by(|a, b| b.0 == a.0 + 1) {
            let points: Vec<String> =
                run.iter().map(|(i, ms)| format!("{:.1},{:.1}", x_of(*i), y_of(*ms))).collect();
            let _ = write!(
                svg,
                "<polyline class=\"{class}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.3\" points=\"{}\"/>",
                points.join(" ")
            );
        }
        svg
    };
    let _ = write!(
        page,
        "<svg class=\"chart latency\" role=\"img\" aria-label=\"time-taken percentiles on {}\" width=\"{CHART_W}\" height=\"{h}\" viewBox=\"0 0 {CHART_W} {h}\" xmlns=\"http://www.w3.org/2000/svg\">",
        esc(label),
        h = LATENCY_H + AXIS_H
    );
    for d in 0..=decades as u32 {
        let ms = 10u64.pow(d);
        let y = y_of(ms);
        let text = if ms >= 1000 { format!("{} s", ms / 1000) } else { format!("{ms} ms") };
        let _ = write!(
            page,
            "<line x1=\"{PAD_L}\" x2=\"{CHART_W}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#e4e4e8\"/><text x=\"4\" y=\"{:.1}\" font-size=\"10\">{text}</text>",
            y + 3.0
        );
    }
    axis(page, window, zone, LATENCY_H);
    let _ = writeln!(
        page,
        "{}{}<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" fill=\"#0b7a75\">time-taken p95 (teal) and median (blue), within a factor of two</text></svg>",
        lines(&p50, "p50", "#7a9cc6"),
        lines(&p95, "p95", "#0b7a75"),
        PAD_L + 4.0,
        LATENCY_H - 3.0
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_zone;

    #[test]
    fn ticks_fall_on_round_local_times() {
        // 13:07 to 13:52 UTC: every 5 minutes from 13:10.
        let w = Window::new(29_399_827, 29_399_872);
        let t = ticks(&w, &Zone::utc());
        assert_eq!(t.first().map(|x| x.1.as_str()), Some("13:10"));
        assert!(t.len() <= 10 && t.len() >= 4, "{t:?}");
        // In a zone half an hour off, still on round local times.
        let india = parse_zone("+05:30").expect("zone");
        assert!(ticks(&w, &india).iter().all(|(_, l)| l.ends_with('0') || l.ends_with('5')));
        // Over two days the date is shown where the day changes.
        let w = Window::new(29_399_827, 29_399_827 + 2 * 1440);
        assert!(ticks(&w, &Zone::utc()).iter().any(|(_, l)| l.contains('-')));
        // Across Europe's spring change (2025-03-30 01:00 UTC) the labels
        // stay on the local hour.
        let berlin = parse_zone("Europe/Berlin").expect("zone");
        let w = Window::new(29_053_440, 29_053_440 + 2 * 1440);
        let t = ticks(&w, &berlin);
        assert!(
            t.iter().all(|(_, l)| ["00:00", "06:00", "12:00", "18:00"].iter().any(|h| l.ends_with(h))),
            "{t:?}"
        );
        // A year of evidence (or one row with a wrong clock): few labels,
        // with the year.
        let w = Window::new(29_399_827 - 400 * 1440, 29_399_827);
        let t = ticks(&w, &Zone::utc());
        assert!(t.len() <= 10 && t[0].1.starts_with("202"), "{t:?}");
    }
}
