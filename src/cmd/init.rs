//! `onrecord init [DIR]`: a starter record that passes `check`.

use std::path::Path;

use anyhow::{Result, bail};
use onrecord::init;
use onrecord::outputs::{Outputs, Replace};
use onrecord::record::KNOWLEDGE_DIR;

use super::Outcome;
use crate::cli::Config;

pub fn run(config: &Config, dir: &Path) -> Result<Outcome> {
    if dir.join(KNOWLEDGE_DIR).exists() {
        bail!(
            "`{}` already holds a record (it has `{KNOWLEDGE_DIR}/`); onrecord init never writes over one: choose another directory",
            dir.display()
        );
    }
    let files = init::starter(config.today);
    for (rel, _) in &files {
        if let Some(parent) = dir.join(rel).parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| anyhow::anyhow!("could not create `{}`: {e}", parent.display()))?;
        }
    }
    // Refuses a file that is there already: a person's work is never replaced.
    let no_inputs: [&Path; 0] = [];
    let mut outputs = Outputs::new(&no_inputs, Replace::Refuse);
    for (rel, text) in &files {
        let path = dir.join(rel);
        outputs.claim(&path, "a starter record file")?;
        outputs.set(&path, text.clone().into_bytes())?;
    }
    outputs.commit()?;
    if !config.quiet {
        eprintln!(
            "wrote a starter record in {}: {}\nnext: edit profile.toml and knowledge/identity.toml, then `onrecord --record {} check`",
            dir.display(),
            files
                .iter()
                .map(|(rel, _)| *rel)
                .collect::<Vec<_>>()
                .join(", "),
            dir.display()
        );
    }
    Ok(Outcome::Success)
}
