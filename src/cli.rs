//! Command-line arguments. clap stops here: arguments become a plain, validated [`Config`].

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use onrecord::record::Date;

#[derive(Parser)]
#[command(
    name = "onrecord",
    version,
    about = "Answer security questionnaires from your own record: cited answers, honest gaps"
)]
struct Args {
    /// The record directory (holding knowledge/ and mappings/)
    #[arg(long, global = true, default_value = ".", value_name = "DIR")]
    record: PathBuf,
    /// Output format
    #[arg(long, global = true, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Print only problems and results, no summaries
    #[arg(long, short, global = true)]
    quiet: bool,
    /// Pretend today is this date (YYYY-MM-DD), for reproducible staleness checks
    #[arg(long, global = true, hide = true, env = "ONRECORD_TODAY", value_parser = parse_date)]
    today: Option<Date>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate the record; print every problem as path:line; exit 1 on any error
    Check {
        /// Reviews older than this many days are stale
        #[arg(long, default_value_t = 365, value_name = "DAYS")]
        max_age: i64,
    },
    /// Framework entries with no control behind them (or only `no` / `n/a` controls)
    Gaps {
        /// Only this framework: soc2, iso27001, cuec, or a key of mappings/frameworks/
        #[arg(long, value_name = "KEY")]
        framework: Option<String>,
        /// Exit 1 when a framework's coverage is below this percentage
        #[arg(long, value_name = "PCT", value_parser = parse_percent)]
        min: Option<f64>,
    },
    /// Build the search index of the record (later commands rebuild it when the record changed)
    Index,
    /// Answer one question: answer, statement, citations, confidence, or not on the record
    Ask {
        /// The question, as the customer wrote it
        question: String,
        /// How many candidates `--explain` shows
        #[arg(long, default_value_t = 5)]
        top: usize,
        /// Show why: matched terms, expansions, scores of the runners-up
        #[arg(long)]
        explain: bool,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    /// GitHub Actions annotations
    Github,
}

pub struct Config {
    pub record: PathBuf,
    pub format: Format,
    pub quiet: bool,
    pub today: Date,
    pub command: CommandConfig,
}

pub enum CommandConfig {
    Check {
        max_age: i64,
    },
    Gaps {
        framework: Option<String>,
        min: Option<f64>,
    },
    Index,
    Ask {
        question: String,
        top: usize,
        explain: bool,
    },
}

pub fn parse() -> Result<Config, clap::Error> {
    let args = Args::try_parse()?;
    let command = match args.command {
        Command::Check { max_age } => CommandConfig::Check { max_age },
        Command::Gaps { framework, min } => CommandConfig::Gaps { framework, min },
        Command::Index => CommandConfig::Index,
        Command::Ask {
            question,
            top,
            explain,
        } => CommandConfig::Ask {
            question,
            top,
            explain,
        },
    };
    Ok(Config {
        record: args.record,
        format: args.format,
        quiet: args.quiet,
        today: args.today.unwrap_or_else(Date::today),
        command,
    })
}

fn parse_date(text: &str) -> Result<Date, String> {
    Date::parse(text).ok_or_else(|| format!("`{text}` is not a date like 2026-09-01"))
}

fn parse_percent(text: &str) -> Result<f64, String> {
    match text.trim_end_matches('%').parse::<f64>() {
        Ok(p) if (0.0..=100.0).contains(&p) => Ok(p),
        _ => Err(format!("`{text}` is not a percentage from 0 to 100")),
    }
}
