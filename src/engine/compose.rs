//! Composing what the customer receives: which controls are cited, their framework
//! references, the customer's part (CUEC rows) and the response text.

use serde::Serialize;

use super::retrieve::{Analysis, Candidate, Matcher, SeenUnit};
use crate::catalog;
use crate::check::{CheckOptions, stale_age};
use crate::record::Record;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Citation {
    pub control: String,
    pub soc2: Vec<String>,
    pub iso27001: Vec<String>,
    pub cuec: Vec<String>,
}

/// A control with its framework references.
pub fn citation(record: &Record, control: &str) -> Citation {
    let mapping = record.mapping(control);
    let refs = |key: &str| mapping.map(|m| m.get(key).to_vec()).unwrap_or_default();
    Citation {
        control: control.to_string(),
        soc2: refs(catalog::SOC2),
        iso27001: refs(catalog::ISO27001),
        cuec: refs(catalog::CUEC),
    }
}

/// A second control is cited when it explains a real part of the question the best one
/// leaves unexplained, and is itself a plausible match (its score at least `floor`).
pub fn second_citation(
    matcher: &Matcher,
    analysis: &Analysis,
    candidates: &[Candidate],
    floor: f32,
) -> Option<usize> {
    let best = candidates.first()?;
    let missing: Vec<&SeenUnit> = analysis.units.iter().filter(|u| !u.covered).collect();
    let total: f32 = analysis.units.iter().map(|u| u.weight).sum();
    if missing.is_empty() || total <= 0.0 {
        return None;
    }
    candidates
        .iter()
        .skip(1)
        .filter(|c| c.score >= floor && c.index != best.index)
        .map(|c| {
            let gain: f32 = missing
                .iter()
                .filter(|u| matcher.covers(c.index, &u.token))
                .map(|u| u.weight)
                .sum();
            (c.index, gain / total)
        })
        .filter(|(_, gain)| *gain >= 0.2)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(i, _)| i)
}

/// The cited controls reviewed longer ago than `staleness` allows (or never), in citation
/// order; empty when staleness is not checked.
pub fn stale_controls(
    record: &Record,
    staleness: Option<&CheckOptions>,
    citations: &[Citation],
) -> Vec<String> {
    let Some(options) = staleness else {
        return Vec::new();
    };
    citations
        .iter()
        .filter_map(|c| record.control(&c.control))
        .filter(|c| c.reviewed.is_none() || stale_age(c.reviewed, options).is_some())
        .map(|c| c.id.clone())
        .collect()
}

/// The titles of the CUEC rows the citations carry, each once, in citation order.
pub fn customer_parts(record: &Record, citations: &[Citation]) -> Vec<String> {
    let Some(cuec) = record.catalog(catalog::CUEC) else {
        return Vec::new();
    };
    let mut parts: Vec<String> = Vec::new();
    for id in citations.iter().flat_map(|c| &c.cuec) {
        if let Some(entry) = cuec.get(id)
            && !parts.contains(&entry.title)
        {
            parts.push(entry.title.clone());
        }
    }
    parts
}
