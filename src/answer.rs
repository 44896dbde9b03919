//! Answers: turn a ranked match into what the customer receives, under the honesty rules.
//!
//! - An answer sent unread comes from the control's `answer` field, or from a `{ q, answer }`
//!   phrasing the question reads like; it is never inferred from statement text.
//! - A question whose polarity differs from the control's title ("Is our data used for
//!   training?" against "No training on customer data") or from a plain phrasing it leans
//!   towards, unless it reads like a `{ q, answer }` phrasing, goes to `review`, never a
//!   confident yes/no; so does a bare form label, and so does a question about what the
//!   statement rules out ("Are shared logins in use?" against "shared logins are not
//!   permitted"). Those two are offered the answer turned round, for the reader to confirm.
//! - An answer a `{ q, answer }` phrasing turns round from the control's is sent unread only
//!   when the question adds no meaningful word the phrasing and the control lack, and lacks
//!   none of the phrasing's ("survive the end of employment" against "end when employment
//!   ends" goes to `review`).
//! - An open question ("How ...?", "Describe ...") is sent unread only when it reads closely
//!   like one of the control's phrasings: its words alone say too little of what it asks.
//! - A question offering two ways ("applied automatically, or do we claim them?") and one
//!   about the customer's own people ("training for our staff") answered by a control of the
//!   company's own practice go to `review`.
//! - Never `answered` with `yes` unless a cited control's answer is `yes`.
//! - A weak match is `review` or `not_on_record`, never an error.

use std::path::Path;

use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};

use crate::catalog;
use crate::check::{CheckOptions, stale_age};
use crate::diag::Severity;
use crate::index::{Origin, SearchIndex, fingerprint};
use crate::limits::Limits;
use crate::matcher::{Analysis, Candidate, Matcher, SeenUnit, is_instruction};
use crate::record::{self, Answer, Control, Owner, Record};
use crate::text::{Analyzer, record_analyzer};

/// A record's own thesaurus, at the record root.
pub const RECORD_THESAURUS: &str = record::THESAURUS_TXT;

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

/// The two decisions, each on its own measure, both chosen on the `tune` part of
/// `fixtures/eval` (see README):
/// - `review`: on the confidence, the calibrated probability that the best control is a right
///   citation ([`Calibration`]); below it the question is not on the record. Chosen for the
///   most right citations with at least 85% of gaps flagged.
/// - `answer`: on the match's [`Evidence::strength`]; at or above it the answer is sent
///   unread, below it a person reads it first. Chosen for the fewest wrong claims: whether a
///   citation is right and whether its yes/no is are different questions.
#[derive(Debug, Clone, Copy)]
pub struct Thresholds {
    pub answer: f32,
    pub review: f32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            answer: 0.80,
            review: 0.50,
        }
    }
}

/// What the confidence is computed from: the judge's view of the best candidate.
#[derive(Debug, Clone, Copy)]
pub struct Evidence {
    /// The judge's score of the best candidate.
    pub score: f32,
    /// The weighted share of the question it covers.
    pub coverage: f32,
    /// How closely one of its phrasings reads like the question.
    pub phrasing: f32,
    /// Its lead over the runner-up, at most [`LEAD_CAP`]: a question two controls explain
    /// about equally well is one neither answers specifically.
    pub lead: f32,
    /// How many units the question has: long questions score lower for the same fit.
    pub units: f32,
}

/// The most of a lead that counts.
const LEAD_CAP: f32 = 0.3;

impl Evidence {
    /// How strong the match is, to send it unread: the judge's score plus half its lead.
    pub fn strength(&self) -> f32 {
        self.score + 0.5 * self.lead
    }

    pub fn as_array(&self) -> [f32; 5] {
        [
            self.score,
            self.coverage,
            self.phrasing,
            self.lead,
            self.units,
        ]
    }
}

