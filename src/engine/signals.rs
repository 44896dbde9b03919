//! Named signals and their calibration: what the decision is computed from.
//!
//! A candidate's signals are computed by [`super::retrieve`]; the best candidate's, with its
//! lead over the runner-up and the question's length, are its [`Evidence`]. A logistic model
//! ([`Calibration`]) turns evidence into the confidence; its weights and the two thresholds
//! live in `calibration.toml`, written by the fitting tool, never pasted into code.

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use super::retrieve::Ranking;

/// The data file the fitting tool writes.
pub const CALIBRATION_TOML: &str = include_str!("calibration.toml");

/// The most of a lead that counts.
pub const LEAD_CAP: f32 = 0.3;

/// One signal of the best candidate, by the name the calibration file uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Signal {
    /// The judge's score of the best candidate.
    Score,
    /// The weighted share of the question it covers.
    Coverage,
    /// How closely one of its phrasings reads like the question.
    Phrasing,
    /// Its lead over the runner-up, at most [`LEAD_CAP`]: a question two controls explain
    /// about equally well is one neither answers specifically.
    Lead,
    /// How many units the question has: long questions score lower for the same fit.
    Units,
    /// Its similarity to the question by meaning (sentence embeddings): long questionnaire
    /// questions whose words a control explains only in part may still mean what it says.
    Semantic,
}

impl Signal {
    pub const ALL: [Signal; 6] = [
        Signal::Score,
        Signal::Coverage,
        Signal::Phrasing,
        Signal::Lead,
        Signal::Units,
        Signal::Semantic,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Signal::Score => "score",
            Signal::Coverage => "coverage",
            Signal::Phrasing => "phrasing",
            Signal::Lead => "lead",
            Signal::Units => "units",
            Signal::Semantic => "semantic",
        }
    }

    fn from_name(name: &str) -> Option<Signal> {
        Signal::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// What the confidence is computed from: the judge's view of the best candidate.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Evidence {
    pub score: f32,
    pub coverage: f32,
    pub phrasing: f32,
    pub lead: f32,
    pub units: f32,
    pub semantic: f32,
}

impl Evidence {
    /// How strong the match is, to send it unread: the judge's score plus half its lead.
    pub fn strength(&self) -> f32 {
        self.score + 0.5 * self.lead
    }

    pub fn get(&self, signal: Signal) -> f32 {
        match signal {
            Signal::Score => self.score,
            Signal::Coverage => self.coverage,
            Signal::Phrasing => self.phrasing,
            Signal::Lead => self.lead,
            Signal::Units => self.units,
            Signal::Semantic => self.semantic,
        }
    }
}

/// The two decisions, each on its own measure (see `calibration.toml`).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct Thresholds {
    /// Strength at or above which the answer is sent unread.
    pub answer: f32,
    /// Strength at or above which an answer through a framework id the record maps is sent
    /// unread: the record's own mapping says the control addresses it.
    pub framework: f32,
    /// Confidence below which the question is not on the record.
    pub review: f32,
}

/// A logistic model from [`Evidence`] to the probability that the best candidate is a right
/// citation: the confidence.
#[derive(Debug, Clone, PartialEq)]
pub struct Calibration {
    pub weights: Vec<(Signal, f32)>,
    pub bias: f32,
}

impl Calibration {
    pub fn confidence(&self, evidence: &Evidence) -> f32 {
        let z: f32 = self
            .weights
            .iter()
            .map(|&(signal, w)| w * evidence.get(signal))
            .sum::<f32>()
            + self.bias;
        1.0 / (1.0 + (-z).exp())
    }

    /// The confidence as the engine reports it and compares it with the review threshold:
    /// rounded to hundredths.
    pub fn reported(&self, evidence: &Evidence) -> f32 {
        (self.confidence(evidence) * 100.0).round() / 100.0
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    thresholds: Thresholds,
    ranking: Ranking,
    calibration: FileCalibration,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileCalibration {
    bias: f32,
    weights: toml::Table,
}

/// Reads a calibration file's text (the built-in one is [`CALIBRATION_TOML`]).
pub fn parse(text: &str) -> Result<(Calibration, Thresholds, Ranking)> {
    let file: File = toml::from_str(text).context("calibration.toml")?;
    let mut weights = Vec::new();
    for (name, value) in &file.calibration.weights {
        let Some(signal) = Signal::from_name(name) else {
            bail!("calibration.toml: unknown signal `{name}`");
        };
        let Some(w) = value
            .as_float()
            .or_else(|| value.as_integer().map(|i| i as f64))
        else {
            bail!("calibration.toml: the weight of `{name}` is not a number");
        };
        weights.push((signal, w as f32));
    }
    weights.sort_by_key(|&(s, _)| s);
    Ok((
        Calibration {
            weights,
            bias: file.calibration.bias,
        },
        file.thresholds,
        file.ranking,
    ))
}

/// The built-in calibration and thresholds.
pub fn builtin() -> Result<(Calibration, Thresholds, Ranking)> {
    parse(CALIBRATION_TOML)
}

/// Writes a calibration file in the built-in file's layout, comments kept: the fitting tool's
/// output.
pub fn render(calibration: &Calibration, thresholds: &Thresholds) -> String {
    let mut out = String::new();
    let mut section = "";
    for line in CALIBRATION_TOML.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            section = trimmed;
            out.push_str(line);
            out.push('\n');
            if section == "[calibration.weights]" {
                for &(signal, w) in &calibration.weights {
                    out.push_str(&format!("{} = {w}\n", signal.name()));
                }
            }
            continue;
        }
        let key = trimmed.split('=').next().unwrap_or("").trim();
        let value = match (section, key) {
            ("[thresholds]", "answer") => Some(thresholds.answer),
            ("[thresholds]", "review") => Some(thresholds.review),
            ("[thresholds]", "framework") => Some(thresholds.framework),
            ("[calibration]", "bias") => Some(calibration.bias),
            ("[calibration.weights]", k) if !k.is_empty() && !k.starts_with('#') => continue,
            _ => None,
        };
        match value {
            Some(v) => out.push_str(&format!("{key} = {v}\n")),
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_calibration_reads_and_names_every_signal() {
        let (calibration, thresholds, _) = builtin().unwrap();
        assert_eq!(calibration.weights.len(), Signal::ALL.len());
        assert!(thresholds.review > 0.0 && thresholds.answer > 0.0);
    }

    #[test]
    fn rendering_the_built_in_calibration_gives_the_file_back() {
        let (calibration, thresholds, _) = builtin().unwrap();
        assert_eq!(render(&calibration, &thresholds), CALIBRATION_TOML);
    }

    #[test]
    fn an_unknown_signal_is_refused_by_name() {
        let text = CALIBRATION_TOML.replace("units =", "unitz =");
        let error = parse(&text).unwrap_err().to_string();
        assert!(error.contains("unitz"), "{error}");
    }
}
