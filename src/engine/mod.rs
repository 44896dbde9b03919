//! The answer engine: a question in, what the customer receives out, in named stages.
//!
//! 1. [`question`]: read the question once (clause, units, form, polarity, follow-up,
//!    quantity asked).
//! 2. [`retrieve`]: candidates by BM25 through [`crate::index`], each judged by named
//!    signals (how much of the question it explains, how closely a phrasing reads like it).
//! 3. [`signals`]: the best candidate's evidence and its calibrated confidence; the weights
//!    and thresholds are data (`calibration.toml`), written by the fitting tool.
//! 4. [`rules`]: ordered tables of honesty rules, each one function returning a typed
//!    [`Reason`]; every outcome carries one.
//! 5. [`compose`]: what is cited, the customer's part, the response.
//! 6. [`section`] ([`Engine::ask_in`]): a questionnaire row read under its section heading.
//! 7. [`fit`] ([`Engine::fit`]): the answer held to what its field takes: yes/no where it
//!    takes it, the choice or number the statement supports, else a person picks.
//!
//! Before everything: a form field ("Solution Provider Name", [`crate::profile::field_for`])
//! takes the profile's value, or stays empty (`form_field`); it never gets a control.
//!
//! Before the rules: a question a person decided in a review (`learn`, the same question
//! after [`record::question_key`]) gets that decision: the learned control's answer, or not
//! on the record (`known_gap`).
//!
//! The honesty rules in short (`docs/engine.md` has them in full):
//! - An answer sent unread comes from the control's `answer` field, or from a `{ q, answer }`
//!   phrasing the question reads like; it is never inferred from statement text.
//! - A question asked the other way round from the control, about what its statement rules
//!   out, open, a follow-up, a form label, a single word, a choice of two, about the
//!   customer's people, or explained as well by a control that answers otherwise, is read
//!   by a person first; so is a `partial` or `n/a` answer to a question not asked like the
//!   control's title or phrasings.
//! - Never `answered` with `yes` unless a cited control's answer is `yes`.
//! - A weak match is `review` or `not_on_record`, never an error.

pub mod compose;
pub mod fit;
pub mod judge;
pub mod question;
pub mod retrieve;
pub mod rules;
pub mod section;
pub mod semantic;
pub mod signals;

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};

pub use compose::Citation;
pub use question::{Form, Question};
pub use retrieve::{Analysis, Candidate, Ranking};
pub use rules::{Reason, ReasonCode};
pub use signals::{Calibration, Evidence, Thresholds};

use crate::catalog;
use crate::check::CheckOptions;
use crate::fields::Field;
use crate::index::{Derived, Origin, SearchIndex, fingerprint};
use crate::limits::Limits;
use crate::profile;
use crate::record::{self, Answer, Date, Owner, Record, Stated};
use crate::text::{Analyzer, record_analyzer};
use retrieve::Matcher;
use rules::Case;
use semantic::Semantic;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Answered,
    Review,
    NotOnRecord,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Answered => "answered",
            Status::Review => "review",
            Status::NotOnRecord => "not_on_record",
        }
    }
}

/// What a question gets.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub status: Status,
    pub answer: Option<Answer>,
    pub confidence: f32,
    /// The cited statements, then the customer's part.
    pub response: String,
    pub customer: Vec<String>,
    pub citations: Vec<Citation>,
    /// Why the status is what it is.
    pub reason: Reason,
    /// What goes into a field that takes neither yes/no nor free text: the choice the cited
    /// statement supports, or the number it states ([`fit`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(skip)]
    pub analysis: Option<Analysis>,
    /// Every candidate, best first, with its signals.
    #[serde(skip)]
    pub candidates: Vec<Candidate>,
    /// What the confidence was computed from (none when no control came close).
    #[serde(skip)]
    pub evidence: Option<Evidence>,
}

/// What the engine decided to cite, before the checks on what is cited.
struct Decision {
    cited: Vec<usize>,
    answer: Answer,
    status: Status,
    reason: Reason,
    confidence: f32,
}

/// What a person decided for one question in a review (`learn`).
#[derive(Debug, Clone)]
enum Decided {
    /// A learned phrasing of a control: this question is answered from it.
    Learned {
        control: usize,
        answer: Answer,
        learned: Date,
    },
    /// A known gap (`not-on-record.toml`).
    Gap {
        mistaken_for: Option<String>,
        decided: Option<Date>,
    },
}