/// A logistic model from [`Evidence`] to the probability that the best candidate is a right
/// citation: the confidence. Fitted on the `tune` split of `fixtures/eval` by
/// `ONRECORD_EVAL_FIT=1 cargo test --test it fit -- --nocapture`, which prints these numbers.
#[derive(Debug, Clone, Copy)]
pub struct Calibration {
    pub weights: [f32; 5],
    pub bias: f32,
}

impl Calibration {
    pub fn confidence(&self, evidence: &Evidence) -> f32 {
        let z: f32 = self
            .weights
            .iter()
            .zip(evidence.as_array())
            .map(|(w, x)| w * x)
            .sum::<f32>()
            + self.bias;
        1.0 / (1.0 + (-z).exp())
    }
}

pub const CALIBRATION: Calibration = Calibration {
    weights: [7.536, 1.015, -1.625, 5.627, 0.208],
    bias: -5.299,
};

/// How closely an open question ("How ...?", "Describe ...") must read like a phrasing to be
/// sent unread: more closely than a yes/no one (0.6), because the word that says what it asks
/// ("how", "where", "which") is not among the words compared. Chosen on the real
/// questionnaires' verdicts (`tests/it/real_answers.rs`): 3 of 6 such rows between 0.6 and
/// 0.8 were wrong.
const OPEN_PHRASING: f32 = 0.8;

/// How close the runner-up's score must be for the two to explain a question equally well.
const TIE: f32 = 0.05;

/// The share of a question that, matched only by negative sentences of the statement, sends
/// the answer to review.
const DENIED_SHARE: f32 = 0.2;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Citation {
    pub control: String,
    pub soc2: Vec<String>,
    pub iso27001: Vec<String>,
    pub cuec: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub status: Status,
    pub answer: Option<Answer>,
    pub confidence: f32,
    /// The cited statements, then the customer's part.
    pub response: String,
    pub customer: Vec<String>,
    pub citations: Vec<Citation>,
    /// Why the status is what it is, when not plainly answered ("stale record", ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip)]
    pub analysis: Option<Analysis>,
    #[serde(skip)]
    pub candidates: Vec<Candidate>,
    /// What the confidence was computed from (none when no control came close).
    #[serde(skip)]
    pub evidence: Option<Evidence>,
}

/// A loaded record ready to answer questions.
pub struct Engine {
    pub record: Record,
    matcher: Matcher,
    pub thresholds: Thresholds,
    /// When set, answers citing a control reviewed longer ago go to `review`.
    pub staleness: Option<CheckOptions>,
    pub index_origin: Origin,
}

impl Engine {
    /// [`Engine::open_with`] the default limits.
    pub fn open(root: &Path) -> Result<Engine> {
        Engine::open_with(root, &Limits::default())
    }

    /// Loads the record at `root` within `limits`, refusing one with errors, and opens (or
    /// builds) its index.
    pub fn open_with(root: &Path, limits: &Limits) -> Result<Engine> {
        let loaded = record::load(root, limits)?;
        let errors = loaded
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count();
        if errors > 0 {
            bail!(
                "the record at `{}` has {errors} error(s); run `onrecord check` and fix them",
                root.display()
            );
        }
        let thesaurus_path = root.join(RECORD_THESAURUS);
        let own = loaded.record.thesaurus.clone().unwrap_or_default();
        let analyzer = match record_analyzer(&own) {
            Ok(analyzer) => analyzer,
            Err(problems) => {
                let (line, message) = &problems[0];
                bail!("{}:{line}: {message}", thesaurus_path.display());
            }
        };
        let stamp = fingerprint(&loaded.record, &own);
        let index = SearchIndex::open_or_build(&loaded.record, &analyzer, &stamp)?;
        Ok(Engine::from_parts(loaded.record, analyzer, index))
    }

