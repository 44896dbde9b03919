//! Framework catalogs: the SOC 2 criteria and ISO/IEC 27001:2022 Annex A controls built into
//! the binary, the 2013→2022 Annex A correspondence, and a record's own extra catalogs
//! (`mappings/frameworks/KEY.csv`).
//!
//! Catalog data lives in `src/catalogs/*.csv` and is compiled in with `include_str!`; a bad
//! built-in catalog is a bug caught by the unit tests, never a user-facing error.

use std::collections::BTreeMap;

const SOC2_CSV: &str = include_str!("catalogs/soc2.csv");
const ISO27001_CSV: &str = include_str!("catalogs/iso27001_2022.csv");
const ISO2013_CSV: &str = include_str!("catalogs/iso27001_2013_to_2022.csv");

/// The mapping-column keys with built-in meaning.
pub const SOC2: &str = "soc2";
pub const ISO27001: &str = "iso27001";
pub const CUEC: &str = "cuec";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub id: String,
    pub title: String,
    /// SOC 2 category or ISO theme; empty for other catalogs.
    pub group: String,
}

#[derive(Debug, Clone)]
pub struct Catalog {
    /// The column key in `controls.csv`: `soc2`, `iso27001`, `cuec` or a record's own key.
    pub key: String,
    /// How users read it: "SOC 2", "ISO 27001", "CUEC".
    pub name: String,
    pub entries: Vec<Entry>,
}

impl Catalog {
    pub fn get(&self, id: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.id == id)
    }

    pub fn contains(&self, id: &str) -> bool {
        self.get(id).is_some()
    }

    /// Parses a catalog csv whose first column is the id and whose `title` column names it.
    pub fn from_csv(key: &str, name: &str, text: &str) -> Result<Catalog, String> {
        let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
        let headers = reader.headers().map_err(|e| e.to_string())?.clone();
        let column = |name: &str| headers.iter().position(|h| h.trim() == name);
        let id_col = column("id").unwrap_or(0);
        let title_col = column("title").ok_or("missing `title` column")?;
        let group_col = column("category").or_else(|| column("theme"));
        let mut entries = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|e| e.to_string())?;
            let field = |i: usize| record.get(i).unwrap_or("").trim().to_string();
            entries.push(Entry {
                id: field(id_col),
                title: field(title_col),
                group: group_col.map(field).unwrap_or_default(),
            });
        }
        Ok(Catalog {
            key: key.to_string(),
            name: name.to_string(),
            entries,
        })
    }
}

fn builtin(key: &str, name: &str, text: &str) -> Catalog {
    // The built-in csv files are part of the source; the tests parse them.
    Catalog::from_csv(key, name, text).unwrap_or_else(|e| panic!("built-in catalog {key}: {e}"))
}

pub fn soc2() -> Catalog {
    builtin(SOC2, "SOC 2", SOC2_CSV)
}

pub fn iso27001() -> Catalog {
    builtin(ISO27001, "ISO 27001", ISO27001_CSV)
}

/// ISO/IEC 27001:2013 Annex A ids and their 2022 successors (ISO/IEC 27002:2022 Annex B).
pub fn iso2013_successors() -> BTreeMap<String, Vec<String>> {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut reader = csv::Reader::from_reader(ISO2013_CSV.as_bytes());
    for record in reader.records().flatten() {
        if let (Some(old), Some(new)) = (record.get(0), record.get(2)) {
            map.entry(old.to_string())
                .or_default()
                .push(new.to_string());
        }
    }
    map
}

/// ISO/IEC 27001:2013 Annex A id → its title.
pub fn iso2013_titles() -> BTreeMap<String, String> {
    let mut reader = csv::Reader::from_reader(ISO2013_CSV.as_bytes());
    reader
        .records()
        .flatten()
        .filter_map(|r| Some((r.get(0)?.to_string(), r.get(1)?.to_string())))
        .collect()
}

/// The SOC 2 series an id belongs to ("CC6" for "CC6.1", "P4" for "P4.2"), for per-series totals.
pub fn soc2_series(id: &str) -> &str {
    id.split('.').next().unwrap_or(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn soc2_has_61_criteria_33_common() {
        let soc2 = soc2();
        assert_eq!(soc2.entries.len(), 61);
        let cc = soc2
            .entries
            .iter()
            .filter(|e| e.id.starts_with("CC"))
            .count();
        assert_eq!(cc, 33);
        for prefix in ["A1.", "C1.", "PI1.", "P"] {
            assert!(soc2.entries.iter().any(|e| e.id.starts_with(prefix)));
        }
        assert!(soc2.entries.iter().all(|e| !e.title.is_empty()));
        assert_eq!(
            soc2.entries
                .iter()
                .filter(|e| e.id.starts_with("PI"))
                .count(),
            5
        );
    }

    #[test]
    fn iso27001_has_93_controls_by_theme() {
        let iso = iso27001();
        assert_eq!(iso.entries.len(), 93);
        let count = |theme: &str| iso.entries.iter().filter(|e| e.group == theme).count();
        assert_eq!(count("Organisational"), 37);
        assert_eq!(count("People"), 8);
        assert_eq!(count("Physical"), 14);
        assert_eq!(count("Technological"), 34);
        assert_eq!(
            iso.get("A.8.24").map(|e| e.title.as_str()),
            Some("Use of cryptography")
        );
    }

    #[test]
    fn iso2013_correspondence_covers_114_old_ids_with_valid_successors() {
        let map = iso2013_successors();
        assert_eq!(map.len(), 114);
        let iso = iso27001();
        assert!(map.values().flatten().all(|id| iso.contains(id)));
        assert_eq!(map["A.9.4.2"], vec!["A.8.5"]);
        assert_eq!(map["A.18.2.3"].len(), 2);
    }

    #[test]
    fn did_you_mean_finds_typos_only() {
        use crate::diag::did_you_mean;
        let ids = ["CC6.1", "CC6.2", "CC7.1"];
        assert_eq!(
            did_you_mean("CC6.10", ids),
            Some("did you mean `CC6.1`?".into())
        );
        assert_eq!(
            did_you_mean("ENC-1", ["ENC-01", "IAM-01"]),
            Some("did you mean `ENC-01`?".into())
        );
        assert_eq!(did_you_mean("PI1.9", ids), None);
    }
}