/// The decisions of `record` by question key. A known gap wins over a learned phrasing of the
/// same question, and the first control over a later one (`check` reports both as errors).
fn decisions(record: &Record) -> HashMap<String, Decided> {
    let mut decided = HashMap::new();
    for (key, stated) in record.stated_questions() {
        match stated {
            Stated::Gap(gap) => {
                decided.insert(
                    key,
                    Decided::Gap {
                        mistaken_for: gap.mistaken_for.clone(),
                        decided: gap.decided,
                    },
                );
            }
            Stated::Phrasing(control, phrasing) => {
                // Only a learned phrasing is a decision. The control is one of the record's
                // own, so it is found by address.
                let Some(learned) = phrasing.learned else {
                    continue;
                };
                if let Some(index) = record
                    .controls
                    .iter()
                    .position(|c| std::ptr::eq(c, control))
                {
                    decided.entry(key).or_insert(Decided::Learned {
                        control: index,
                        answer: phrasing.answer.unwrap_or(control.answer),
                        learned,
                    });
                }
            }
        }
    }
    decided
}

/// A loaded record ready to answer questions.
pub struct Engine {
    pub record: Record,
    matcher: Matcher,
    semantic: Option<Semantic>,
    pub calibration: Calibration,
    pub thresholds: Thresholds,
    pub ranking: Ranking,
    /// When set, answers citing a control reviewed longer ago go to `review`.
    pub staleness: Option<CheckOptions>,
    pub index_origin: Origin,
    /// What people decided in reviews, by question key.
    decisions: HashMap<String, Decided>,
}

impl Engine {
    /// [`Engine::open_with`] the default limits.
    pub fn open(root: &Path) -> Result<Engine> {
        Engine::open_with(root, &Limits::default())
    }

    /// Loads the record at `root` within `limits`, refusing one with errors, and opens (or
    /// builds) its index.
    pub fn open_with(root: &Path, limits: &Limits) -> Result<Engine> {
        semantic::preload();
        let loaded = record::load_passing(root, limits)?;
        let own = profile::with_company_line(
            loaded.record.thesaurus.as_deref().unwrap_or_default(),
            &loaded.record.profile,
        );
        let analyzer = match record_analyzer(&own) {
            Ok(analyzer) => analyzer,
            Err(problems) => {
                let (line, message) = &problems[0];
                bail!(
                    "{}:{line}: {message}",
                    root.join(record::THESAURUS_TXT).display()
                );
            }
        };
        let stamp = fingerprint(&loaded.record, &own, &semantic::stamp());
        let record = &loaded.record;
        let vectors = Derived {
            name: semantic::FILE,
            build: &|previous| semantic::build(record, previous),
            valid: &|bytes| Semantic::decode(bytes, record.controls.len()).is_ok(),
        };
        let index = SearchIndex::open_or_build(record, &analyzer, &stamp, &[vectors])?;
        Engine::from_parts(loaded.record, analyzer, index)
    }

    /// The engine over a record, its analyzer and its index (with the control vectors as its
    /// one derived file, or none: then the semantic signal is off).
    pub fn from_parts(record: Record, analyzer: Analyzer, index: SearchIndex) -> Result<Engine> {
        let index_origin = index.origin;
        let semantic = match index.derived.first() {
            Some(bytes) => Some(Semantic::decode(bytes, record.controls.len())?),
            None => None,
        };
        let matcher = Matcher::new(&record, analyzer, index);
        let (calibration, thresholds, ranking) = signals::builtin()?;
        let decisions = decisions(&record);
        Ok(Engine {
            decisions,
            record,
            matcher,
            semantic,
            calibration,
            thresholds,
            ranking,
            staleness: None,
            index_origin,
        })
    }

    /// Answers one question: read, retrieve, weigh, decide, compose.
    pub fn ask(&self, text: &str) -> Result<Outcome> {
        if let Some(key) = profile::field_for(text) {
            return Ok(self.profile_field(key));
        }
        let question = self.matcher.read(text);
        let similarities = match &self.semantic {
            Some(semantic) => {
                let vector = semantic::embed(&[question.clause.as_str()])?;
                Some(semantic.similarities(&vector[0]))
            }
            None => None,
        };
        let (analysis, candidates) =
            self.matcher
                .rank(&question, similarities.as_deref(), &self.ranking)?;
        if let Some(decided) = self.decisions.get(&record::question_key(text)) {
            return Ok(self.decided(decided, analysis, candidates));
        }
        Ok(self.decide(&question, analysis, candidates))
    }