    pub fn from_parts(record: Record, analyzer: Analyzer, index: SearchIndex) -> Engine {
        let index_origin = index.origin;
        let matcher = Matcher::new(&record, analyzer, index);
        Engine {
            record,
            matcher,
            thresholds: Thresholds::default(),
            staleness: None,
            index_origin,
        }
    }

    /// Answers one question.
    pub fn ask(&self, question: &str) -> Result<Outcome> {
        let (analysis, candidates) = self.matcher.rank(question)?;
        Ok(self.compose(question, analysis, candidates))
    }

    fn compose(&self, question: &str, analysis: Analysis, candidates: Vec<Candidate>) -> Outcome {
        let not_on_record = |analysis: Analysis,
                             candidates: Vec<Candidate>,
                             confidence: f32,
                             evidence: Option<Evidence>| Outcome {
            status: Status::NotOnRecord,
            answer: None,
            confidence,
            response: String::new(),
            customer: Vec::new(),
            citations: Vec::new(),
            reason: None,
            analysis: Some(analysis),
            candidates,
            evidence,
        };
        let Some(best) = candidates.first().cloned() else {
            return not_on_record(analysis, candidates, 0.0, None);
        };
        let evidence = Evidence {
            score: best.score,
            coverage: best.coverage,
            phrasing: best.phrasing,
            lead: candidates
                .get(1)
                .map_or(best.score, |second| best.score - second.score)
                .min(LEAD_CAP),
            units: analysis.units.len() as f32,
        };
        let confidence = (CALIBRATION.confidence(&evidence) * 100.0).round() / 100.0;
        // A framework id the record maps is on the record: the mapping is the record's own
        // statement that those controls address it, whatever words the question adds.
        if confidence < self.thresholds.review && !best.by_framework_id {
            return not_on_record(analysis, candidates, confidence, Some(evidence));
        }
        let control = &self.record.controls[best.index];
        // "How often ...?" needs a frequency, "how long ...?" a time, "how many ...?" a
        // number: a control that states none cannot answer it, however well it matches,
        // unless the record says it does with a phrasing that asks the same.
        if let Some(asked) = asked_quantity(&analysis.clause).or_else(|| {
            analysis
                .units
                .iter()
                .any(|u| FREQUENCY_CONCEPTS.contains(&u.concept.as_str()))
                .then_some(Quantity::Frequency)
        }) && !best.by_framework_id
            && !states_quantity(&format!("{}. {}", control.title, control.statement), asked)
            && !(best.phrasing >= 0.6 && asked_quantity(&best.phrasing_text) == Some(asked))
        {
            let mut outcome = not_on_record(analysis, candidates, confidence, Some(evidence));
            outcome.reason = Some(format!(
                "the question asks {}; `{}` states none",
                asked.what(),
                control.id
            ));
            return outcome;
        }
        let mut status = if evidence.strength() >= self.thresholds.answer {
            Status::Answered
        } else {
            Status::Review
        };
        // A phrasing the question reads like carries its own answer (it may ask the
        // opposite way round); otherwise the control's answer answers its title, turned
        // round when the question asks the title the other way round.
        let reads_like_phrasing = best.phrasing >= 0.6;
        let analyzer = self.matcher.analyzer();
        // A phrasing's answer answers that phrasing: asked the other way round from it
        // ("need a grant before viewing" against "view ... without permission"), the
        // question gets neither its answer nor a guess.
        let against_phrasing = reads_like_phrasing
            && best.phrasing_answer.is_some()
            && analyzer.is_negated(&best.phrasing_text) != analysis.negated;
        // Asked the opposite way round from the title ("Is our data used for training?"
        // against "No training on customer data"), not through a phrasing that carries its
        // own answer: the title's yes is the question's no. Such an answer is read first.
        let through_phrasing = reads_like_phrasing && best.phrasing_answer.is_some();
        // So is a question leaning towards a plain phrasing (one that carries the control's
        // answer) asked the other way round from it: "Is any data retained?" against "Does
        // your AI provider commit not to retain the data we send it?".
        let against_plain_phrasing = best.phrasing >= 0.3
            && best.phrasing_answer.is_none()
            && analyzer.is_negated(&best.phrasing_text) != analysis.negated;
        let opposite = (analysis.negated != analyzer.is_negated(&control.title)
            || against_plain_phrasing)
            && !through_phrasing;
        // The question is about what the statement says is *not* done ("shared logins are
        // not permitted" against "Are shared logins in use?"). A `no` control's statement
        // says what is not done: that is its answer.
        let denied =
            control.answer == Answer::Yes && best.denied >= DENIED_SHARE && !through_phrasing;
        // The answer of the phrasing the question reads like, when it is the one given.
        let phrasing_answer = best
            .phrasing_answer
            .filter(|_| reads_like_phrasing && !against_phrasing);
        let answer = match phrasing_answer {
            Some(answer) => answer,
            _ if opposite => match control.answer {
                Answer::Yes => Answer::No,
                Answer::No => Answer::Yes,
                other => other,
            },
            // Asked whether what the statement rules out is done, the statement answers no
            // (offered for review: which sentence the question meant is a reading). An open
            // question ("What ...?", "Describe ...") gets no such turn, nor one asking about
            // a limit ("Do you limit plugins?" against "has no plugins" is a yes).
            _ if denied
                && asks_yes_or_no(&analysis.clause)
                && !asks_about_a_limit(&analysis.clause) =>
            {
                Answer::No
            }
            _ => control.answer,
        };
        let mut reason = None;
        if status == Status::Answered {
            // A control of the company's own practice, with no part for the customer.
            let company_only = control.owner == Owner::Company
                && self
                    .record
                    .mapping(&control.id)
                    .is_none_or(|m| m.get(catalog::CUEC).is_empty());
            let reading = Reading {
                reads_like_phrasing,
                against_phrasing,
                opposite,
                denied,
                company_only,
                flipped_despite: if phrasing_answer.is_some_and(|a| a != control.answer) {
                    self.matcher.differs_from_phrasing(&best, &analysis)
                } else {
                    Vec::new()
                },
            };
            reason = doubt(question, &analysis, &best, control, &reading);
            // Another control explains the question as well and answers it otherwise: which
            // one the customer meant is a guess ("a documented list of personal data").
            if reason.is_none()
                && let Some(second) = candidates.get(1)
                && best.score - second.score < TIE
                && second.coverage >= best.coverage
                && self.record.controls[second.index].answer != answer
            {
                reason = Some(format!(
                    "`{}` explains the question as well and answers it otherwise",
                    self.record.controls[second.index].id
                ));
            }
            if reason.is_some() {
                status = Status::Review;
            }
        }
        let mut cited = vec![best.index];
        if let Some(second) = self.second_citation(&analysis, &candidates) {
            cited.push(second);
        }
        if answer == Answer::Yes
            && !cited
                .iter()
                .any(|&i| self.record.controls[i].answer == Answer::Yes)
        {
            status = Status::Review;
            reason = Some("a yes needs a cited control whose answer is yes".into());
        }
        let citations: Vec<Citation> = cited
            .iter()
            .map(|&i| self.citation(&self.record.controls[i].id))
            .collect();
        let stale = self.stale_controls(&citations);
        if !stale.is_empty() && status == Status::Answered {
            status = Status::Review;
            reason = Some(format!("cites a stale record: {}", stale.join(", ")));
        }
        let customer = self.customer_parts(&citations);
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
            analysis: Some(analysis),
            candidates,
            evidence: Some(evidence),
        }
    }

    /// A second control is cited when it explains a real part of the question the best one
    /// leaves unexplained, and is itself a plausible match.
    fn second_citation(&self, analysis: &Analysis, candidates: &[Candidate]) -> Option<usize> {
        let best = candidates.first()?;
        let missing: Vec<&SeenUnit> = analysis.units.iter().filter(|u| !u.covered).collect();
        let total: f32 = analysis.units.iter().map(|u| u.weight).sum();
        if missing.is_empty() || total <= 0.0 {
            return None;
        }
        candidates
            .iter()
            .skip(1)
            .filter(|c| c.score >= self.thresholds.review && c.index != best.index)
            .map(|c| {
                let gain: f32 = missing
                    .iter()
                    .filter(|u| self.matcher.covers(c.index, &u.token))
                    .map(|u| u.weight)
                    .sum();
                (c.index, gain / total)
            })
            .filter(|(_, gain)| *gain >= 0.2)
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(i, _)| i)
    }

    /// The cited controls reviewed longer ago than `staleness` allows (or never), in citation
    /// order; empty when staleness is not checked.
    pub fn stale_controls(&self, citations: &[Citation]) -> Vec<String> {
        let Some(options) = &self.staleness else {
            return Vec::new();
        };
        citations
            .iter()
            .filter_map(|c| self.record.control(&c.control))
            .filter(|c| c.reviewed.is_none() || stale_age(c.reviewed, options).is_some())
            .map(|c| c.id.clone())
            .collect()
    }

    pub fn citation(&self, control: &str) -> Citation {
        let mapping = self.record.mapping(control);
        let refs = |key: &str| mapping.map(|m| m.get(key).to_vec()).unwrap_or_default();
        Citation {
            control: control.to_string(),
            soc2: refs(catalog::SOC2),
            iso27001: refs(catalog::ISO27001),
            cuec: refs(catalog::CUEC),
        }
    }

    fn customer_parts(&self, citations: &[Citation]) -> Vec<String> {
        let Some(cuec) = self.record.catalog(catalog::CUEC) else {
            return Vec::new();
        };
        let mut parts: Vec<String> = Vec::new();
        for id in citations.iter().flat_map(|c| &c.cuec) {
            if let Some(entry) = cuec.get(id)
                && !parts.contains(&entry.title)
            {
                parts.push(entry.title.clone());
            }
        }
        parts
    }
}

