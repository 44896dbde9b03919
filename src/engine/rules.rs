//! The honesty rules: an ordered table, each rule one function returning a typed [`Reason`].
//!
//! Three tables, read in order:
//! 1. [`NOT_ON_RECORD`]: whether the record answers the question at all.
//! 2. [`READ_FIRST`]: why a match on the record must be read by a person, strong enough to
//!    send unread or not: the first rule that applies gives the reason.
//! 3. [`AFTER_CITING`]: checks on what is cited (a yes needs a cited yes control; a stale
//!    record is read first).
//!
//! Every status comes with a reason: `strong_match` or `framework_id` for an answer sent
//! unread, `weak_match` for a review no rule sent there, `no_candidate` or `low_confidence`
//! for a question no control comes close to. The codes are stable: reports carry them,
//! scripts match on them, and `fixtures/honesty/` holds a case for every one.

use serde::Serialize;

use super::question::{Form, Question, states_quantity};
use super::retrieve::{Analysis, Candidate};
use super::signals::{Evidence, Thresholds};
use crate::record::{Answer, Control};

/// Why a question got its status: a stable code and a sentence for a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    pub code: ReasonCode,
    pub detail: String,
}

impl Reason {
    pub fn new(code: ReasonCode, detail: impl Into<String>) -> Reason {
        Reason {
            code,
            detail: detail.into(),
        }
    }
}

/// The documented list of reason codes (README, "Reason codes").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonCode {
    StrongMatch,
    FrameworkId,
    WeakMatch,
    NoCandidate,
    LowConfidence,
    QuantityNotStated,
    OppositePolarity,
    DeniedByStatement,
    AgainstPhrasing,
    PhrasingDiffers,
    CustomerPeople,
    FollowUp,
    SingleWord,
    OpenQuestion,
    WhichOfTwo,
    FormLabel,
    AmbiguousMatch,
    SemanticOverride,
    YesNeedsYesControl,
    StaleCitation,
    Learned,
    KnownGap,
    FieldType,
    ProfileField,
    FormField,
    UnansweredPart,
    /// Asked under a section heading whose topic the answer's control does not speak to.
    SectionTopic,
    /// A `partial` or `n/a` answer to a question that does not read like the control's title
    /// or phrasings.
    QualifiedAnswer,
}

