//! The trained judge's inputs: for each of a question's best candidates, a vector of named
//! features computed from the engine's own signals, the question's reading and how its
//! words align with the control. The training script (`training/judge/`) learns from
//! these vectors as `eval_tools corpus --dump` writes them, so training and inference read
//! the same numbers.

use super::question::{Form, Question};
use super::retrieve::{Analysis, Candidate};
use crate::record::Answer;

/// How many candidates the judge reads per question.
pub const CANDIDATES: usize = 8;

/// The features, in vector order.
pub const FEATURES: [&str; 22] = [
    "rank",
    "score",
    "semantic",
    "coverage",
    "denied",
    "phrasing",
    "bm25_share",
    "by_framework_id",
    "position",
    "rank_below_best",
    "semantic_below_best",
    "score_below_best",
    "rank_above_next",
    "form_open",
    "form_other",
    "negated",
    "units",
    "answer_yes",
    "phrasing_turns_answer",
    "missing_share",
    "missing_used_elsewhere",
    "missing_nowhere",
];

/// What the judge reads of one candidate besides its signals.
pub struct Extra {
    /// The control's own answer.
    pub answer: Answer,
    /// [`super::retrieve::Matcher::alignment`].
    pub alignment: [f32; 3],
}

/// The feature vectors of `candidates` (best first, at most [`CANDIDATES`]).
pub fn features(
    question: &Question,
    analysis: &Analysis,
    candidates: &[Candidate],
    extras: &[Extra],
) -> Vec<Vec<f32>> {
    let top: Vec<&Candidate> = candidates.iter().take(CANDIDATES).collect();
    let best = |f: fn(&Candidate) -> f32| top.iter().map(|c| f(c)).fold(0.0f32, f32::max);
    let (best_rank, best_semantic, best_score, best_bm25) = (
        best(|c| c.rank),
        best(|c| c.semantic),
        best(|c| c.score),
        best(|c| c.bm25),
    );
    let flag = |b: bool| if b { 1.0 } else { 0.0 };
    top.iter()
        .zip(extras)
        .enumerate()
        .map(|(i, (c, extra))| {
            let next = top.get(i + 1).map_or(0.0, |n| n.rank);
            let turns = c.phrasing_answer.is_some_and(|a| a != extra.answer);
            vec![
                c.rank,
                c.score,
                c.semantic,
                c.coverage,
                c.denied,
                c.phrasing,
                if best_bm25 > 0.0 {
                    c.bm25 / best_bm25
                } else {
                    0.0
                },
                flag(c.by_framework_id),
                i as f32,
                best_rank - c.rank,
                best_semantic - c.semantic,
                best_score - c.score,
                c.rank - next,
                flag(question.form == Form::Open),
                flag(matches!(question.form, Form::WhichOfTwo | Form::Label)),
                flag(analysis.negated),
                analysis.units.len() as f32,
                flag(extra.answer == Answer::Yes),
                flag(turns),
                extra.alignment[0],
                extra.alignment[1],
                extra.alignment[2],
            ]
        })
        .collect()
}