/// How the question was read against the best control, for [`doubt`].
struct Reading {
    /// It reads like one of the control's `{ q, answer }` phrasings.
    reads_like_phrasing: bool,
    /// ... but asked the other way round from that phrasing.
    against_phrasing: bool,
    /// It asks the control's title, or a plain phrasing it leans towards, the other way round.
    opposite: bool,
    /// It matches what the statement says is not done.
    denied: bool,
    /// The control is the company's own practice, with no part for the customer.
    company_only: bool,
    /// The answer is a phrasing's own, the other way round from the control's, and these
    /// words of the question or the phrasing are not in the other.
    flipped_despite: Vec<String>,
}

/// Why a confident match must still be read by a person before its yes/no is sent, if it
/// must: the first of the honesty rules that applies.
fn doubt(
    question: &str,
    analysis: &Analysis,
    best: &Candidate,
    control: &Control,
    reading: &Reading,
) -> Option<String> {
    let Reading {
        reads_like_phrasing,
        against_phrasing,
        opposite,
        denied,
        company_only,
        ref flipped_despite,
    } = *reading;
    // The question reads more like a phrasing asked the other way round than like the title,
    // but not closely enough to take that phrasing's answer: which way it asks is a guess.
    let leans_opposite = best.phrasing >= 0.3
        && !reads_like_phrasing
        && best.phrasing_answer.is_some_and(|a| a != control.answer);
    let id = &control.id;
    if leans_opposite || opposite {
        Some(format!("the question may ask the opposite of `{id}`"))
    } else if denied {
        Some(format!("the question matches what `{id}` says is not done"))
    } else if against_phrasing {
        Some(format!(
            "the question asks the other way round from a phrasing of `{id}`"
        ))
    } else if !flipped_despite.is_empty() {
        Some(format!(
            "the answer turns `{id}`'s round through a phrasing the question differs from in: {}",
            flipped_despite.join(", ")
        ))
    } else if company_only && asks_about_customer_people(question) {
        Some(format!(
            "the question is about the customer's people; `{id}` is about the company's own"
        ))
    } else if is_follow_up(question) {
        Some("follows up the question before it (\"if so, ...\"): read the two together".into())
    } else if analysis.units.len() == 1
        && !analysis.units[0].token.starts_with("syn_")
        && !best.by_framework_id
    {
        Some("asks about a single word: what it asks of it is for a reader".into())
    } else if !asks_yes_or_no(&analysis.clause)
        && best.phrasing < OPEN_PHRASING
        && !best.by_framework_id
    {
        Some(format!(
            "an open question is sent unread only when it reads closely like one of `{id}`'s phrasings"
        ))
    } else if asks_which_of_two(&analysis.clause) {
        Some("asks which of two, not yes or no".into())
    } else if is_label(question) {
        Some("reads as a form field, not a yes/no question".into())
    } else {
        None
    }
}

