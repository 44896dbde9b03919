//! A question read under its section heading: "Have the relevant policies been tested?" under
//! "HIPAA Compliance" asks about HIPAA.
//!
//! A heading's *topics* are what it names that the question does not: its thesaurus concepts
//! and its acronyms ("HIPAA", "PCI DSS", "LLM"), not common words ("Data", "General
//! Information", "Qualifying Questions"). Two rules follow:
//! - A topic the record never speaks to: the question is about something off the record, so
//!   an answer from another control is read by a person first.
//! - A question that points at its heading ("the relevant policies", "these systems") is
//!   asked with its heading, and its answer must come from a control that speaks to a topic.
//!
//! Either way the row goes to review with `section_topic`; it is never answered from the
//! heading alone.

use std::collections::HashSet;

use crate::text::{Analyzer, Unit};

/// Whether a text that uses the tokens `uses` says yes to speaks to `unit`: it uses the
/// unit's token (its concept), or every word of it.
fn speaks_to(unit: &Unit, uses: impl Fn(&str) -> bool) -> bool {
    uses(&unit.token) || unit.surface.split(' ').all(&uses)
}

/// Words by which a question points at its section ("the relevant policies").
/// ("this solution", "applicable laws" do not: they point at the product or the law.)
const POINTERS: &[&str] = &["relevant", "these", "such", "above", "aforementioned"];

/// What a heading adds to one question.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// The heading, as written.
    pub heading: String,
    /// Topics the record speaks to somewhere.
    pub on_record: Vec<Unit>,
    /// Topics no control speaks to.
    pub off_record: Vec<Unit>,
    /// The question points at its heading.
    pub points_at_it: bool,
}

impl Context {
    /// The context `heading` gives `question`, given which tokens some control of the
    /// record uses (`in_record`); `None` when the heading adds no topic.
    pub fn read(
        analyzer: &Analyzer,
        heading: &str,
        question: &str,
        in_record: impl Fn(&str) -> bool,
    ) -> Option<Context> {
        let asked: HashSet<String> = analyzer
            .question_units(question)
            .into_iter()
            .map(|u| u.token)
            .collect();
        let acronyms: HashSet<String> = heading
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.len() >= 2 && w.chars().all(|c| c.is_ascii_uppercase()))
            .flat_map(|w| analyzer.stems(w))
            .collect();
        let (on_record, off_record): (Vec<Unit>, Vec<Unit>) = analyzer
            .question_units(heading)
            .into_iter()
            .filter(|u| u.token.starts_with("syn_") || acronyms.contains(&u.token))
            .filter(|u| !analyzer.is_generic(&u.token) && !asked.contains(&u.token))
            .partition(|u| speaks_to(u, &in_record));
        if on_record.is_empty() && off_record.is_empty() {
            return None;
        }
        let lower = question.to_lowercase();
        let points_at_it = lower
            .split(|c: char| !c.is_alphanumeric())
            .any(|w| POINTERS.contains(&w));
        Some(Context {
            heading: heading.trim().to_string(),
            on_record,
            off_record,
            points_at_it,
        })
    }

    /// The question as asked with its heading, when it points at it and the record speaks
    /// to the heading's topics.
    pub fn question_with_heading(&self, question: &str) -> Option<String> {
        (self.points_at_it && !self.on_record.is_empty())
            .then(|| format!("{question} ({})", self.heading))
    }

    /// Why an answer from `control`, which uses the tokens `uses` says yes to, cannot be
    /// sent unread, if it cannot.
    pub fn objection(&self, control: &str, uses: impl Fn(&str) -> bool) -> Option<String> {
        if !self.off_record.is_empty() {
            return Some(format!(
                "asked under “{}”, a topic the record never speaks to",
                self.heading
            ));
        }
        if self.points_at_it && !self.on_record.iter().any(|u| speaks_to(u, &uses)) {
            return Some(format!(
                "asked under “{}”, and `{control}` does not speak to it",
                self.heading
            ));
        }
        None
    }
}
