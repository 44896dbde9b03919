//! Diagnostics: what `check` reports about a record, as data.
//!
//! Positions are 1-based lines as shown to users; `line` 0 means "the file as a whole".
//! Paths are relative to the record directory, so reports read the same on every machine.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub path: String,
    pub line: usize,
    pub severity: Severity,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn error(path: &str, line: usize, message: impl Into<String>) -> Self {
        Self::new(Severity::Error, path, line, message)
    }

    pub fn warning(path: &str, line: usize, message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, path, line, message)
    }

    fn new(severity: Severity, path: &str, line: usize, message: impl Into<String>) -> Self {
        Diagnostic {
            path: path.to_string(),
            line,
            severity,
            message: message.into(),
            hint: None,
        }
    }

    pub fn with_hint(mut self, hint: Option<String>) -> Self {
        self.hint = hint;
        self
    }
}

/// Sorts diagnostics by path, then line, errors before warnings, then message: a stable order
/// that does not depend on the order files were read in.
pub fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by(|a, b| {
        (&a.path, a.line, a.severity, &a.message).cmp(&(&b.path, b.line, b.severity, &b.message))
    });
}

/// The 1-based lines of byte offsets in one text. Built once per file, each lookup is a binary
/// search, so placing every control of a large file stays linear in its size.
pub struct Lines {
    /// Byte offsets of the text's newlines, ascending.
    newlines: Vec<usize>,
    len: usize,
}

impl Lines {
    pub fn new(text: &str) -> Lines {
        Lines {
            newlines: text
                .bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| i)
                .collect(),
            len: text.len(),
        }
    }

    /// 1-based line of a byte offset: one more than the newlines before it.
    pub fn line_of(&self, offset: usize) -> usize {
        let end = offset.min(self.len);
        self.newlines.partition_point(|&i| i < end) + 1
    }
}

/// The closest candidate to `wanted` by edit distance, if close enough to be a likely typo.
pub fn did_you_mean<'a>(
    wanted: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let wanted_lower = wanted.to_lowercase();
    closest(
        wanted,
        &wanted_lower,
        candidates.into_iter().map(|c| (c, c.to_lowercase())),
    )
}

/// The edit distance that still reads as a typo of `wanted`.
fn typo_limit(wanted: &str) -> usize {
    if wanted.len() <= 4 { 1 } else { 2 }
}