/// The kind of quantity a question asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quantity {
    Frequency,
    Time,
    Number,
}

impl Quantity {
    fn what(self) -> &'static str {
        match self {
            Quantity::Frequency => "how often",
            Quantity::Time => "for a time",
            Quantity::Number => "for a number",
        }
    }
}

const NUMBER_WORDS: &[&str] = &[
    "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
    "twelve", "fifteen", "twenty", "thirty", "sixty", "ninety", "hundred", "once", "twice",
];
const TIME_UNITS: &[&str] = &[
    "second", "seconds", "minute", "minutes", "hour", "hours", "day", "days", "week", "weeks",
    "month", "months", "year", "years", "quarter", "quarters",
];
const FREQUENCIES: &[&str] = &[
    "annual",
    "annually",
    "yearly",
    "quarterly",
    "monthly",
    "weekly",
    "daily",
    "nightly",
    "hourly",
    "continuous",
    "continuously",
    "biannual",
    "biannually",
    "semiannual",
    "semiannually",
    "fortnightly",
];
/// The thesaurus concepts that name a frequency ("every year", "quarterly").
const FREQUENCY_CONCEPTS: &[&str] = &[
    "annually",
    "semi-annually",
    "quarterly",
    "monthly",
    "weekly",
    "daily",
];
/// Events a frequency can be counted by ("on every release").
const EVENTS: &[&str] = &[
    "release",
    "releases",
    "deployment",
    "deployments",
    "deploy",
    "change",
    "changes",
    "build",
    "builds",
    "commit",
    "commits",
    "merge",
    "login",
    "session",
    "hire",
    "push",
];

