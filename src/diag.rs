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
    let limit = if wanted.len() <= 4 { 1 } else { 2 };
    candidates
        .into_iter()
        .map(|c| {
            (
                strsim::levenshtein(&wanted.to_lowercase(), &c.to_lowercase()),
                c,
            )
        })
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| format!("did you mean `{c}`?"))
}
