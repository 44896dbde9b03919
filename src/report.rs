//! The report of a filled questionnaire (SPEC §2.2) and the text written into its cells.
//!
//! Keys are stable; new keys may be added. Rows keep questionnaire order, so the same
//! record and questionnaire give the same bytes.

use serde::Serialize;

use crate::engine::{Citation, Engine, Outcome, Reason, Status};
use crate::record::{Answer, Record};

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub questionnaire: String,
    pub summary: Summary,
    pub rows: Vec<Row>,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Summary {
    pub questions: usize,
    pub answered: usize,
    pub review: usize,
    pub not_on_record: usize,
    /// (answered + review) / questions.
    pub coverage: f64,
    /// answered / questions: the share sent unread.
    pub answered_share: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub sheet: String,
    /// 1-based spreadsheet row.
    pub row: u32,
    pub id: Option<String>,
    pub question: String,
    pub status: Status,
    pub answer: Option<Answer>,
    /// The choice or number written into a field that takes neither yes/no nor free text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    pub confidence: f32,
    pub response: String,
    pub citations: Vec<Citation>,
    /// Why the status is what it is: a stable code and a sentence.
    pub reason: Reason,
    /// The best controls with their scores, whatever the status.
    pub candidates: Vec<Proposal>,
    /// The meaningful words of the question that the proposed control (the first cited, else
    /// the best candidate) does not use.
    pub not_covered: Vec<String>,
}

/// How many candidates a report row carries.
pub const CANDIDATES: usize = 3;

/// A candidate as a report shows it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Proposal {
    pub control: String,
    pub title: String,
    pub score: f32,
}

/// The best [`CANDIDATES`] candidates of `outcome`, with their titles in `record`.
pub fn proposals(outcome: &Outcome, record: &Record) -> Vec<Proposal> {
    outcome
        .candidates
        .iter()
        .take(CANDIDATES)
        .map(|c| Proposal {
            control: c.control.clone(),
            title: record
                .control(&c.control)
                .map(|control| control.title.clone())
                .unwrap_or_default(),
            score: (c.rank * 1000.0).round() / 1000.0,
        })
        .collect()
}

impl Row {
    pub fn new(
        sheet: &str,
        row: u32,
        id: Option<String>,
        question: &str,
        outcome: &Outcome,
        engine: &Engine,
    ) -> Row {
        Row {
            sheet: sheet.to_string(),
            row,
            id,
            question: question.to_string(),
            status: outcome.status,
            answer: outcome.answer,
            value: outcome.value.clone(),
            confidence: outcome.confidence,
            response: outcome.response.clone(),
            citations: outcome.citations.clone(),
            reason: outcome.reason.clone(),
            candidates: proposals(outcome, &engine.record),
            not_covered: engine.not_covered(outcome),
        }
    }
}

impl Report {
    pub fn new(questionnaire: &str, rows: Vec<Row>) -> Report {
        let summary = summarize(&rows);
        Report {
            questionnaire: questionnaire.to_string(),
            summary,
            rows,
        }
    }
}

pub fn summarize<'a>(rows: impl IntoIterator<Item = &'a Row>) -> Summary {
    let mut s = Summary::default();
    for row in rows {
        s.questions += 1;
        match row.status {
            Status::Answered => s.answered += 1,
            Status::Review => s.review += 1,
            Status::NotOnRecord => s.not_on_record += 1,
        }
    }
    s.coverage = ratio(s.answered + s.review, s.questions);
    s.answered_share = ratio(s.answered, s.questions);
    s
}

/// `part / whole` rounded to 3 decimals, as reports show it; 0 when `whole` is 0.
pub fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        (part as f64 / whole as f64 * 1000.0).round() / 1000.0
    }
}

/// What stands in the explanation cell: the statement, the customer's part and the citation,
/// or `Not on the record.`
pub fn explanation(outcome: &Outcome) -> String {
    if outcome.status == Status::NotOnRecord {
        return "Not on the record.".to_string();
    }
    let mut text = outcome.response.clone();
    for part in &outcome.customer {
        text.push_str(&format!(" Customer responsibility: {part}"));
    }
    if !outcome.citations.is_empty() {
        text.push(' ');
        text.push_str(&citation_text(&outcome.citations));
    }
    if outcome.status == Status::Review {
        text.push_str(" (review before sending)");
    }
    text
}