/// The words of `text`, lowercased: runs of letters and digits.
fn lower_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// The quantity a question's main clause asks for, if it asks for one.
fn asked_quantity(clause: &str) -> Option<Quantity> {
    let words = lower_words(clause);
    words
        .windows(2)
        .find_map(|w| match (w[0].as_str(), w[1].as_str()) {
            ("how", "often" | "frequently") | ("what" | "which", "frequency" | "interval") => {
                Some(Quantity::Frequency)
            }
            ("how", "long" | "quickly" | "fast" | "soon")
            | ("what" | "which", "timeframe" | "timescale") => Some(Quantity::Time),
            ("how", "many" | "much") => Some(Quantity::Number),
            _ => None,
        })
}

/// Whether `text` states a quantity of the kind asked: a frequency ("quarterly", "every
/// release", "every 90 days"), a time ("within 4 hours", "13 months") or a number.
fn states_quantity(text: &str, asked: Quantity) -> bool {
    let words = lower_words(text);
    let number = |w: &str| w.chars().any(|c| c.is_ascii_digit()) || NUMBER_WORDS.contains(&w);
    let time = |i: usize| {
        number(&words[i])
            && words[i + 1..]
                .iter()
                .take(2)
                .any(|w| TIME_UNITS.contains(&w.as_str()))
    };
    // "every year", "each release", "every 90 days", "per quarter", "twice a year".
    let every = |i: usize| {
        let next = |w: &String| TIME_UNITS.contains(&w.as_str()) || EVENTS.contains(&w.as_str());
        match words[i].as_str() {
            "every" | "each" => {
                words.get(i + 1).is_some_and(next) || (i + 1 < words.len() && time(i + 1))
            }
            "per" => words.get(i + 1).is_some_and(next),
            "a" => {
                i > 0
                    && matches!(words[i - 1].as_str(), "once" | "twice" | "times")
                    && words.get(i + 1).is_some_and(next)
            }
            _ => false,
        }
    };
    (0..words.len()).any(|i| match asked {
        Quantity::Frequency => FREQUENCIES.contains(&words[i].as_str()) || every(i),
        Quantity::Time => time(i) || words[i] == "immediately",
        Quantity::Number => number(&words[i]),
    })
}