impl ReasonCode {
    pub const ALL: [ReasonCode; 28] = [
        ReasonCode::StrongMatch,
        ReasonCode::FrameworkId,
        ReasonCode::WeakMatch,
        ReasonCode::NoCandidate,
        ReasonCode::LowConfidence,
        ReasonCode::QuantityNotStated,
        ReasonCode::OppositePolarity,
        ReasonCode::DeniedByStatement,
        ReasonCode::AgainstPhrasing,
        ReasonCode::PhrasingDiffers,
        ReasonCode::CustomerPeople,
        ReasonCode::FollowUp,
        ReasonCode::SingleWord,
        ReasonCode::OpenQuestion,
        ReasonCode::WhichOfTwo,
        ReasonCode::FormLabel,
        ReasonCode::AmbiguousMatch,
        ReasonCode::SemanticOverride,
        ReasonCode::YesNeedsYesControl,
        ReasonCode::StaleCitation,
        ReasonCode::Learned,
        ReasonCode::KnownGap,
        ReasonCode::FieldType,
        ReasonCode::ProfileField,
        ReasonCode::FormField,
        ReasonCode::UnansweredPart,
        ReasonCode::SectionTopic,
        ReasonCode::QualifiedAnswer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReasonCode::StrongMatch => "strong_match",
            ReasonCode::FrameworkId => "framework_id",
            ReasonCode::WeakMatch => "weak_match",
            ReasonCode::NoCandidate => "no_candidate",
            ReasonCode::LowConfidence => "low_confidence",
            ReasonCode::QuantityNotStated => "quantity_not_stated",
            ReasonCode::OppositePolarity => "opposite_polarity",
            ReasonCode::DeniedByStatement => "denied_by_statement",
            ReasonCode::AgainstPhrasing => "against_phrasing",
            ReasonCode::PhrasingDiffers => "phrasing_differs",
            ReasonCode::CustomerPeople => "customer_people",
            ReasonCode::FollowUp => "follow_up",
            ReasonCode::SingleWord => "single_word",
            ReasonCode::OpenQuestion => "open_question",
            ReasonCode::WhichOfTwo => "which_of_two",
            ReasonCode::FormLabel => "form_label",
            ReasonCode::AmbiguousMatch => "ambiguous_match",
            ReasonCode::SemanticOverride => "semantic_override",
            ReasonCode::YesNeedsYesControl => "yes_needs_yes_control",
            ReasonCode::StaleCitation => "stale_citation",
            ReasonCode::Learned => "learned",
            ReasonCode::KnownGap => "known_gap",
            ReasonCode::FieldType => "field_type",
            ReasonCode::ProfileField => "profile_field",
            ReasonCode::FormField => "form_field",
            ReasonCode::UnansweredPart => "unanswered_part",
            ReasonCode::SectionTopic => "section_topic",
            ReasonCode::QualifiedAnswer => "qualified_answer",
        }
    }

    pub fn from_name(name: &str) -> Option<ReasonCode> {
        ReasonCode::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

/// How closely a question must read like a phrasing to take that phrasing's answer.
pub const READS_LIKE: f32 = 0.6;

/// How closely a question must lean towards a phrasing for its polarity to count.
const LEANS: f32 = 0.3;

/// How closely an open question ("How ...?", "Describe ...") must read like a phrasing to be
/// sent unread: more closely than a yes/no one ([`READS_LIKE`]), because the word that says
/// what it asks ("how", "where", "which") is not among the words compared. Chosen on the real
/// questionnaires' verdicts (`tests/it/real_answers.rs`): 3 of 6 such rows between 0.6 and
/// 0.8 were wrong.
const OPEN_PHRASING: f32 = 0.8;

/// How close the runner-up's score must be for the two to explain a question equally well.
const TIE: f32 = 0.05;

/// The share of a question that, matched only by negative sentences of the statement, sends
/// the answer to review.
const DENIED_SHARE: f32 = 0.2;

/// Everything a rule reads: the question, its best candidate and how the two were read
/// against each other.
pub struct Case<'a> {
    pub question: &'a Question,
    pub analysis: &'a Analysis,
    pub best: &'a Candidate,
    pub control: &'a Control,
    /// The other candidates, in rank order, with their controls.
    pub others: Vec<(&'a Candidate, &'a Control)>,
    pub evidence: Evidence,
    pub confidence: f32,
    pub thresholds: Thresholds,
    pub reading: Reading,
    /// The answer the question gets (the phrasing's, the title's turned round, ...).
    pub answer: Answer,
}

impl Case<'_> {
    /// The strength at or above which this match is sent unread: the framework bar when it
    /// came through a framework id the record maps, the answer bar otherwise.
    pub fn bar(&self) -> f32 {
        if self.best.by_framework_id {
            self.thresholds.framework
        } else {
            self.thresholds.answer
        }
    }

    /// Strong enough to send unread, when no rule holds it back.
    pub fn strong(&self) -> bool {
        self.evidence.strength() >= self.bar()
    }
}

/// How the question was read against the best control.
#[derive(Debug, Clone, Default)]
pub struct Reading {
    /// The question's second part ("If so, how often ...?") and what of it the control does
    /// not speak to, when it leaves something unanswered.
    pub unanswered_part: Option<(String, Vec<String>)>,
    /// It reads like one of the control's phrasings.
    pub reads_like_phrasing: bool,
    /// ... a `{ q, answer }` one, asked the other way round from it.
    pub against_phrasing: bool,
    /// It reads like a `{ q, answer }` phrasing: that phrasing carries its own answer.
    pub through_phrasing: bool,
    /// It asks the control's title, or a plain phrasing it leans towards, the other way round.
    pub opposite: bool,
    /// It leans towards a phrasing asked the other way round, not closely enough to take its
    /// answer.
    pub leans_opposite: bool,
    /// It matches what the statement says is not done.
    pub denied: bool,
    /// Its answer is a phrasing's own, the other way round from the control's.
    pub turned_by_phrasing: bool,
    /// The control is the company's own practice, with no part for the customer.
    pub company_only: bool,
    /// The answer is a phrasing's own, the other way round from the control's, and these
    /// words of the question or the phrasing are not in the other.
    pub flipped_despite: Vec<String>,
}