    fn decide(
        &self,
        question: &Question,
        analysis: Analysis,
        candidates: Vec<Candidate>,
    ) -> Outcome {
        let not_on_record = |analysis: Analysis,
                             candidates: Vec<Candidate>,
                             confidence: f32,
                             evidence: Option<Evidence>,
                             reason: Reason| Outcome {
            status: Status::NotOnRecord,
            answer: None,
            confidence,
            response: String::new(),
            customer: Vec::new(),
            citations: Vec::new(),
            reason,
            value: None,
            analysis: Some(analysis),
            candidates,
            evidence,
        };
        let Some(best) = candidates.first() else {
            let reason = Reason::new(
                ReasonCode::NoCandidate,
                "no control of the record speaks to the question",
            );
            return not_on_record(analysis, candidates, 0.0, None, reason);
        };
        let evidence = Evidence {
            score: best.score,
            coverage: best.coverage,
            phrasing: best.phrasing,
            // Over every other candidate, not only the runner-up by rank: when the semantic
            // signal puts first a control the judge scores below another, the lead is
            // negative, and the match is the weaker for it.
            lead: candidates[1..]
                .iter()
                .map(|c| best.score - c.score)
                .min_by(f32::total_cmp)
                .unwrap_or(best.score)
                .min(signals::LEAD_CAP),
            units: analysis.units.len() as f32,
            semantic: best.semantic,
        };
        let confidence = self.calibration.reported(&evidence);
        let control = &self.record.controls[best.index];
        let analyzer = self.matcher.analyzer();
        let (mut reading, answer) =
            rules::read_against(question, best, control, |t| analyzer.is_negated(t));
        // What the rules that hold an answer back read, for weak matches too: a row sent to
        // review says why it needs reading more precisely than that the match is weak.
        // First, whether the control is the company's own practice, with no customer part.
        reading.company_only = control.owner == Owner::Company
            && self
                .record
                .mapping(&control.id)
                .is_none_or(|m| m.get(catalog::CUEC).is_empty());
        if reading.turned_by_phrasing {
            reading.flipped_despite = self.matcher.differs_from_phrasing(best, &analysis);
        }
        if let Some(part) = &question.second_part {
            let statement = format!("{}. {}", control.title, control.statement);
            let missing = self.matcher.part_not_answered(best.index, part, &statement);
            reading.unanswered_part = (!missing.is_empty()).then(|| (part.clone(), missing));
        }
        let case = Case {
            question,
            analysis: &analysis,
            best,
            control,
            others: candidates[1..]
                .iter()
                .map(|c| (c, &self.record.controls[c.index]))
                .collect(),
            evidence,
            confidence,
            thresholds: self.thresholds,
            reading,
            answer,
        };
        if let Some(reason) = rules::first(rules::NOT_ON_RECORD, &case) {
            return not_on_record(analysis, candidates, confidence, Some(evidence), reason);
        }
        // A rule that holds the answer back says more than the match being weak, so the
        // rules are read first, whatever the strength.
        let (status, reason) = match rules::first(rules::READ_FIRST, &case) {
            Some(reason) => (Status::Review, reason),
            None if case.strong() => (Status::Answered, rules::sent_unread(&case)),
            None => (Status::Review, rules::weak_match(&case)),
        };
        let mut cited = vec![best.index];
        if let Some(second) = compose::second_citation(
            &self.matcher,
            &analysis,
            &candidates,
            self.thresholds.review,
        ) {
            cited.push(second);
        }
        let decision = Decision {
            cited,
            answer,
            status,
            reason,
            confidence,
        };
        self.compose(decision, analysis, candidates, Some(evidence))
    }