/// Whether the question is about the customer's own people ("training for our clinic staff",
/// "Do customers take part in your exercises?"): what the company does for its own workforce
/// does not answer it.
fn asks_about_customer_people(question: &str) -> bool {
    const PEOPLE: &[&str] = &[
        "staff",
        "employees",
        "users",
        "team",
        "teams",
        "people",
        "workforce",
        "personnel",
        "admins",
        "administrators",
        "members",
    ];
    const TAKING_PART: &[&str] = &["take", "takes", "participate", "attend", "join"];
    let words = lower_words(question);
    words.windows(2).any(|w| {
        (w[0] == "customers" || w[0] == "customer") && TAKING_PART.contains(&w[1].as_str())
    }) || words.iter().enumerate().any(|(i, w)| {
        w == "our"
            && words[i + 1..]
                .iter()
                .take(2)
                .any(|next| PEOPLE.contains(&next.as_str()))
    })
}

/// Whether a question asks yes or no ("Are shared logins in use?", "Standing admin rights in
/// prod?"), not for a description ("What ...?", "Describe ...").
fn asks_yes_or_no(clause: &str) -> bool {
    const WH: &[&str] = &[
        "what", "which", "who", "whom", "whose", "when", "where", "why", "how",
    ];
    let words = lower_words(clause);
    // "After how many attempts ...?" and "In which regions ...?" are open too.
    !words.is_empty()
        && !is_instruction(clause)
        && !words.iter().take(3).any(|w| WH.contains(&w.as_str()))
}

/// Whether a question offers two ways and asks which ("Are credits applied automatically, or
/// do we have to claim them?"): a yes would answer neither. "..., or not?" still asks yes or no.
fn asks_which_of_two(clause: &str) -> bool {
    const AUXILIARIES: &[&str] = &[
        "do", "does", "did", "is", "are", "was", "were", "can", "could", "will", "would", "should",
        "must", "has", "have", "had",
    ];
    let lower = clause.to_lowercase();
    lower.match_indices(", or ").any(|(at, _)| {
        lower_words(&lower[at + ", or ".len()..])
            .first()
            .is_some_and(|w| AUXILIARIES.contains(&w.as_str()))
    })
}

/// Whether a question asks about keeping something from happening ("Do you limit ...?",
/// "Is ... blocked?"): a statement that rules the thing out answers it yes.
fn asks_about_a_limit(clause: &str) -> bool {
    const LIMITING: &[&str] = &[
        "limit",
        "limits",
        "limited",
        "restrict",
        "restricts",
        "restricted",
        "prevent",
        "prevents",
        "prevented",
        "block",
        "blocks",
        "blocked",
        "prohibit",
        "prohibits",
        "prohibited",
        "forbid",
        "forbids",
        "forbidden",
        "disable",
        "disables",
        "disabled",
        "deny",
        "denies",
        "denied",
        "stop",
        "stops",
        "stopped",
        "disallow",
        "disallows",
        "disallowed",
        "ban",
        "bans",
        "banned",
        "minimize",
        "minimise",
        "avoid",
        "avoids",
    ];
    lower_words(clause)
        .iter()
        .any(|w| LIMITING.contains(&w.as_str()))
}

