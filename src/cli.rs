//! Command-line arguments. clap stops here: arguments become a plain, validated [`Config`].

use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand, ValueEnum};
use onrecord::limits::Limits;
use onrecord::outputs::Replace;
use onrecord::questionnaire::Overrides;
use onrecord::record::Date;

/// Reviews older than this many days are stale, unless `--max-age` says otherwise.
const DEFAULT_MAX_AGE: i64 = 365;

#[derive(Parser)]
#[command(
    name = "onrecord",
    version,
    about = "Answer security questionnaires from your own record: cited answers, honest gaps"
)]
struct Args {
    /// The record directory (holding knowledge/ and mappings/); default: ONRECORD_RECORD, else
    /// the nearest of the current directory and those above it that has knowledge/
    #[arg(long, global = true, value_name = "DIR")]
    record: Option<PathBuf>,
    /// Output format
    #[arg(long, global = true, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Print only problems and results, no summaries
    #[arg(long, short, global = true)]
    quiet: bool,
    /// Pretend today is this date (YYYY-MM-DD), for reproducible staleness checks
    #[arg(long, global = true, hide = true, env = "ONRECORD_TODAY", value_parser = parse_date)]
    today: Option<Date>,
    /// Raise or lower a bound on what is read, e.g. record_file_bytes=8M (repeatable; names
    /// in the README)
    #[arg(long = "limit", global = true, value_name = "NAME=VALUE")]
    limits: Vec<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate the record; print every problem as path:line; exit 1 on any error
    Check {
        /// Reviews older than this many days are stale
        #[arg(long, default_value_t = DEFAULT_MAX_AGE, value_name = "DAYS")]
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
    /// Fill a questionnaire (xlsx, xlsm, xls, xlsb, ods, csv, tsv); never modifies FILE
    Fill {
        /// The customer's questionnaire
        file: PathBuf,
        /// Where to write (default FILE.answered.EXT; FILE.answered.xlsx for xls, xlsb, ods)
        #[arg(short, long, value_name = "OUT")]
        output: Option<PathBuf>,
        /// Also write the JSON report here
        #[arg(long, value_name = "FILE.json")]
        report: Option<PathBuf>,
        /// Print what was detected and write nothing
        #[arg(long)]
        dry_run: bool,
        /// Answer rows that already have an answer or explanation too
        #[arg(long)]
        overwrite: bool,
        /// Replace an existing output, review or report file
        #[arg(long)]
        force: bool,
        /// Where to write the review workbook (default: beside the output, FILE.review.xlsx)
        #[arg(long, value_name = "PATH", conflicts_with = "no_review")]
        review: Option<PathBuf>,
        /// Write no review workbook
        #[arg(long)]
        no_review: bool,
        /// List every question in the review workbook, answered ones too
        #[arg(long, conflicts_with = "no_review")]
        review_all: bool,
        #[command(flatten)]
        layout: LayoutArgs,
        /// Answers citing a control reviewed longer ago than this go to review
        #[arg(long, value_name = "DAYS")]
        max_age: Option<i64>,
    },
    /// Write the decisions of a review workbook into the record: phrasings of controls,
    /// questions not on the record
    Learn {
        /// The review workbook `fill` wrote (FILE.review.xlsx), its Decision column filled
        file: PathBuf,
        /// Print the changes as a diff and write nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// Answer coverage of questionnaires, writing nothing; exit 1 below --min or on a regression
    Coverage {
        /// The reference questionnaires
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// Exit 1 when a file's coverage is below this percentage
        #[arg(long, value_name = "PCT", value_parser = parse_percent)]
        min: Option<f64>,
        /// Exit 1 when a file's answered share (answered, sent unread, of all questions) is
        /// below this percentage
        #[arg(long, value_name = "PCT", value_parser = parse_percent)]
        min_answered: Option<f64>,
        /// Exit 1 when a row answered in this earlier coverage JSON is now not on the record
        /// or answered differently
        #[arg(long, value_name = "B.json")]
        baseline: Option<PathBuf>,
        /// Write the coverage JSON here, to serve as the next --baseline
        #[arg(long, value_name = "B.json")]
        write_baseline: Option<PathBuf>,
        /// Replace an existing --write-baseline file
        #[arg(long)]
        force: bool,
        /// Answers citing a control reviewed longer ago than this go to review and are listed
        #[arg(long, value_name = "DAYS")]
        max_age: Option<i64>,
        /// Exit 1 when an answer cites a stale control (--max-age, default 365 days)
        #[arg(long)]
        fail_stale: bool,
        #[command(flatten)]
        layout: LayoutArgs,
    },
    /// Compare a questionnaire people answered by hand with what onrecord would answer
    Eval {
        /// A questionnaire with the team's own, approved answers
        file: PathBuf,
        /// Exit 1 when agreement on the rows onrecord would answer is below this percentage
        #[arg(long, value_name = "PCT", value_parser = parse_percent)]
        min_agreement: Option<f64>,
        #[command(flatten)]
        layout: LayoutArgs,
    },
    /// Build the search index of the record (later commands rebuild it when the record changed)
    Index,
    /// Write a starter record that passes `check`: a profile, one knowledge file, mappings
    Init {
        /// Where to write it (created if missing; refused if it already holds a record)
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// Write the trust page: a static index.html and trust.json generated from the record
    Publish {
        /// The directory to write index.html and trust.json into (created if missing)
        #[arg(short, long, value_name = "DIR", default_value = "trust")]
        output: PathBuf,
        /// Who the page is for: public shows only public content; nda adds nda content.
        /// internal content is never published
        #[arg(long, value_enum, default_value_t = AudienceArg::Public)]
        audience: AudienceArg,
        /// Replace index.html or trust.json even when an earlier publish did not write them
        #[arg(long)]
        force: bool,
    },
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

/// Where the questions are, when detection needs help.
#[derive(clap::Args)]
struct LayoutArgs {
    /// Only these sheets (repeatable)
    #[arg(long, value_name = "NAME")]
    sheet: Vec<String>,
    /// The question column (letter)
    #[arg(long, value_name = "COL", value_parser = parse_col)]
    question_col: Option<u32>,
    /// The answer column (letter)
    #[arg(long, value_name = "COL", value_parser = parse_col)]
    answer_col: Option<u32>,
    /// The comment/explanation column (letter)
    #[arg(long, value_name = "COL", value_parser = parse_col)]
    comment_col: Option<u32>,
    /// The header row (1-based)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    header_row: Option<u32>,
}

impl LayoutArgs {
    fn overrides(self) -> Overrides {
        Overrides {
            sheets: self.sheet,
            question_col: self.question_col,
            answer_col: self.answer_col,
            comment_col: self.comment_col,
            header_row: self.header_row.map(|r| r - 1),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum AudienceArg {
    Public,
    Nda,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    /// GitHub Actions annotations
    Github,
}

/// Where the record is: named (`--record`, else `ONRECORD_RECORD`), found above the current
/// directory, or not found. Resolved when parsing, reported only by a command that needs it
/// (`fill --dry-run` needs none).
pub enum RecordPlace {
    Named(PathBuf),
    FromEnv(PathBuf),
    Found(PathBuf),
    NotFound { cwd: PathBuf },
}

/// The environment variable naming the record when `--record` does not.
const RECORD_ENV: &str = "ONRECORD_RECORD";

impl RecordPlace {
    fn resolve(flag: Option<PathBuf>) -> RecordPlace {
        if let Some(named) = flag {
            return RecordPlace::Named(named);
        }
        if let Some(env) = std::env::var_os(RECORD_ENV).filter(|v| !v.is_empty()) {
            return RecordPlace::FromEnv(PathBuf::from(env));
        }
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        match onrecord::record::discover(&cwd) {
            Some(found) => RecordPlace::Found(found),
            None => RecordPlace::NotFound { cwd },
        }
    }
}

pub struct Config {
    pub record: RecordPlace,
    pub format: Format,
    pub quiet: bool,
    pub today: Date,
    pub limits: Limits,
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
    Fill(crate::cmd::FillArgs),
    Learn {
        file: PathBuf,
        dry_run: bool,
    },
    Init {
        dir: PathBuf,
    },
    Coverage(crate::cmd::CoverageArgs),
    Eval(crate::cmd::EvalArgs),
    Ask {
        question: String,
        top: usize,
        explain: bool,
    },
    Publish(crate::cmd::PublishArgs),
}

impl Config {
    /// The record's directory, or an error that says where it was looked for and how to
    /// make one.
    pub fn record(&self) -> anyhow::Result<&Path> {
        match &self.record {
            RecordPlace::Named(path) | RecordPlace::Found(path) => Ok(path),
            RecordPlace::FromEnv(path) if !path.join(onrecord::record::KNOWLEDGE_DIR).is_dir() => {
                anyhow::bail!(
                    "{RECORD_ENV} names `{}`, which is not a record: it has no `{}/` \
                     directory; set it to a record, or unset it to find the record above the \
                     current directory",
                    path.display(),
                    onrecord::record::KNOWLEDGE_DIR
                )
            }
            RecordPlace::FromEnv(path) => Ok(path),
            RecordPlace::NotFound { cwd } => anyhow::bail!(
                "no record found: looked for a `{}/` directory in `{}` and every directory \
                 above it (and {RECORD_ENV} is not set); {}",
                onrecord::record::KNOWLEDGE_DIR,
                cwd.display(),
                onrecord::record::MAKE_ONE
            ),
        }
    }
}

pub fn parse() -> Result<Config, clap::Error> {
    let args = Args::try_parse()?;
    let mut limits = Limits::default();
    for spec in &args.limits {
        limits.set(spec).map_err(|message| {
            <Args as clap::CommandFactory>::command().error(
                clap::error::ErrorKind::ValueValidation,
                format!("invalid value for --limit: {message}"),
            )
        })?;
    }
    let command = match args.command {
        Command::Check { max_age } => CommandConfig::Check { max_age },
        Command::Gaps { framework, min } => CommandConfig::Gaps { framework, min },
        Command::Index => CommandConfig::Index,
        Command::Fill {
            file,
            output,
            report,
            dry_run,
            overwrite,
            force,
            review,
            no_review,
            review_all,
            layout,
            max_age,
        } => CommandConfig::Fill(crate::cmd::FillArgs {
            file,
            output,
            report,
            dry_run,
            overwrite,
            replace: replace(force),
            review: if no_review {
                crate::cmd::Review::None
            } else {
                crate::cmd::Review::Write {
                    path: review,
                    all: review_all,
                }
            },
            overrides: layout.overrides(),
            max_age,
        }),
        Command::Learn { file, dry_run } => CommandConfig::Learn { file, dry_run },
        Command::Init { dir } => CommandConfig::Init { dir },
        Command::Coverage {
            files,
            min,
            min_answered,
            baseline,
            write_baseline,
            force,
            max_age,
            fail_stale,
            layout,
        } => CommandConfig::Coverage(crate::cmd::CoverageArgs {
            files,
            min,
            min_answered,
            baseline,
            write_baseline,
            replace: replace(force),
            // Failing on stale citations needs an age; `check`'s default serves.
            max_age: max_age.or(fail_stale.then_some(DEFAULT_MAX_AGE)),
            fail_stale,
            overrides: layout.overrides(),
        }),
        Command::Eval {
            file,
            min_agreement,
            layout,
        } => CommandConfig::Eval(crate::cmd::EvalArgs {
            file,
            min_agreement,
            overrides: layout.overrides(),
        }),
        Command::Publish {
            output,
            audience,
            force,
        } => CommandConfig::Publish(crate::cmd::PublishArgs {
            output,
            audience: match audience {
                AudienceArg::Public => onrecord::publish::Audience::Public,
                AudienceArg::Nda => onrecord::publish::Audience::Nda,
            },
            replace: replace(force),
        }),
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
        record: RecordPlace::resolve(args.record),
        format: args.format,
        quiet: args.quiet,
        today: args.today.unwrap_or_else(Date::today),
        limits,
        command,
    })
}

fn replace(force: bool) -> Replace {
    if force {
        Replace::Force
    } else {
        Replace::Refuse
    }
}

fn parse_date(text: &str) -> Result<Date, String> {
    Date::parse(text).ok_or_else(|| format!("`{text}` is not a date like 2026-09-01"))
}

fn parse_col(text: &str) -> Result<u32, String> {
    onrecord::questionnaire::col_index(text)
        .ok_or_else(|| format!("`{text}` is not a column letter like C or AB"))
}

fn parse_percent(text: &str) -> Result<f64, String> {
    match text.trim_end_matches('%').parse::<f64>() {
        Ok(p) if (0.0..=100.0).contains(&p) => Ok(p),
        _ => Err(format!("`{text}` is not a percentage from 0 to 100")),
    }
}
