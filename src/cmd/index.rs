//! `onrecord index`: build (or confirm) the record's search index.

use anyhow::Result;
use onrecord::engine::Engine;
use onrecord::index::Origin;

use super::Outcome;
use crate::cli::{Config, Format};

pub fn run(config: &Config) -> Result<Outcome> {
    let engine = Engine::open_with(config.record()?, &config.limits)?;
    let origin = match engine.index_origin {
        Origin::Reused => "up to date",
        Origin::Built => "built",
        Origin::InMemory => "built in memory (the record directory is not writable)",
    };
    let controls = engine.record.controls.len();
    match config.format {
        Format::Json => outln!(
            "{}",
            serde_json::json!({"controls": controls, "index": origin})
        )?,
        _ if !config.quiet => outln!("index {origin}: {controls} controls")?,
        _ => {}
    }
    Ok(Outcome::Success)
}
