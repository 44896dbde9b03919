//! `onrecord ask`: answer one question from the record.

use anyhow::Result;
use onrecord::engine::{Engine, Outcome as Answered, Status};
use onrecord::report::{citation_text, proposals};

use super::Outcome;
use crate::cli::{Config, Format};

pub fn run(config: &Config, question: &str, top: usize, explain: bool) -> Result<Outcome> {
    let engine = Engine::open_with(config.record()?, &config.limits)?;
    let outcome = engine.ask(question)?;
    match config.format {
        Format::Json => {
            let mut json = serde_json::json!({
                "question": question,
                "status": outcome.status,
                "answer": outcome.answer,
                "confidence": outcome.confidence,
                "response": outcome.response,
                "customer": outcome.customer,
                "citations": outcome.citations,
                "reason": outcome.reason,
                "candidates": proposals(&outcome, &engine.record),
                "not_covered": engine.not_covered(&outcome),
            });
            if explain {
                json["explain"] = serde_json::json!({
                    "analysis": outcome.analysis,
                    "candidates": outcome.candidates.iter().take(top).collect::<Vec<_>>(),
                });
            }
            outln!("{}", serde_json::to_string_pretty(&json)?)?;
        }
        _ => out!("{}", render(&outcome, top, explain))?,
    }
    Ok(Outcome::Success)
}

fn render(outcome: &Answered, top: usize, explain: bool) -> String {
    let mut out = String::new();
    match outcome.status {
        Status::NotOnRecord => out.push_str(&format!(
            "not on the record (confidence {:.2})\n  why: {} ({})\n",
            outcome.confidence,
            outcome.reason.detail,
            outcome.reason.code.as_str()
        )),
        status => {
            // A form field's value carries no yes/no: it says where it comes from instead.
            let answer = match outcome.answer {
                Some(answer) => answer.as_str().to_string(),
                None => format!("from profile.toml ({})", outcome.reason.code.as_str()),
            };
            out.push_str(&format!(
                "{}: {answer} (confidence {:.2})\n",
                status.as_str(),
                outcome.confidence
            ));
            if status == Status::Review {
                out.push_str(&format!(
                    "  why review: {} ({})\n",
                    outcome.reason.detail,
                    outcome.reason.code.as_str()
                ));
            }
            out.push_str(&format!("{}\n", outcome.response));
            for part in &outcome.customer {
                out.push_str(&format!("Customer responsibility: {part}\n"));
            }
            if !outcome.citations.is_empty() {
                out.push_str(&format!("{}\n", citation_text(&outcome.citations)));
            }
        }
    }
    if explain {
        if let Some(analysis) = &outcome.analysis {
            out.push_str(&format!("\nmatched clause: {}\n", analysis.clause));
            if !analysis.framework_ids.is_empty() {
                out.push_str(&format!(
                    "framework ids: {}\n",
                    analysis.framework_ids.join(", ")
                ));
            }
            for unit in &analysis.units {
                let (surface, concept, weight) = (&unit.surface, &unit.concept, unit.weight);
                let mark = if unit.covered { "+" } else { "-" };
                let concept = if concept != surface {
                    format!(" ({concept})")
                } else {
                    String::new()
                };
                let unseen = if unit.in_record {
                    ""
                } else {
                    "  (no control uses it)"
                };
                out.push_str(&format!(
                    "  {mark} {surface}{concept}  weight {weight:.2}{unseen}\n"
                ));
            }
            if analysis.negated {
                out.push_str("  the question is phrased negatively\n");
            }
        }
        if let Some(e) = &outcome.evidence {
            out.push_str(&format!(
                "confidence from: score {:.2}, coverage {:.2}, phrasing {:.2}, lead {:.2}, {} units, semantic {:.2}; strength {:.2}\n",
                e.score,
                e.coverage,
                e.phrasing,
                e.lead,
                e.units,
                e.semantic,
                e.strength()
            ));
        }
        out.push_str("candidates:\n");
        for c in outcome.candidates.iter().take(top) {
            out.push_str(&format!(
                "  {:<10} rank {:.2}  score {:.2}  semantic {:.2}  coverage {:.2}  phrasing {:.2}  bm25 {:.1}{}{}\n",
                c.control,
                c.rank,
                c.score,
                c.semantic,
                c.coverage,
                c.phrasing,
                c.bm25,
                if c.denied > 0.0 {
                    format!("  denied by statement {:.2}", c.denied)
                } else {
                    String::new()
                },
                if c.by_framework_id {
                    "  (by framework id)"
                } else {
                    ""
                }
            ));
        }
    }
    out
}