    /// The outcome of a decision to cite `cited` with `answer`: a yes without a cited yes
    /// control, or a stale citation, is read first.
    fn compose(
        &self,
        decision: Decision,
        analysis: Analysis,
        candidates: Vec<Candidate>,
        evidence: Option<Evidence>,
    ) -> Outcome {
        let Decision {
            cited,
            answer,
            mut status,
            mut reason,
            confidence,
        } = decision;
        if answer == Answer::Yes
            && !cited
                .iter()
                .any(|&i| self.record.controls[i].answer == Answer::Yes)
        {
            status = Status::Review;
            reason = Reason::new(
                ReasonCode::YesNeedsYesControl,
                "a yes needs a cited control whose answer is yes",
            );
        }
        let citations: Vec<Citation> = cited
            .iter()
            .map(|&i| compose::citation(&self.record, &self.record.controls[i].id))
            .collect();
        let stale = self.stale_controls(&citations);
        if !stale.is_empty() && status == Status::Answered {
            status = Status::Review;
            reason = Reason::new(
                ReasonCode::StaleCitation,
                format!("cites a stale record: {}", stale.join(", ")),
            );
        }
        let customer = compose::customer_parts(&self.record, &citations);
        let response = cited
            .iter()
            .map(|&i| self.record.controls[i].statement.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        Outcome {
            status,
            answer: Some(answer),
            confidence,
            response,
            customer,
            citations,
            reason,
            value: None,
            analysis: Some(analysis),
            candidates,
            evidence,
        }
    }

    /// A form field: the profile's value, or nothing; never a control.
    fn profile_field(&self, key: &str) -> Outcome {
        let value = self.record.profile.get(key);
        let (status, reason) = match value {
            Some(_) => (
                Status::Answered,
                Reason::new(
                    ReasonCode::ProfileField,
                    format!("a form field, filled from `{key}` of profile.toml"),
                ),
            ),
            None => (
                Status::NotOnRecord,
                Reason::new(
                    ReasonCode::FormField,
                    format!("a form field for `{key}`, which profile.toml does not give"),
                ),
            ),
        };
        Outcome {
            status,
            answer: None,
            confidence: if value.is_some() { 1.0 } else { 0.0 },
            response: value.unwrap_or_default().to_string(),
            customer: Vec::new(),
            citations: Vec::new(),
            reason,
            value: None,
            analysis: None,
            candidates: Vec::new(),
            evidence: None,
        }
    }

    /// What a person decided for this very question in a review (`learn`): the learned
    /// control's answer, or not on the record.
    fn decided(
        &self,
        decided: &Decided,
        analysis: Analysis,
        mut candidates: Vec<Candidate>,
    ) -> Outcome {
        match decided {
            Decided::Gap {
                mistaken_for,
                decided,
            } => {
                let when = decided.map(|d| format!(" on {d}")).unwrap_or_default();
                let detail = match mistaken_for {
                    Some(id) => format!(
                        "a person decided{when} that the record does not answer this question (it was mistaken for `{id}`)"
                    ),
                    None => {
                        format!(
                            "a person decided{when} that the record does not answer this question"
                        )
                    }
                };
                Outcome {
                    status: Status::NotOnRecord,
                    answer: None,
                    confidence: 0.0,
                    response: String::new(),
                    customer: Vec::new(),
                    citations: Vec::new(),
                    reason: Reason::new(ReasonCode::KnownGap, detail),
                    value: None,
                    analysis: Some(analysis),
                    candidates,
                    evidence: None,
                }
            }
            Decided::Learned {
                control,
                answer,
                learned,
            } => {
                // The decided control leads the candidates, the others keep their order.
                if let Some(at) = candidates.iter().position(|c| c.index == *control) {
                    let chosen = candidates.remove(at);
                    candidates.insert(0, chosen);
                }
                let id = &self.record.controls[*control].id;
                let decision = Decision {
                    cited: vec![*control],
                    answer: *answer,
                    status: Status::Answered,
                    reason: Reason::new(
                        ReasonCode::Learned,
                        format!("a person decided on {learned} that `{id}` answers this question"),
                    ),
                    confidence: 1.0,
                };
                self.compose(decision, analysis, candidates, None)
            }
        }
    }

    /// Answers a question whose answer field takes `field` ([`crate::fields`]): an answer
    /// sent unread must fit the field ([`fit`]).
    pub fn ask_field(&self, text: &str, field: &Field) -> Result<Outcome> {
        Ok(self.fit(self.ask(text)?, field))
    }

    /// Answers a questionnaire row: its question read under its section heading, if it has
    /// one ([`section`]); [`Engine::fit`] it to its field afterwards.
    pub fn ask_in(&self, text: &str, heading: Option<&str>) -> Result<Outcome> {
        let context = heading.and_then(|h| {
            section::Context::read(self.matcher.analyzer(), h, text, |t| {
                self.matcher.in_record(t)
            })
        });
        let Some(context) = context else {
            return self.ask(text);
        };
        let mut outcome = match context.question_with_heading(text) {
            Some(with_heading) => self.ask(&with_heading)?,
            None => self.ask(text)?,
        };
        if outcome.status != Status::Answered {
            return Ok(outcome);
        }
        let Some(first) = outcome.citations.first() else {
            return Ok(outcome);
        };
        let objection = self
            .matcher
            .index(&first.control)
            .and_then(|i| context.objection(&first.control, |t| self.matcher.uses(i, t)));
        if let Some(objection) = objection {
            outcome.status = Status::Review;
            outcome.reason = Reason::new(ReasonCode::SectionTopic, objection);
        }
        Ok(outcome)
    }

    /// `outcome` held to what `field` takes: the cited statements decide which choice or
    /// number it gets ([`fit`]).
    ///
    /// An open question ("How often ...?", "Where ...?") is not sent unread as free text, but
    /// in a field of choices or a number field, a strong match whose statement supports
    /// exactly one choice (or states the number) answers it: the field asks no more than
    /// that.
    pub fn fit(&self, outcome: Outcome, field: &Field) -> Outcome {
        let statements: Vec<&str> = outcome
            .citations
            .iter()
            .filter_map(|c| self.record.control(&c.control))
            .map(|c| c.statement.as_str())
            .collect();
        let analyzer = self.matcher.analyzer();
        let strong = outcome
            .evidence
            .as_ref()
            .is_some_and(|e| e.strength() >= self.thresholds.answer);
        let open = outcome.status == Status::Review
            && outcome.reason.code == ReasonCode::OpenQuestion
            && matches!(field, Field::Choice(_) | Field::Number)
            && outcome.answer == Some(Answer::Yes)
            && strong;
        if !open {
            return fit::fit(outcome, field, &statements, analyzer);
        }
        let mut trial = outcome.clone();
        trial.status = Status::Answered;
        let fitted = fit::fit(trial, field, &statements, analyzer);
        match (&fitted.value, outcome.citations.first()) {
            (Some(value), Some(cited)) => {
                let mut fitted = fitted.clone();
                fitted.reason = Reason::new(
                    ReasonCode::StrongMatch,
                    format!("`{}` matches strongly and states “{value}”", cited.control),
                );
                fitted
            }
            _ => outcome,
        }
    }

    /// The judge's feature vectors of `outcome`'s best candidates for question `text`
    /// ([`judge::features`]), best first.
    pub fn judge_features(&self, text: &str, outcome: &Outcome) -> Vec<Vec<f32>> {
        let Some(analysis) = &outcome.analysis else {
            return Vec::new();
        };
        let question = self.matcher.read(text);
        let extras: Vec<judge::Extra> = outcome
            .candidates
            .iter()
            .take(judge::CANDIDATES)
            .map(|c| judge::Extra {
                answer: self.record.controls[c.index].answer,
                alignment: self.matcher.alignment(c.index, analysis),
            })
            .collect();
        judge::features(&question, analysis, &outcome.candidates, &extras)
    }

    /// Embeds the questions of `texts` in batches ahead of [`Engine::ask`]ing them one by
    /// one: a batch embeds several times faster than single questions.
    pub fn prepare(&self, texts: &[&str]) -> Result<()> {
        if self.semantic.is_none() {
            return Ok(());
        }
        let clauses: Vec<String> = texts.iter().map(|t| self.matcher.read(t).clause).collect();
        let refs: Vec<&str> = clauses.iter().map(String::as_str).collect();
        semantic::embed(&refs)?;
        Ok(())
    }

    /// The cited controls reviewed longer ago than `staleness` allows (or never), in citation
    /// order; empty when staleness is not checked.
    pub fn stale_controls(&self, citations: &[Citation]) -> Vec<String> {
        compose::stale_controls(&self.record, self.staleness.as_ref(), citations)
    }

    /// The control a person is asked to check for `outcome`: the first cited, else the best
    /// candidate.
    pub fn proposed<'a>(&'a self, outcome: &Outcome) -> Option<&'a record::Control> {
        match outcome.citations.first() {
            Some(citation) => self.record.control(&citation.control),
            None => outcome
                .candidates
                .first()
                .map(|c| &self.record.controls[c.index]),
        }
    }

    /// The meaningful words of the question the proposed control does not use.
    pub fn not_covered(&self, outcome: &Outcome) -> Vec<String> {
        let (Some(analysis), Some(control)) = (&outcome.analysis, self.proposed(outcome)) else {
            return Vec::new();
        };
        match self.matcher.index(&control.id) {
            Some(index) => self.matcher.not_covered(index, analysis),
            None => Vec::new(),
        }
    }

    pub fn citation(&self, control: &str) -> Citation {
        compose::citation(&self.record, control)
    }
}
