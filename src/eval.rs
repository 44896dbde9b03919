//! Measuring onrecord on a team's own history: a questionnaire people answered by hand,
//! compared row by row with what onrecord would answer.
//!
//! The human answer is the detected answer column (the single answer/comment column when
//! there is none), read as yes/no/partial/n/a by [`parse_answer`]. Per row: `agree`,
//! `disagree` (onrecord would have *sent* a different answer), `abstains` (onrecord would not
//! send an answer: `review` or `not_on_record`), `human_blank`, or `human_unclear` (the
//! person wrote free text that is no yes/no/partial/n/a, so there is nothing to compare).

use serde::Serialize;

use crate::engine::Status;
use crate::fill::Input;
use crate::record::Answer;
use crate::report::{Report, Row, parse_answer, ratio};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Agree,
    Disagree,
    Abstains,
    HumanBlank,
    HumanUnclear,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Agree => "agree",
            Verdict::Disagree => "disagree",
            Verdict::Abstains => "abstains",
            Verdict::HumanBlank => "human_blank",
            Verdict::HumanUnclear => "human_unclear",
        }
    }
}

/// One row: onrecord's answer (the report row, as `fill --report` has it), the person's, and
/// the verdict.
#[derive(Debug, Clone, Serialize)]
pub struct EvalRow {
    #[serde(flatten)]
    pub onrecord: Row,
    /// The cell as the person wrote it.
    pub human: String,
    pub human_answer: Option<Answer>,
    pub verdict: Verdict,
}

/// Totals. `agreement` = agree / (agree + disagree): how often a sent answer matched.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct EvalSummary {
    pub rows: usize,
    pub agree: usize,
    pub disagree: usize,
    pub abstains: usize,
    pub human_blank: usize,
    pub human_unclear: usize,
    pub agreement: f64,
    /// Of the abstained rows in review, how many proposed the person's answer, and how many not:
    /// what lowering the answer threshold would gain and cost.
    pub review_proposed_agree: usize,
    pub review_proposed_disagree: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    pub questionnaire: String,
    pub summary: EvalSummary,
    pub rows: Vec<EvalRow>,
}

/// Compares the person's answers in `input` with `report`, onrecord's answers to every
/// question of the same input (from [`Input::answer_all`], so rows are in question order).
pub fn evaluate(input: &Input, report: &Report) -> Evaluation {
    let questions = input.layouts.iter().flat_map(|layout| {
        layout.questions.iter().map(move |q| {
            if layout.answer_col.is_some() {
                &q.answer
            } else {
                &q.comment
            }
        })
    });
    let mut summary = EvalSummary::default();
    let rows: Vec<EvalRow> = questions
        .zip(&report.rows)
        .map(|(human, row)| {
            let human_answer = parse_answer(human);
            let verdict = match (human.is_empty(), human_answer) {
                (true, _) => Verdict::HumanBlank,
                (false, None) => Verdict::HumanUnclear,
                (false, Some(_)) if row.status != Status::Answered => Verdict::Abstains,
                (false, Some(h)) if row.answer == Some(h) => Verdict::Agree,
                (false, Some(_)) => Verdict::Disagree,
            };
            summary.rows += 1;
            match verdict {
                Verdict::Agree => summary.agree += 1,
                Verdict::Disagree => summary.disagree += 1,
                Verdict::Abstains => summary.abstains += 1,
                Verdict::HumanBlank => summary.human_blank += 1,
                Verdict::HumanUnclear => summary.human_unclear += 1,
            }
            if verdict == Verdict::Abstains && row.status == Status::Review {
                if row.answer == human_answer {
                    summary.review_proposed_agree += 1;
                } else {
                    summary.review_proposed_disagree += 1;
                }
            }
            EvalRow {
                onrecord: row.clone(),
                human: human.clone(),
                human_answer,
                verdict,
            }
        })
        .collect();
    summary.agreement = ratio(summary.agree, summary.agree + summary.disagree);
    Evaluation {
        questionnaire: report.questionnaire.clone(),
        summary,
        rows,
    }
}
