//! The bounds on what onrecord reads: questionnaires from strangers and record files alike.
//!
//! Every reader checks these while it streams, before it allocates, so a hostile or broken
//! file costs bounded memory and time and ends in an error that names the file and the limit
//! (`... exceeds the limit shared_strings (1000000); raise it with --limit shared_strings=N`).
//! The defaults sit far above any real questionnaire or record; each can be raised (or
//! lowered) with `--limit NAME=VALUE`. The table of names is [`Limits::NAMES`], documented in
//! the README.

use std::fmt;

/// The bounds, one field per documented name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Size on disk of a questionnaire file.
    pub input_bytes: u64,
    /// Inflated size of one part (zip entry) of an xlsx/xlsm/xlsb/ods package, counted while
    /// inflating.
    pub part_bytes: u64,
    /// Entries of an xlsx shared-string table, declared or found.
    pub shared_strings: u64,
    /// Total text of an xlsx shared-string table, in bytes.
    pub shared_string_bytes: u64,
    /// Rows of one sheet (or csv), counting empty ones inside the used range.
    pub rows: u64,
    /// Filled cells of one whole questionnaire.
    pub cells: u64,
    /// Characters of one cell.
    pub cell_chars: u64,
    /// Size of one record file (`knowledge/*.toml`, `mappings/*.csv`, `thesaurus.txt`, ...).
    pub record_file_bytes: u64,
    /// Size of all record files together.
    pub record_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            input_bytes: 256 << 20,
            part_bytes: 128 << 20,
            shared_strings: 1_000_000,
            shared_string_bytes: 64 << 20,
            rows: 200_000,
            cells: 2_000_000,
            cell_chars: 32_767,
            record_file_bytes: 4 << 20,
            record_bytes: 64 << 20,
        }
    }
}

/// A value read past its limit: which limit, what it bounds, and the value allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exceeded {
    pub name: &'static str,
    pub limit: u64,
}

impl fmt::Display for Exceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "exceeds the limit {} ({}); if the file is genuine, raise it with --limit {}=N",
            self.name, self.limit, self.name
        )
    }
}

impl std::error::Error for Exceeded {}

impl Limits {
    /// Every limit: its name on the command line and what it bounds.
    pub const NAMES: [(&'static str, &'static str); 9] = [
        ("input_bytes", "size on disk of a questionnaire file"),
        (
            "part_bytes",
            "inflated size of one part of an xlsx/xlsm/xlsb/ods package",
        ),
        (
            "shared_strings",
            "entries of an xlsx shared-string table, declared or found",
        ),
        (
            "shared_string_bytes",
            "bytes of text in an xlsx shared-string table",
        ),
        ("rows", "rows of one sheet or csv"),
        ("cells", "filled cells of one questionnaire"),
        ("cell_chars", "characters of one cell"),
        ("record_file_bytes", "size of one record file"),
        ("record_bytes", "size of all record files together"),
    ];

    fn slot(&mut self, name: &str) -> Option<&mut u64> {
        Some(match name {
            "input_bytes" => &mut self.input_bytes,
            "part_bytes" => &mut self.part_bytes,
            "shared_strings" => &mut self.shared_strings,
            "shared_string_bytes" => &mut self.shared_string_bytes,
            "rows" => &mut self.rows,
            "cells" => &mut self.cells,
            "cell_chars" => &mut self.cell_chars,
            "record_file_bytes" => &mut self.record_file_bytes,
            "record_bytes" => &mut self.record_bytes,
            _ => return None,
        })
    }

    /// Applies one `NAME=VALUE` override; the value may end in `K`, `M` or `G` (binary).
    pub fn set(&mut self, spec: &str) -> Result<(), String> {
        let names = || {
            Self::NAMES
                .iter()
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let Some((name, value)) = spec.split_once('=') else {
            return Err(format!(
                "`{spec}` is not NAME=VALUE; limits are {}",
                names()
            ));
        };
        let value = parse_size(value.trim())
            .ok_or_else(|| format!("`{value}` is not a number (examples: 5000, 64M, 1G)"))?;
        let names = names();
        let slot = self
            .slot(name.trim())
            .ok_or_else(|| format!("unknown limit `{name}`; limits are {names}"))?;
        *slot = value;
        Ok(())
    }

    /// `Err(Exceeded)` when `value` is over the limit called `name`.
    pub fn check(&self, name: &'static str, value: u64) -> Result<(), Exceeded> {
        let limit = self.get(name);
        if value > limit {
            Err(Exceeded { name, limit })
        } else {
            Ok(())
        }
    }

    /// The value of the limit called `name` (one of [`Limits::NAMES`]).
    pub fn get(&self, name: &str) -> u64 {
        let mut copy = *self;
        copy.slot(name).map(|v| *v).unwrap_or(u64::MAX)
    }
}

fn parse_size(text: &str) -> Option<u64> {
    let (digits, shift) = match text.char_indices().last()? {
        (i, 'k' | 'K') => (&text[..i], 10),
        (i, 'm' | 'M') => (&text[..i], 20),
        (i, 'g' | 'G') => (&text[..i], 30),
        _ => (text, 0),
    };
    let n: u64 = digits.replace('_', "").parse().ok()?;
    n.checked_mul(1u64 << shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_parse_with_suffixes_and_name_the_limits_when_wrong() {
        let mut limits = Limits::default();
        limits.set("rows=500").unwrap();
        limits.set("part_bytes=2M").unwrap();
        assert_eq!((limits.rows, limits.part_bytes), (500, 2 << 20));
        assert!(limits.set("rowz=1").unwrap_err().contains("cell_chars"));
        assert!(limits.set("rows").unwrap_err().contains("NAME=VALUE"));
        assert!(
            limits
                .set("rows=lots")
                .unwrap_err()
                .contains("not a number")
        );
        let err = limits.check("rows", 501).unwrap_err();
        assert_eq!(
            err.to_string(),
            "exceeds the limit rows (500); if the file is genuine, raise it with --limit rows=N"
        );
        assert!(limits.check("rows", 500).is_ok());
    }

    #[test]
    fn every_name_has_a_slot() {
        let mut limits = Limits::default();
        for (name, _) in Limits::NAMES {
            assert!(limits.slot(name).is_some(), "{name}");
        }
    }
}
