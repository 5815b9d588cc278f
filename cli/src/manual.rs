//! Shell completions and the manual page, generated from the same clap
//! definitions that parse the command line, so they cannot drift from it.

use std::io::Write;

use clap::CommandFactory;

use crate::args::{Cli, CompletionsArgs};
use crate::exit::Exit;

/// `faultline completions SHELL`: the completion script on standard
/// output (or `--output`).
pub fn completions(out: &mut dyn Write, args: &CompletionsArgs) -> anyhow::Result<Exit> {
    let mut command = Cli::command();
    clap_complete::generate(args.shell, &mut command, "faultline", out);
    Ok(Exit::Ok)
}

/// `faultline man`: the manual page (roff), every command in one page.
pub fn man(out: &mut dyn Write) -> anyhow::Result<Exit> {
    let command = Cli::command();
    let page = clap_mangen::Man::new(command.clone());
    page.render_title(out)?;
    page.render_name_section(out)?;
    page.render_synopsis_section(out)?;
    page.render_description_section(out)?;
    page.render_options_section(out)?;
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = sub.get_name().to_uppercase();
        writeln!(out, ".SH \"{name}\"")?;
        if let Some(about) = sub.get_long_about().or_else(|| sub.get_about()) {
            writeln!(out, "{}", roff_text(&about.to_string()))?;
        }
        writeln!(out, ".PP\n\\fBfaultline {}\\fR {}", sub.get_name(), roff_text(&usage(sub)))?;
        for arg in sub.get_arguments().filter(|a| !a.is_hide_set() && !a.is_global_set()) {
            let long = arg.get_long().map(|l| l.replace('-', "\\-"));
            let flag = match (arg.get_short(), long) {
                (Some(s), Some(l)) => format!("\\-{s}, \\-\\-{l}"),
                (None, Some(l)) => format!("\\-\\-{l}"),
                (Some(s), None) => format!("\\-{s}"),
                (None, None) => arg.get_id().to_string().to_uppercase(),
            };
            writeln!(out, ".TP\n\\fB{flag}\\fR")?;
            if let Some(help) = arg.get_long_help().or_else(|| arg.get_help()) {
                writeln!(out, "{}", roff_text(&help.to_string()))?;
            }
        }
    }
    page.render_version_section(out)?;
    Ok(Exit::Ok)
}

/// A subcommand's usage line without the program name.
fn usage(sub: &clap::Command) -> String {
    let usage = sub.clone().render_usage().to_string();
    let usage = usage.trim_start_matches("Usage:").trim();
    usage.split_once(' ').map_or("", |(_, rest)| rest).to_string()
}

/// Text safe in a roff body: backslashes doubled, a leading dot or quote
/// escaped so it is not read as a request.
fn roff_text(text: &str) -> String {
    text.lines()
        .map(|l| {
            let l = l.replace('\\', "\\\\").replace('-', "\\-");
            if l.starts_with('.') || l.starts_with('\'') { format!("\\&{l}") } else { l }
        })
        .collect::<Vec<_>>()
        .join("\n")
}
