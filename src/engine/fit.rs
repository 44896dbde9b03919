//! The last stage: an answer held to what its field takes ([`crate::fields`]).
//!
//! - Yes or No goes only into a field that takes it, as the field spells it.
//! - A field of other choices gets the one choice the cited statement supports: every
//!   meaningful word of the choice is in the statement ("At the load balancer" against "TLS
//!   ends at the load balancer"), or the choice names the one frequency the statement states
//!   ("Once per month" against "reviewed monthly"). Two supported choices, none, or a
//!   statement that states two frequencies: a person picks (`field_type`).
//! - A number field gets a number only when the statement states exactly one for what is
//!   asked ("How many days are logs kept?" against "kept for 400 days").
//! - Several choices (check boxes) and dates are always picked by a person; the supported
//!   choices are named in the reason.
//! - Free text takes the statement as it is.

use crate::fields::Field;
use crate::text::Analyzer;

use super::question::{Quantity, asked_quantity, period_days};
use super::rules::{Reason, ReasonCode};
use super::{Outcome, Status};

/// `outcome` held to what `field` takes; `statements` are the cited controls' statements.
pub fn fit(
    mut outcome: Outcome,
    field: &Field,
    statements: &[&str],
    analyzer: &Analyzer,
) -> Outcome {
    if outcome.status != Status::Answered {
        return outcome;
    }
    let statement = statements.join(" ");
    let clause = outcome
        .analysis
        .as_ref()
        .map(|a| a.clause.clone())
        .unwrap_or_default();
    let mut supported = Vec::new();
    let fits = match (field, outcome.answer) {
        (Field::Unknown | Field::Text, _) => true,
        (Field::YesNo(_), Some(_)) => true,
        (Field::Choice(_), Some(answer)) if field.spell(answer).is_some() => true,
        (Field::Choice(choices), Some(_)) => {
            supported = supported_choices(choices, &statement, &clause, analyzer);
            match supported.as_slice() {
                [one] if outcome.answer == Some(crate::record::Answer::Yes) => {
                    outcome.value = Some(choices[*one].clone());
                    true
                }
                _ => false,
            }
        }
        // A form field's value: a dropdown takes it only as one of its choices.
        (Field::YesNo(choices) | Field::Choice(choices), None) => choices
            .iter()
            .any(|c| c.trim().eq_ignore_ascii_case(outcome.response.trim())),
        (Field::Number, Some(_)) => match stated_number(&statement, &clause, analyzer) {
            Some(number) => {
                outcome.value = Some(number);
                true
            }
            None => false,
        },
        (Field::Choices(choices), Some(_)) => {
            supported = supported_choices(choices, &statement, &clause, analyzer);
            false
        }
        (Field::Choices(_) | Field::Number, None) | (Field::Date, _) => false,
    };
    if !fits {
        let what = match field {
            Field::Choice(c) | Field::Choices(c) => {
                format!("{} ({} choices)", field.name(), c.len())
            }
            _ => field.name().to_string(),
        };
        let picked = match (field, supported.as_slice()) {
            (Field::Choice(_) | Field::Choices(_), []) => {
                "the statement supports none of the choices".to_string()
            }
            (Field::Choice(c) | Field::Choices(c), some) => format!(
                "the statement supports {}",
                some.iter()
                    .map(|&i| format!("“{}”", c[i]))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            (Field::Number, _) => "the statement states no one number for it".to_string(),
            _ => "a person fills it".to_string(),
        };
        outcome.status = Status::Review;
        outcome.value = None;
        outcome.reason = Reason::new(
            ReasonCode::FieldType,
            format!(
                "the field takes {what}, not a yes/no answer: {picked}; a person picks what fits"
            ),
        );
    }
    outcome
}

/// Words that open a choice that denies or dodges ("No, ...", "None of the above", "Not
/// sure"): never picked from a statement that says something.
const DODGES: &[&str] = &[
    "no",
    "none",
    "never",
    "not",
    "other",
    "somewhere",
    "unsure",
    "unknown",
    "i",
    "we're",
    "n",
];

/// The choices `statement` supports, in their order.
pub fn supported_choices(
    choices: &[String],
    statement: &str,
    clause: &str,
    analyzer: &Analyzer,
) -> Vec<usize> {
    let periods: Vec<Option<u32>> = choices.iter().map(|c| period_days(c)).collect();
    let by_frequency = asked_quantity(clause) == Some(Quantity::Frequency)
        || periods.iter().filter(|p| p.is_some()).count() >= 2;
    if by_frequency {
        let stated = stated_periods(statement);
        return match stated.as_slice() {
            [one] => (0..choices.len())
                .filter(|&i| periods[i] == Some(*one))
                .collect(),
            _ => Vec::new(),
        };
    }
    let said: std::collections::HashSet<String> =
        analyzer.document_tokens(statement).into_iter().collect();
    (0..choices.len())
        .filter(|&i| {
            let choice = &choices[i];
            let first = choice
                .split(|c: char| !c.is_alphanumeric() && c != '\'')
                .find(|w| !w.is_empty())
                .unwrap_or("")
                .to_lowercase();
            if DODGES.contains(&first.as_str()) || analyzer.is_negated(choice) {
                return false;
            }
            let units: Vec<String> = analyzer
                .question_units(choice)
                .into_iter()
                .map(|u| u.token)
                .filter(|t| t != "yes" && !analyzer.is_generic(t))
                .collect();
            !units.is_empty() && units.iter().all(|t| said.contains(t))
        })
        .collect()
}

/// Every distinct frequency `text` states, in days, in order.
fn stated_periods(text: &str) -> Vec<u32> {
    let mut periods = Vec::new();
    for sentence in text.split(['.', ';']) {
        // Each clause states at most one: "every year, and after each major release".
        for part in sentence.split(',') {
            if let Some(days) = period_days(part)
                && !periods.contains(&days)
            {
                periods.push(days);
            }
        }
    }
    periods
}

/// The one number `statement` states for what `clause` asks ("How many days ...?" against
/// "kept for 400 days"), as the statement writes it.
pub fn stated_number(statement: &str, clause: &str, analyzer: &Analyzer) -> Option<String> {
    let asked: std::collections::HashSet<String> = analyzer.stems(clause).into_iter().collect();
    let words: Vec<&str> = statement
        .split(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | ';' | ':'))
        .filter(|w| !w.is_empty())
        .collect();
    let mut found: Vec<String> = Vec::new();
    for (i, word) in words.iter().enumerate() {
        let number = word.trim_end_matches(['.', ',']);
        let is_number = !number.is_empty()
            && number.chars().next().is_some_and(|c| c.is_ascii_digit())
            && number
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, ',' | '.' | '%'));
        if !is_number {
            continue;
        }
        // The unit after it must be a word the question asks about ("days", "staff").
        let unit = words
            .get(i + 1)
            .map(|w| analyzer.stems(w))
            .unwrap_or_default();
        if unit.iter().any(|u| asked.contains(u)) && !found.iter().any(|f| f == number) {
            found.push(number.to_string());
        }
    }
    match found.as_slice() {
        [one] => Some(one.clone()),
        _ => None,
    }
}
