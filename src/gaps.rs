//! `gaps`: which framework entries the record leaves uncovered.
//!
//! An entry is covered when a control answering `yes` or `partial` maps to it; entries
//! backed only by `no` controls (honest gaps) or only by `n/a` controls (declared out of
//! scope) are listed apart, as an auditor would read them.

use serde::Serialize;

use crate::catalog::{self, Catalog, Entry};
use crate::record::{Answer, Control, Record};

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

/// How far the record supports one framework entry, from the answers of the controls mapped
/// to it. `gaps` counts `Covered` and `Partly` as covered; `publish` shows all five.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Support {
    /// A `yes` control maps to it.
    Covered,
    /// Only `partial` controls (and maybe `no` or `n/a` ones) map to it.
    Partly,
    /// Only `no` controls map to it: an honest gap.
    OnlyNo,
    /// No control maps to it.
    Uncovered,
    /// Only `n/a` controls map to it: declared out of scope.
    OutOfScope,
}

impl Support {
    pub fn is_covered(self) -> bool {
        matches!(self, Support::Covered | Support::Partly)
    }
}

/// One catalog entry with the controls mapped to it, in record order, and its support.
pub struct EntryCoverage<'a> {
    pub entry: &'a Entry,
    pub controls: Vec<&'a Control>,
    pub support: Support,
}

/// Every entry of `catalog`, in catalog order, with what the record puts behind it.
pub fn entry_coverage<'a>(record: &'a Record, catalog: &'a Catalog) -> Vec<EntryCoverage<'a>> {
    catalog
        .entries
        .iter()
        .map(|entry| {
            let controls: Vec<&Control> = record
                .controls
                .iter()
                .filter(|c| {
                    record
                        .mapping(&c.id)
                        .is_some_and(|m| m.get(&catalog.key).contains(&entry.id))
                })
                .collect();
            let any = |answer: Answer| controls.iter().any(|c| c.answer == answer);
            let support = if any(Answer::Yes) {
                Support::Covered
            } else if any(Answer::Partial) {
                Support::Partly
            } else if controls.is_empty() {
                Support::Uncovered
            } else if any(Answer::No) {
                Support::OnlyNo
            } else {
                Support::OutOfScope
            };
            EntryCoverage {
                entry,
                controls,
                support,
            }
        })
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
    for EntryCoverage {
        entry,
        controls,
        support,
    } in entry_coverage(record, catalog)
    {
        let gap = |answer: Option<Answer>| Gap {
            id: entry.id.clone(),
            title: entry.title.clone(),
            controls: controls
                .iter()
                .filter(|c| Some(c.answer) == answer)
                .map(|c| c.id.clone())
                .collect(),
        };
        let covered = support.is_covered();
        match support {
            Support::Covered | Support::Partly => result.covered += 1,
            Support::Uncovered => result.uncovered.push(gap(None)),
            Support::OnlyNo => result.only_no.push(gap(Some(Answer::No))),
            Support::OutOfScope => result.only_na.push(gap(Some(Answer::NotApplicable))),
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

/// The category an entry is summarised under: CC, A, C, PI or P for SOC 2, the theme for
/// ISO 27001, none for other catalogs.
pub fn category<'a>(catalog: &Catalog, entry: &'a Entry) -> &'a str {
    if catalog.key == catalog::SOC2 {
        soc2_group(&entry.id)
    } else {
        &entry.group
    }
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