/// `[ENC-01 · SOC 2 CC6.1, CC6.7 · ISO 27001 A.8.24]`, one bracket per citation.
pub fn citation_text(citations: &[Citation]) -> String {
    citations
        .iter()
        .map(|c| {
            let mut parts = vec![c.control.clone()];
            if !c.soc2.is_empty() {
                parts.push(format!("SOC 2 {}", c.soc2.join(", ")));
            }
            if !c.iso27001.is_empty() {
                parts.push(format!("ISO 27001 {}", c.iso27001.join(", ")));
            }
            format!("[{}]", parts.join(" · "))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The answer spelled as the column's dropdown spells it ("Yes", "YES", "Y", "Not Applicable"),
/// or in plain words when there is no dropdown. `None` when the dropdown has no such choice.
pub fn spell_answer(answer: Answer, choices: &[String]) -> Option<String> {
    let plain = match answer {
        Answer::Yes => "Yes",
        Answer::No => "No",
        Answer::Partial => "Partial",
        Answer::NotApplicable => "N/A",
    };
    if choices.is_empty() {
        return Some(plain.to_string());
    }
    let accepted = spellings(answer);
    choices
        .iter()
        .find(|c| accepted.contains(&c.trim().to_lowercase().as_str()))
        .cloned()
}

/// How questionnaires spell each answer, lowercase.
fn spellings(answer: Answer) -> &'static [&'static str] {
    match answer {
        Answer::Yes => &[
            "yes",
            "y",
            "true",
            "compliant",
            "implemented",
            "in place",
            "fully compliant",
        ],
        Answer::No => &[
            "no",
            "n",
            "false",
            "non-compliant",
            "not compliant",
            "not implemented",
            "noncompliant",
        ],
        Answer::Partial => &[
            "partial",
            "partially",
            "partially compliant",
            "partially implemented",
            "in progress",
        ],
        Answer::NotApplicable => &["n/a", "na", "n.a.", "not applicable", "n / a"],
    }
}

/// An answer a person wrote (`Yes`, `Y`, `TRUE`, `N/A`, `Not applicable`, or `Yes. We ...`)
/// as the record's yes/no/partial/n/a; `None` for a blank cell or free text.
pub fn parse_answer(text: &str) -> Option<Answer> {
    const ALL: [Answer; 4] = [
        Answer::Yes,
        Answer::No,
        Answer::Partial,
        Answer::NotApplicable,
    ];
    let text = text.trim().to_lowercase();
    // The longest spelling the cell starts with as a whole word: `n/a` before `n`, `not
    // applicable` before `no`, so "N/A - out of scope" and "No, we do not" both read right.
    let mut spelled: Vec<(&str, Answer)> = ALL
        .into_iter()
        .flat_map(|a| spellings(a).iter().map(move |s| (*s, a)))
        .collect();
    spelled.sort_by_key(|(s, _)| std::cmp::Reverse(s.len()));
    spelled
        .into_iter()
        .find(|(s, _)| {
            text.strip_prefix(s)
                .is_some_and(|rest| !rest.starts_with(|c: char| c.is_alphanumeric()))
        })
        .map(|(_, a)| a)
}

/// Single answer column: `Yes. <statement> [citation]`.
pub fn combined(outcome: &Outcome, answer_word: Option<&str>) -> String {
    match (outcome.status, answer_word) {
        (Status::NotOnRecord, _) => "Not on the record.".to_string(),
        (_, Some(word)) => format!("{word}. {}", explanation(outcome)),
        (_, None) => explanation(outcome),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn answers_take_the_dropdown_spelling() {
        assert_eq!(
            spell_answer(Answer::Yes, &strings(&["YES", "NO"])).as_deref(),
            Some("YES")
        );
        assert_eq!(
            spell_answer(Answer::No, &strings(&["Y", "N"])).as_deref(),
            Some("N")
        );
        assert_eq!(
            spell_answer(
                Answer::NotApplicable,
                &strings(&["Yes", "No", "Not Applicable"])
            )
            .as_deref(),
            Some("Not Applicable")
        );
        assert_eq!(
            spell_answer(Answer::Partial, &strings(&["Yes", "No"])),
            None
        );
        assert_eq!(spell_answer(Answer::Yes, &[]).as_deref(), Some("Yes"));
    }

    #[test]
    fn answers_people_wrote_are_normalised() {
        let cases = [
            ("Yes", Some(Answer::Yes)),
            ("Y", Some(Answer::Yes)),
            ("TRUE", Some(Answer::Yes)),
            ("no", Some(Answer::No)),
            ("N", Some(Answer::No)),
            ("N/A", Some(Answer::NotApplicable)),
            ("Not applicable", Some(Answer::NotApplicable)),
            ("Partially", Some(Answer::Partial)),
            ("Yes. We encrypt everything.", Some(Answer::Yes)),
            ("No - see our policy", Some(Answer::No)),
            ("N/A - out of scope", Some(Answer::NotApplicable)),
            ("Nope", None),
            ("", None),
            ("We use AES-256", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_answer(text), want, "{text:?}");
        }
    }
}
