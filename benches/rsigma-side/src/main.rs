//! `rsigma-side [--bloom] W3C_LOG RULES_DIR...`: loads every Sigma rule under the
//! folders with rsigma-eval, turns each W3C row into the JSON event a user
//! would hand it (the webserver field names, the agent under both names
//! SigmaHQ uses, values as logged), and
//! evaluates every row against the webserver rules on two threads. Prints
//! the rules loaded and refused, the time to convert and to evaluate, and
//! the matches per rule.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use rsigma_eval::Engine;
use rsigma_eval::event::JsonEvent;
use rsigma_parser::{LogSource, SigmaCollection, parse_sigma_directory};
use serde_json::{Map, Value};

/// The Sigma name of a W3C field.
fn sigma_name(w3c: &str) -> String {
    match w3c {
        "cs(User-Agent)" => "c-useragent".into(),
        "cs(Referer)" => "cs-referer".into(),
        "cs(Cookie)" => "cs-cookie".into(),
        other => other.to_string(),
    }
}

fn events(text: &str) -> Vec<Value> {
    let mut fields: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for line in text.lines() {
        if let Some(header) = line.strip_prefix("#Fields:") {
            fields = header.split_whitespace().map(sigma_name).collect();
            continue;
        }
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let mut event = Map::new();
        for (name, value) in fields.iter().zip(line.split(' ')) {
            if value != "-" {
                // SigmaHQ's rules spell the agent both ways.
                if name == "c-useragent" {
                    event.insert("cs-user-agent".into(), Value::String(value.to_string()));
                }
                event.insert(name.clone(), Value::String(value.to_string()));
            }
        }
        out.push(Value::Object(event));
    }
    out
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let bloom = args.iter().any(|a| a == "--bloom");
    let args: Vec<&String> = args.iter().filter(|a| *a != "--bloom").collect();
    let Some((log, dirs)) = args.split_first() else {
        eprintln!("usage: rsigma-side [--bloom] W3C_LOG RULES_DIR...");
        std::process::exit(2);
    };
    let mut rules = SigmaCollection::new();
    for dir in dirs {
        match parse_sigma_directory(Path::new(dir.as_str())) {
            Ok(c) => {
                rules.rules.extend(c.rules);
                rules.correlations.extend(c.correlations);
                rules.errors.extend(c.errors);
            }
            Err(e) => eprintln!("{dir}: {e}"),
        }
    }
    let mut engine = Engine::new();
    // The engine's optional prefilter of substring matchers.
    engine.set_bloom_prefilter(bloom);
    let refused = engine.add_rules(rules.rules.iter());
    println!(
        "rules: {} parsed, {} refused by the compiler, {} documents not parsed, {} correlations (not run)",
        rules.rules.len(),
        refused.len(),
        rules.errors.len(),
        rules.correlations.len()
    );
    let text = std::fs::read_to_string(log.as_str()).expect("the log reads as UTF-8");
    let start = Instant::now();
    let events = events(&text);
    let convert = start.elapsed();
    let webserver = LogSource { category: Some("webserver".into()), ..LogSource::default() };
    let start = Instant::now();
    let halves: Vec<&[Value]> = events.chunks(events.len().div_ceil(2).max(1)).collect();
    let counts: Vec<BTreeMap<String, usize>> = std::thread::scope(|s| {
        let handles: Vec<_> = halves
            .iter()
            .map(|half| {
                let (engine, webserver) = (&engine, &webserver);
                s.spawn(move || {
                    let mut hits: BTreeMap<String, usize> = BTreeMap::new();
                    for e in *half {
                        for m in engine.evaluate_with_logsource(&JsonEvent::borrow(e), webserver) {
                            *hits.entry(m.header.rule_title.clone()).or_default() += 1;
                        }
                    }
                    hits
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("an evaluating thread")).collect()
    });
    let evaluate = start.elapsed();
    let mut hits: BTreeMap<String, usize> = BTreeMap::new();
    for c in counts {
        for (rule, n) in c {
            *hits.entry(rule).or_default() += n;
        }
    }
    let mib = text.len() as f64 / (1024.0 * 1024.0);
    println!("{} rows, {mib:.0} MiB", events.len());
    println!(
        "convert to JSON events: {:.2} s ({:.0} MiB/s, one thread)",
        convert.as_secs_f64(),
        mib / convert.as_secs_f64()
    );
    println!(
        "evaluate (2 threads): {:.2} s ({:.0} MiB/s)",
        evaluate.as_secs_f64(),
        mib / evaluate.as_secs_f64()
    );
    for (rule, n) in hits {
        println!("{n:>9}  {rule}");
    }
}