/// A rule: the reason it applies, or `None`.
pub type Rule = fn(&Case) -> Option<Reason>;

/// Whether the record answers the question at all: below the confidence, or asked for a
/// quantity the control does not state, it is not on the record.
pub const NOT_ON_RECORD: &[Rule] = &[low_confidence, quantity_not_stated];

/// Why a match on the record must be read first, in order: a strong one is held back, and a
/// weak one gets a more precise reason than `weak_match`.
pub const READ_FIRST: &[Rule] = &[
    opposite_polarity,
    denied_by_statement,
    against_phrasing,
    phrasing_differs,
    customer_people,
    follow_up,
    unanswered_part,
    single_word,
    open_question,
    which_of_two,
    form_label,
    ambiguous_match,
    semantic_override,
    qualified_answer,
];

/// The first rule of `table` that applies.
pub fn first(table: &[Rule], case: &Case) -> Option<Reason> {
    table.iter().find_map(|rule| rule(case))
}

fn low_confidence(c: &Case) -> Option<Reason> {
    // A framework id the record maps is on the record: the mapping is the record's own
    // statement that those controls address it, whatever words the question adds.
    (c.confidence < c.thresholds.review && !c.best.by_framework_id).then(|| {
        Reason::new(
            ReasonCode::LowConfidence,
            format!(
                "the best match, `{}`, has confidence {:.2}, below {:.2}",
                c.control.id, c.confidence, c.thresholds.review
            ),
        )
    })
}

/// "How often ...?" needs a frequency, "how long ...?" a time, "how many ...?" a number: a
/// control that states none cannot answer it, however well it matches, unless the record
/// says it does with a phrasing that asks the same.
fn quantity_not_stated(c: &Case) -> Option<Reason> {
    let asked = c.question.quantity?;
    let stated = states_quantity(
        &format!("{}. {}", c.control.title, c.control.statement),
        asked,
    );
    let phrasing_asks = c.best.phrasing >= READS_LIKE
        && super::question::asked_quantity(&c.best.phrasing_text) == Some(asked);
    (!c.best.by_framework_id && !stated && !phrasing_asks).then(|| {
        Reason::new(
            ReasonCode::QuantityNotStated,
            format!(
                "the question asks {}; `{}` states none",
                asked.what(),
                c.control.id
            ),
        )
    })
}

fn unanswered_part(c: &Case) -> Option<Reason> {
    c.reading.unanswered_part.as_ref().map(|(part, missing)| {
        Reason::new(
            ReasonCode::UnansweredPart,
            format!(
                "`{}` answers the first part; the second, \"{part}\", it does not ({})",
                c.control.id,
                missing.join(", ")
            ),
        )
    })
}

fn opposite_polarity(c: &Case) -> Option<Reason> {
    (c.reading.leans_opposite || c.reading.opposite).then(|| {
        Reason::new(
            ReasonCode::OppositePolarity,
            format!("the question may ask the opposite of `{}`", c.control.id),
        )
    })
}

fn denied_by_statement(c: &Case) -> Option<Reason> {
    c.reading.denied.then(|| {
        Reason::new(
            ReasonCode::DeniedByStatement,
            format!(
                "the question matches what `{}` says is not done",
                c.control.id
            ),
        )
    })
}

fn against_phrasing(c: &Case) -> Option<Reason> {
    c.reading.against_phrasing.then(|| {
        Reason::new(
            ReasonCode::AgainstPhrasing,
            format!(
                "the question asks the other way round from a phrasing of `{}`",
                c.control.id
            ),
        )
    })
}

