//! One module per subcommand. Each loads what it needs through the library and renders the
//! result for the chosen format; none computes anything the library could.

/// `print!` and `println!` that hand back the write error instead of panicking: a reader
/// that stops early (`onrecord ask ... | head -1`) ends the command quietly (see `main`).
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        write!(std::io::stdout().lock(), $($arg)*)
    }};
}

macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)
    }};
}

mod ask;
mod check;
mod coverage;
mod eval;
mod fill;
mod gaps;
mod index;
mod init;
mod learn;
mod publish;

use std::io::IsTerminal;
use std::path::Path;

use anyhow::Result;
use onrecord::check::CheckOptions;
use onrecord::engine::{Engine, Status};
use onrecord::record::Answer;
use onrecord::report::Summary;

use crate::cli::{CommandConfig, Config, Format};
pub use coverage::CoverageArgs;
pub use eval::EvalArgs;
pub use fill::{FillArgs, Review};
pub use publish::PublishArgs;

/// Exit codes: 0 success, 1 the check or gate failed, 2 usage error or unreadable input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success = 0,
    Failed = 1,
    BadInput = 2,
}

pub fn run(config: &Config) -> Result<Outcome> {
    match &config.command {
        CommandConfig::Check { max_age } => check::run(config, *max_age),
        CommandConfig::Gaps { framework, min } => gaps::run(config, framework.as_deref(), *min),
        CommandConfig::Index => index::run(config),
        CommandConfig::Fill(args) => fill::run(config, args),
        CommandConfig::Learn { file, dry_run } => learn::run(config, file, *dry_run),
        CommandConfig::Init { dir } => init::run(config, dir),
        CommandConfig::Coverage(args) => coverage::run(config, args),
        CommandConfig::Eval(args) => eval::run(config, args),
        CommandConfig::Ask {
            question,
            top,
            explain,
        } => ask::run(config, question, *top, *explain),
        CommandConfig::Publish(args) => publish::run(config, args),
    }
}

/// A record-relative path as the user can open it from where they ran the command.
pub fn display_path(record: &Path, rel: &str) -> String {
    if record == Path::new(".") || rel.is_empty() {
        rel.to_string()
    } else {
        format!(
            "{}/{rel}",
            record.display().to_string().trim_end_matches('/')
        )
    }
}

/// The engine every answering command uses; with `max_age`, answers citing a control reviewed
/// longer ago go to review.
pub fn open_engine(config: &Config, max_age: Option<i64>) -> Result<Engine> {
    let mut engine = Engine::open_with(config.record()?, &config.limits)?;
    engine.staleness = max_age.map(|days| CheckOptions {
        today: config.today,
        max_age_days: days,
    });
    Ok(engine)
}

/// Every file of the engine's record: inputs no output may replace.
pub fn record_files(engine: &Engine) -> Vec<std::path::PathBuf> {
    let root = &engine.record.root;
    engine
        .record
        .files
        .iter()
        .map(|(rel, _)| root.join(rel))
        .collect()
}

/// A progress bar on stderr, only on a terminal and for enough questions to be worth it.
pub fn progress(total: usize, quiet: bool) -> indicatif::ProgressBar {
    if quiet || total < 50 || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(total as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} questions")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}

/// `NAME: 12 questions, 8 answered, 2 review, 2 not on the record, coverage 83.3% (66.7%
/// answered)`.
pub fn summary_line(name: &str, s: &Summary) -> String {
    format!("{name}: {}", counts(s))
}

/// `12 questions, 8 answered, 2 review, 2 not on the record, coverage 83.3% (66.7% answered)`:
/// coverage counts review rows too, the answered share only what is sent unread.
pub fn counts(s: &Summary) -> String {
    format!(
        "{} questions, {} answered, {} review, {} not on the record, coverage {:.1}% ({:.1}% \
         answered)",
        s.questions,
        s.answered,
        s.review,
        s.not_on_record,
        s.coverage * 100.0,
        s.answered_share * 100.0
    )
}

/// `value` as pretty JSON, one line feed at the end: what reports and baselines hold.
pub fn json_bytes(value: &impl serde::Serialize) -> Result<Vec<u8>> {
    Ok((serde_json::to_string_pretty(value)? + "\n").into_bytes())
}

/// GitHub Actions annotation levels.
#[derive(Clone, Copy)]
pub enum Level {
    Error,
    Warning,
    Notice,
}

/// Where an annotation points: a file, and a line in it when there is one.
#[derive(Default)]
pub struct Place<'a> {
    pub file: Option<&'a str>,
    pub line: Option<usize>,
    pub title: Option<&'a str>,
}

/// A GitHub Actions workflow command: `::error file=F,line=N,title=T::message`. The message
/// escapes `%`, CR and LF; property values also `:` and `,`, as the syntax requires.
pub fn annotation(level: Level, at: &Place, message: &str) -> String {
    let escape_data = |s: &str| {
        s.replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A")
    };
    let escape_prop = |s: &str| escape_data(s).replace(':', "%3A").replace(',', "%2C");
    let level = match level {
        Level::Error => "error",
        Level::Warning => "warning",
        Level::Notice => "notice",
    };
    let mut props = Vec::new();
    if let Some(file) = at.file {
        props.push(format!("file={}", escape_prop(file)));
    }
    if let Some(line) = at.line.filter(|&l| l > 0) {
        props.push(format!("line={line}"));
    }
    if let Some(title) = at.title {
        props.push(format!("title={}", escape_prop(title)));
    }
    let props = if props.is_empty() {
        String::new()
    } else {
        format!(" {}", props.join(","))
    };
    format!("::{level}{props}::{}", escape_data(message))
}

/// `answered yes`, `review (proposed no)`, `not on the record`.
pub fn claim_text(status: Status, answer: Option<Answer>) -> String {
    let answer = answer.map(Answer::as_str).unwrap_or("-");
    match status {
        Status::Answered => format!("answered {answer}"),
        Status::Review => format!("review (proposed {answer})"),
        Status::NotOnRecord => "not on the record".to_string(),
    }
}

/// Says why a gate failed: on stderr, and as an `::error` annotation in the github format.
pub fn gate_failed(format: Format, file: Option<&str>, title: &str, message: &str) -> Result<()> {
    if format == Format::Github {
        let at = Place {
            file,
            title: Some(title),
            ..Place::default()
        };
        outln!("{}", annotation(Level::Error, &at, message))?;
    }
    match file {
        Some(file) => eprintln!("onrecord: {file}: {message}"),
        None => eprintln!("onrecord: {message}"),
    }
    Ok(())
}