/// A question that only makes sense after the one before it: "If so, how often?", "If
/// 'Yes', please provide a copy."
fn is_follow_up(question: &str) -> bool {
    let words = lower_words(question);
    words.first().is_some_and(|w| w == "if")
        && words.get(1).is_some_and(|w| {
            matches!(
                w.as_str(),
                "so" | "yes"
                    | "no"
                    | "not"
                    | "applicable"
                    | "other"
                    | "none"
                    | "answered"
                    | "needed"
                    | "required"
                    | "requested"
            )
        })
}

/// A form field ("Solution Provider Name") rather than a question: a few words, no question
/// mark. Its matches may be right, but a yes/no for it would be a claim nobody asked for.
fn is_label(question: &str) -> bool {
    let text = question.trim();
    !text.contains('?') && text.split_whitespace().count() <= 4 && !text.ends_with('.')
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frequency_concepts_are_thesaurus_concepts() {
        // The rule reads concept names: a renamed thesaurus group must not silently drop out.
        let analyzer = Analyzer::new(&[]);
        for name in FREQUENCY_CONCEPTS {
            let units = analyzer.question_units(name);
            assert_eq!(units.len(), 1, "{name}");
            assert_eq!(analyzer.thesaurus.name(&units[0].token), *name);
        }
    }

    #[test]
    fn a_choice_between_two_is_not_a_yes_or_no() {
        assert!(asks_which_of_two(
            "Are SLA credits applied automatically, or do we have to claim them?"
        ));
        assert!(asks_which_of_two("Is the key held by you, or is it ours?"));
        assert!(asks_which_of_two("İs İt yours, or is it ours?"));
        assert!(!asks_which_of_two("Is data encrypted at rest, or not?"));
        assert!(!asks_which_of_two("Do you use SAML or OIDC?"));
        assert!(!asks_which_of_two(
            "Are laptops, phones, or tablets managed?"
        ));
    }

    #[test]
    fn quantity_questions_are_told_apart() {
        let asked = |q: &str| asked_quantity(q);
        assert_eq!(
            asked("How often are backups tested?"),
            Some(Quantity::Frequency)
        );
        assert_eq!(
            asked("At what interval are keys rotated?"),
            Some(Quantity::Frequency)
        );
        assert_eq!(asked("How long are logs kept?"), Some(Quantity::Time));
        assert_eq!(
            asked("How quickly is access removed?"),
            Some(Quantity::Time)
        );
        assert_eq!(asked("How many staff are on call?"), Some(Quantity::Number));
        assert_eq!(asked("How do you encrypt backups?"), None);
        assert_eq!(asked("Are logs kept for long?"), None);
    }

    #[test]
    fn a_quantity_is_found_only_of_the_kind_asked() {
        use Quantity::*;
        let states = |text: &str, q| states_quantity(text, q);
        assert!(states("Keys are rotated every year.", Frequency));
        assert!(states("A scan runs on every release.", Frequency));
        assert!(states("Access is reviewed quarterly.", Frequency));
        assert!(states("Passwords expire every 90 days.", Frequency));
        assert!(!states("Every employee has a named account.", Frequency));
        assert!(!states("Backups are kept for 35 days.", Frequency));
        assert!(states("Backups are kept for 35 days.", Time));
        assert!(states(
            "Access is removed within 4 hours of departure.",
            Time
        ));
        assert!(!states("TLS 1.2 or higher is required.", Time));
        assert!(states("TLS 1.2 or higher is required.", Number));
        assert!(!states("Staff use named accounts.", Number));
    }
}