fn phrasing_differs(c: &Case) -> Option<Reason> {
    (!c.reading.flipped_despite.is_empty()).then(|| {
        Reason::new(
            ReasonCode::PhrasingDiffers,
            format!(
                "the answer turns `{}`'s round through a phrasing the question differs from in: {}",
                c.control.id,
                c.reading.flipped_despite.join(", ")
            ),
        )
    })
}

fn customer_people(c: &Case) -> Option<Reason> {
    (c.reading.company_only && c.question.about_customer_people).then(|| {
        Reason::new(
            ReasonCode::CustomerPeople,
            format!(
                "the question is about the customer's people; `{}` is about the company's own",
                c.control.id
            ),
        )
    })
}

fn follow_up(c: &Case) -> Option<Reason> {
    c.question.follow_up.then(|| {
        Reason::new(
            ReasonCode::FollowUp,
            "follows up the question before it (\"if so, ...\"): read the two together",
        )
    })
}

fn single_word(c: &Case) -> Option<Reason> {
    let units = &c.analysis.units;
    (units.len() == 1 && !units[0].token.starts_with("syn_") && !c.best.by_framework_id).then(
        || {
            Reason::new(
                ReasonCode::SingleWord,
                "asks about a single word: what it asks of it is for a reader",
            )
        },
    )
}

fn open_question(c: &Case) -> Option<Reason> {
    (c.question.form == Form::Open && c.best.phrasing < OPEN_PHRASING && !c.best.by_framework_id)
        .then(|| {
            Reason::new(
                ReasonCode::OpenQuestion,
                format!(
                    "an open question is sent unread only when it reads closely like one of `{}`'s phrasings",
                    c.control.id
                ),
            )
        })
}

fn which_of_two(c: &Case) -> Option<Reason> {
    (c.question.form == Form::WhichOfTwo)
        .then(|| Reason::new(ReasonCode::WhichOfTwo, "asks which of two, not yes or no"))
}

fn form_label(c: &Case) -> Option<Reason> {
    (c.question.form == Form::Label).then(|| {
        Reason::new(
            ReasonCode::FormLabel,
            "reads as a form field, not a yes/no question",
        )
    })
}

/// Another control explains the question as well and answers it otherwise: which one the
/// customer meant is a guess ("a documented list of personal data"). Any other candidate
/// counts, not only the runner-up by rank: the semantic signal may rank one that explains
/// the question better lower.
fn ambiguous_match(c: &Case) -> Option<Reason> {
    let (_, control) = c.others.iter().find(|(other, control)| {
        c.best.score - other.score < TIE
            && other.coverage >= c.best.coverage
            && control.answer != c.answer
    })?;
    Some(Reason::new(
        ReasonCode::AmbiguousMatch,
        format!(
            "`{}` explains the question as well and answers it otherwise",
            control.id
        ),
    ))
}

/// The sentence model ranked first a control the judge scores below another: meaning alone
/// chose it, and meaning is what the embedding does not tell apart from a near miss. Such a
/// choice is proposed, never sent unread.
pub fn semantic_override(c: &Case) -> Option<Reason> {
    let (other, control) = c
        .others
        .iter()
        .filter(|(other, _)| other.score > c.best.score)
        .max_by(|a, b| a.0.score.total_cmp(&b.0.score))?;
    Some(Reason::new(
        ReasonCode::SemanticOverride,
        format!(
            "`{}` is first by meaning, but the words of the question fit `{}` better ({:.2} against {:.2})",
            c.control.id, control.id, other.score, c.best.score
        ),
    ))
}

/// `partial` says how far a control goes and `n/a` that it does not apply: whether either
/// holds for what is asked rests on the question's scope, which a match of topic words does
/// not read ("Will you give us the full pentest report?" against a control that shares a
/// summary, `partial`, whose answer is `no`). Such an answer is sent unread only when the
/// question reads like the control's title or one of its phrasings, what the company wrote
/// the answer for, or names a framework id the record maps. On the corpus (docs/engine.md,
/// "Qualified answers") every one of the five wrong `partial` and `n/a` answers sent unread
/// was below [`READS_LIKE`], for nine right ones.
fn qualified_answer(c: &Case) -> Option<Reason> {
    let qualified = matches!(c.answer, Answer::Partial | Answer::NotApplicable);
    (qualified && c.best.phrasing < READS_LIKE && !c.best.by_framework_id).then(|| {
        Reason::new(
            ReasonCode::QualifiedAnswer,
            format!(
                "`{}` answers `{}`: whether that holds for what is asked is for a reader, since the question does not read like its title or one of its phrasings",
                c.control.id,
                c.answer.as_str()
            ),
        )
    })
}