/// The first of the closest `(candidate, lowercased)` within the typo limit, as a hint.
fn closest<'a, L: AsRef<str>>(
    wanted: &str,
    wanted_lower: &str,
    candidates: impl Iterator<Item = (&'a str, L)>,
) -> Option<String> {
    let limit = typo_limit(wanted);
    let length = wanted_lower.chars().count();
    candidates
        // The distance is at least the difference in length: a long text is never compared
        // in full with every short id.
        .filter(|(_, lower)| lower.as_ref().chars().count().abs_diff(length) <= limit)
        .map(|(c, lower)| (strsim::levenshtein(wanted_lower, lower.as_ref()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| format!("did you mean `{c}`?"))
}

/// [`did_you_mean`] asked many times of one long list (every unknown id of a 10,000-row
/// matrix against 10,000 controls), without comparing each question with every candidate.
///
/// Two strings within edit distance 2 become equal once at most two characters are deleted
/// from each (a substitution deletes on both sides, an insertion on one). So every candidate
/// is indexed under the hashes of itself with up to two characters deleted, and a question
/// compares only with the candidates that share one of its own such hashes. Answers are those
/// of [`did_you_mean`], ties going to the earlier candidate in the same way.
pub struct Suggester<'a> {
    candidates: Vec<(&'a str, String)>,
    /// Built on the first question.
    index: std::cell::OnceCell<Index>,
}

struct Index {
    /// (hash of a deletion variant, candidate index), sorted.
    variants: Vec<(u64, u32)>,
    /// The candidates too long to index, compared with every question.
    long: Vec<u32>,
}

impl<'a> Suggester<'a> {
    /// Lists of at most this many candidates are simply scanned.
    const SCAN: usize = 64;
    /// Candidates longer than this (in characters) are always compared, not indexed: their
    /// variants grow with the square of their length.
    const LONGEST_INDEXED: usize = 32;

    pub fn new(candidates: impl IntoIterator<Item = &'a str>) -> Suggester<'a> {
        Suggester {
            candidates: candidates
                .into_iter()
                .map(|c| (c, c.to_lowercase()))
                .collect(),
            index: std::cell::OnceCell::new(),
        }
    }

    pub fn suggest(&self, wanted: &str) -> Option<String> {
        let wanted_lower = wanted.to_lowercase();
        if self.candidates.len() <= Self::SCAN {
            let all = self.candidates.iter().map(|(c, l)| (*c, l.as_str()));
            return closest(wanted, &wanted_lower, all);
        }
        let index = self.index.get_or_init(|| self.build());
        let chars: Vec<char> = wanted_lower.chars().collect();
        let mut found: Vec<u32> = Vec::new();
        // Longer than any indexed candidate can be within the limit of: only long ones can be
        // close, and those are compared below.
        if chars.len() <= Self::LONGEST_INDEXED + 2 {
            for_each_variant(&chars, typo_limit(wanted), |hash| {
                let start = index.variants.partition_point(|&(h, _)| h < hash);
                found.extend(
                    index.variants[start..]
                        .iter()
                        .take_while(|&&(h, _)| h == hash)
                        .map(|&(_, i)| i),
                );
            });
        }
        found.extend(&index.long);
        found.sort_unstable();
        found.dedup();
        let near = found.into_iter().filter_map(|i| {
            let (c, l) = self.candidates.get(i as usize)?;
            Some((*c, l.as_str()))
        });
        closest(wanted, &wanted_lower, near)
    }

    fn build(&self) -> Index {
        let mut index = Index {
            variants: Vec::new(),
            long: Vec::new(),
        };
        for (i, (_, lower)) in self.candidates.iter().enumerate() {
            let chars: Vec<char> = lower.chars().collect();
            if chars.len() <= Self::LONGEST_INDEXED {
                for_each_variant(&chars, 2, |hash| index.variants.push((hash, i as u32)));
            } else {
                index.long.push(i as u32);
            }
        }
        index.variants.sort_unstable();
        index.variants.dedup();
        index
    }
}

/// Calls `f` with the hash of `chars` with every choice of up to `deletions` (at most 2)
/// characters left out.
fn for_each_variant(chars: &[char], deletions: usize, mut f: impl FnMut(u64)) {
    let hash = |skip: [usize; 2]| {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for (i, &c) in chars.iter().enumerate() {
            if !skip.contains(&i) {
                hash ^= u64::from(u32::from(c));
                hash = hash.wrapping_mul(0x0100_0000_01b3);
            }
        }
        hash
    };
    let none = usize::MAX;
    f(hash([none, none]));
    if deletions >= 1 {
        for i in 0..chars.len() {
            f(hash([i, none]));
        }
    }
    if deletions >= 2 {
        for i in 0..chars.len() {
            for j in i + 1..chars.len() {
                f(hash([i, j]));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_suggester_answers_as_did_you_mean_does() {
        let ids: Vec<String> = (0..300)
            .map(|i| format!("GEN-{i:03}"))
            .chain(["IAM-01".into(), "iam-02".into(), "A".repeat(40)])
            .collect();
        let suggester = Suggester::new(ids.iter().map(String::as_str));
        for wanted in [
            "GEN-007",
            "GEM-007",
            "GN-07",
            "XEN-1234",
            "GEN007",
            "gen-0x7",
            "IAM-03",
            "IAM-2",
            "ZZZZZZZZ",
            "",
            "GE",
            &"A".repeat(39),
            &format!("{}B", "A".repeat(40)),
        ] {
            assert_eq!(
                suggester.suggest(wanted),
                did_you_mean(wanted, ids.iter().map(String::as_str)),
                "{wanted}"
            );
        }
    }
}
