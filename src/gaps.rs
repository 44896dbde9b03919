//! `gaps`: which framework entries the record leaves uncovered.
//!
//! An entry is covered when a control answering `yes` or `partial` maps to it; entries
//! backed only by `no` controls (honest gaps) or only by `n/a` controls (declared out of
//! scope) are listed apart, as an auditor would read them.

use serde::Serialize;

use crate::catalog::{self, Catalog};
use crate::record::{Answer, Record};

#[derive(Debug, Serialize)]
pub struct Gap {
    pub id: String,
    pub title: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub controls: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct FrameworkGaps {
    pub framework: String,
    #[serde(skip)]
    pub name: String,
    pub entries: usize,
    pub covered: usize,
    pub uncovered: Vec<Gap>,
    pub only_no: Vec<Gap>,
    pub only_na: Vec<Gap>,
    /// Per series ("CC", "A1", "P" ...) for SOC 2; empty for other frameworks.
    #[serde(skip)]
    pub series: Vec<(String, usize, usize)>,
}

impl FrameworkGaps {
    pub fn coverage(&self) -> f64 {
        if self.entries == 0 {
            1.0
        } else {
            self.covered as f64 / self.entries as f64
        }
    }
}

/// Gaps for the named framework, or for every catalog of the record when `only` is `None`.
pub fn gaps(record: &Record, only: Option<&str>) -> Vec<FrameworkGaps> {
    record
        .catalogs
        .iter()
        .filter(|c| only.is_none_or(|key| c.key == key))
        .map(|c| framework_gaps(record, c))
        .collect()
}

fn framework_gaps(record: &Record, catalog: &Catalog) -> FrameworkGaps {
    let mut result = FrameworkGaps {
        framework: catalog.key.clone(),
        name: catalog.name.clone(),
        entries: catalog.entries.len(),
        covered: 0,
        uncovered: Vec::new(),
        only_no: Vec::new(),
        only_na: Vec::new(),
        series: Vec::new(),
    };
    for entry in &catalog.entries {
        let behind: Vec<(&str, Answer)> = record
            .controls
            .iter()
            .filter(|c| {
                record
                    .mapping(&c.id)
                    .is_some_and(|m| m.get(&catalog.key).contains(&entry.id))
            })
            .map(|c| (c.id.as_str(), c.answer))
            .collect();
        let gap = |controls: Vec<String>| Gap {
            id: entry.id.clone(),
            title: entry.title.clone(),
            controls,
        };
        let ids = |answer: Answer| {
            behind
                .iter()
                .filter(|(_, a)| *a == answer)
                .map(|(id, _)| id.to_string())
                .collect()
        };
        let covered = behind
            .iter()
            .any(|(_, a)| matches!(a, Answer::Yes | Answer::Partial));
        if covered {
            result.covered += 1;
        } else if behind.is_empty() {
            result.uncovered.push(gap(Vec::new()));
        } else if behind.iter().any(|(_, a)| *a == Answer::No) {
            result.only_no.push(gap(ids(Answer::No)));
        } else {
            result.only_na.push(gap(ids(Answer::NotApplicable)));
        }
        if catalog.key == catalog::SOC2 {
            let series = soc2_group(&entry.id);
            match result.series.iter_mut().find(|(s, _, _)| s == series) {
                Some(row) => {
                    row.1 += usize::from(covered);
                    row.2 += 1;
                }
                None => result
                    .series
                    .push((series.to_string(), usize::from(covered), 1)),
            }
        }
    }
    result
}

/// SOC 2 criteria are reported by category: CC, A, C, PI, P.
fn soc2_group(id: &str) -> &'static str {
    let series = catalog::soc2_series(id);
    if series.starts_with("CC") {
        "CC"
    } else if series.starts_with("PI") {
        "PI"
    } else if series.starts_with('A') {
        "A"
    } else if series.starts_with('C') {
        "C"
    } else {
        "P"
    }
}
