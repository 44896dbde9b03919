//! One module per subcommand. Each loads what it needs through the library and renders the
//! result for the chosen format; none computes anything the library could.

mod ask;
mod check;
mod fill;
mod gaps;
mod index;

use std::path::Path;

use anyhow::Result;

use crate::cli::{CommandConfig, Config};
pub use fill::FillArgs;

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
        CommandConfig::Ask {
            question,
            top,
            explain,
        } => ask::run(config, question, *top, *explain),
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