/// What the question reads as against `control`, and the answer it gets: the answer of a
/// `{ q, answer }` phrasing the question reads like (asked the same way round); otherwise the
/// control's, turned round when the question asks its title the other way round, or `no`
/// when it asks whether what the statement rules out is done.
pub fn read_against(
    question: &Question,
    best: &Candidate,
    control: &Control,
    is_negated: impl Fn(&str) -> bool,
) -> (Reading, Answer) {
    let reads_like_phrasing = best.phrasing >= READS_LIKE;
    // A phrasing's answer answers that phrasing: asked the other way round from it ("need a
    // grant before viewing" against "view ... without permission"), the question gets
    // neither its answer nor a guess.
    let against_phrasing = reads_like_phrasing
        && best.phrasing_answer.is_some()
        && is_negated(&best.phrasing_text) != question.negated;
    let through_phrasing = reads_like_phrasing && best.phrasing_answer.is_some();
    // Leaning towards a plain phrasing (one that carries the control's answer) asked the
    // other way round: "Is any data retained?" against "Does your AI provider commit not to
    // retain the data we send it?".
    let against_plain_phrasing = best.phrasing >= LEANS
        && best.phrasing_answer.is_none()
        && is_negated(&best.phrasing_text) != question.negated;
    // Asked the opposite way round from the title ("Is our data used for training?" against
    // "No training on customer data"), not through a phrasing that carries its own answer.
    let opposite = (question.negated != is_negated(&control.title) || against_plain_phrasing)
        && !through_phrasing;
    // The question is about what the statement says is *not* done ("shared logins are not
    // permitted" against "Are shared logins in use?"). A `no` control's statement says what
    // is not done: that is its answer.
    let denied = control.answer == Answer::Yes && best.denied >= DENIED_SHARE && !through_phrasing;
    // The question reads more like a phrasing asked the other way round than like the
    // title, but not closely enough to take that phrasing's answer.
    let leans_opposite = best.phrasing >= LEANS
        && !reads_like_phrasing
        && best.phrasing_answer.is_some_and(|a| a != control.answer);
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
        // question gets no such turn, nor one asking about a limit ("Do you limit plugins?"
        // against "has no plugins" is a yes).
        _ if denied && question.form != Form::Open && !question.about_a_limit => Answer::No,
        _ => control.answer,
    };
    let reading = Reading {
        unanswered_part: None,
        reads_like_phrasing,
        against_phrasing,
        through_phrasing,
        opposite,
        leans_opposite,
        denied,
        turned_by_phrasing: phrasing_answer.is_some_and(|a| a != control.answer),
        company_only: false,
        flipped_despite: Vec::new(),
    };
    (reading, answer)
}

/// A match sent unread: strong, or through a framework id the record maps.
pub fn sent_unread(c: &Case) -> Reason {
    if c.best.by_framework_id {
        Reason::new(
            ReasonCode::FrameworkId,
            format!(
                "the question names {}, which the record maps to `{}`",
                c.question.framework_ids.join(", "),
                c.control.id
            ),
        )
    } else {
        Reason::new(
            ReasonCode::StrongMatch,
            format!(
                "`{}` matches with strength {:.2} (at least {:.2})",
                c.control.id,
                c.evidence.strength(),
                c.thresholds.answer
            ),
        )
    }
}

/// A match too weak to send unread, that no rule held back.
pub fn weak_match(c: &Case) -> Reason {
    Reason::new(
        ReasonCode::WeakMatch,
        format!(
            "`{}` matches with strength {:.2}, below {:.2}: read it first",
            c.control.id,
            c.evidence.strength(),
            c.bar()
        ),
    )
}
