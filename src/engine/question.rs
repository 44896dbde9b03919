//! Reading a question, once: the clause that carries its ask, the framework ids it names,
//! its units, and what kind of answer it asks for (yes/no, open, a choice of two, a form
//! label), which way round it asks, whether it follows up the row before, and the quantity
//! (frequency, time, number) it asks for. Every later stage reads these fields; none reads
//! the question's text again.
//!
//! Pure functions of the text and the analyzer: no record, no I/O.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::text::{Analyzer, Unit};

/// A question as the engine reads it.
#[derive(Debug, Clone)]
pub struct Question {
    /// As asked.
    pub text: String,
    /// The clause that carries the ask (the main clause of a compound question), with a
    /// framework id replaced by its title.
    pub clause: String,
    /// SOC 2 / ISO 27001 ids it names, upper case.
    pub framework_ids: Vec<String>,
    /// The clause's units: stems and thesaurus concepts.
    pub units: Vec<Unit>,
    /// Asked negatively ("Is any data stored unencrypted?").
    pub negated: bool,
    pub form: Form,
    /// It only makes sense after the row before it ("If so, how often?").
    pub follow_up: bool,
    /// The quantity it asks for ("How often ...?", "... every year?").
    pub quantity: Option<Quantity>,
    /// A further ask after the main clause ("Do you encrypt backups? If so, how often are
    /// keys rotated?" → "If so, how often are keys rotated?"), answered only when the
    /// statement speaks to it.
    pub second_part: Option<String>,
    /// It is about the customer's own people ("training for our staff").
    pub about_customer_people: bool,
    /// It asks about keeping something from happening ("Do you limit ...?").
    pub about_a_limit: bool,
}

/// What kind of answer a question asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Form {
    /// "Are backups encrypted?", "Standing admin rights in prod?"
    YesNo,
    /// "How ...?", "Describe ...", "In which regions ...?"
    Open,
    /// Two ways offered: "Are credits applied automatically, or do we claim them?"
    WhichOfTwo,
    /// A form field: "Solution Provider Name".
    Label,
}

impl Form {
    pub fn as_str(self) -> &'static str {
        match self {
            Form::YesNo => "yes/no",
            Form::Open => "open",
            Form::WhichOfTwo => "which of two",
            Form::Label => "label",
        }
    }
}

/// Reads `text`: `framework` maps the ids the record knows (to its controls), `titles` an
/// id to its title, which stands in for the id in the clause.
pub fn read(
    text: &str,
    analyzer: &Analyzer,
    framework: &BTreeMap<String, Vec<usize>>,
    titles: &BTreeMap<String, String>,
) -> Question {
    let (framework_ids, rest) = framework_ids(text, framework);
    let mut clause = main_clause(&rest, analyzer);
    if !framework_ids.is_empty() {
        // "Is A.8.24 implemented?" asks about the id's subject: let its title speak.
        let named: Vec<&str> = framework_ids
            .iter()
            .filter_map(|id| titles.get(id))
            .map(String::as_str)
            .collect();
        clause = format!("{} {}", strip_framework_words(&clause), named.join(". "));
    }
    let units = analyzer.question_units(&clause);
    let quantity = asked_quantity(&clause).or_else(|| {
        units
            .iter()
            .any(|u| FREQUENCY_CONCEPTS.contains(&analyzer.thesaurus.name(&u.token)))
            .then_some(Quantity::Frequency)
    });
    // The order of these tests is the order the honesty rules read them in.
    let form = if !asks_yes_or_no(&clause) {
        Form::Open
    } else if asks_which_of_two(&clause) {
        Form::WhichOfTwo
    } else if is_label(text) {
        Form::Label
    } else {
        Form::YesNo
    };
    Question {
        second_part: second_part(&rest, &clause),
        negated: analyzer.is_negated(&clause),
        follow_up: is_follow_up(text),
        about_customer_people: asks_about_customer_people(text),
        about_a_limit: asks_about_a_limit(&clause),
        text: text.to_string(),
        framework_ids,
        units,
        quantity,
        form,
        clause,
    }
}

/// Finds framework ids in the question ("CC6.1", "A.8.24", "A.9.4.2") and returns them with
/// the question text they were removed from.
pub fn framework_ids(
    question: &str,
    known: &BTreeMap<String, Vec<usize>>,
) -> (Vec<String>, String) {
    let mut ids = Vec::new();
    let mut rest: Vec<&str> = Vec::new();
    let mut previous = "";
    for word in question.split_whitespace() {
        let trimmed = word
            .trim_matches(|c: char| !c.is_alphanumeric() && c != '.')
            .trim_end_matches('.');
        let mut upper = trimmed.to_uppercase();
        // "Annex A 8.28" and "A 8.28" name A.8.28.
        if previous.eq_ignore_ascii_case("a")
            && upper.chars().next().is_some_and(|c| c.is_ascii_digit())
        {
            upper = format!("A.{upper}");
            if rest.last().is_some_and(|w| w.eq_ignore_ascii_case("a")) {
                rest.pop();
            }
        }
        previous = trimmed;
        let looks_like_id = upper.contains('.') && upper.chars().any(|c| c.is_ascii_digit());
        if looks_like_id && (known.contains_key(&upper) || is_framework_shape(&upper)) {
            if !ids.contains(&upper) {
                ids.push(upper);
            }
        } else {
            rest.push(word);
        }
    }
    (ids, rest.join(" "))
}

/// Drops the words that only name a framework ("ISO 27001", "Annex A", "SOC 2") once its id
/// has been taken out, so they do not pull towards the control about certification.
fn strip_framework_words(text: &str) -> String {
    const WORDS: &[&str] = &[
        "iso",
        "iec",
        "27001",
        "27002",
        "2013",
        "2022",
        "annex",
        "soc",
        "2",
        "tsc",
        "aicpa",
        "criterion",
        "criteria",
    ];
    text.split_whitespace()
        .filter(|w| {
            // "ISO/IEC" and "27001:2022" are framework names in one word.
            let lower = w.to_lowercase();
            let mut parts = lower
                .split(|c: char| !c.is_alphanumeric())
                .filter(|p| !p.is_empty());
            !parts.all(|p| WORDS.contains(&p))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// SOC 2 (`CC6.1`, `PI1.2`, `P4.1`) or ISO Annex A (`A.8.24`, `A.9.4.2`) id shapes.
fn is_framework_shape(id: &str) -> bool {
    let soc2 = ["CC", "PI", "A", "C", "P"].iter().any(|p| {
        id.strip_prefix(p).is_some_and(|r| {
            let mut parts = r.split('.');
            parts
                .next()
                .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
                && parts
                    .next()
                    .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
                && parts.next().is_none()
        })
    });
    let iso = id.strip_prefix("A.").is_some_and(|r| {
        let parts: Vec<&str> = r.split('.').collect();
        (2..=3).contains(&parts.len())
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
    });
    soc2 || iso
}

/// The clause that carries the ask: the first sentence or question with any content, so
/// "Do you X? If so, how often?" is decided by "Do you X?".
pub fn main_clause(question: &str, analyzer: &Analyzer) -> String {
    let mut start = 0;
    let bytes: Vec<char> = question.chars().collect();
    let mut clauses = Vec::new();
    for (i, c) in bytes.iter().enumerate() {
        let end_of_sentence = *c == '?' || (*c == '.' && ends_sentence(&bytes, i));
        if end_of_sentence {
            clauses.push(bytes[start..=i].iter().collect::<String>());
            start = i + 1;
        }
    }
    if start < bytes.len() {
        clauses.push(bytes[start..].iter().collect::<String>());
    }
    // The ask is the first question or instruction ("Describe ...") with content; a
    // questionnaire often sets it up with a statement first ("Many flaws escape scanners.
    // Do the pen tests include manual testing?"). Failing both, the first sentence with
    // content asks.
    // The cheap tests come first: analysing a clause is the costly part.
    let has_content = |c: &&String| !analyzer.question_units(c).is_empty();
    let sentence = clauses
        .iter()
        .filter(|c| c.trim_end().ends_with('?') || is_instruction(c))
        .find(has_content)
        .or_else(|| clauses.iter().find(has_content))
        .cloned()
        .unwrap_or_else(|| question.to_string());
    let head = cut_follow_up(&sentence);
    if analyzer.question_units(&head).is_empty() {
        sentence.trim().to_string()
    } else {
        head.trim().to_string()
    }
}

/// Whether a sentence is an instruction to the vendor ("Describe ...", "Please list ...").
pub fn is_instruction(sentence: &str) -> bool {
    const VERBS: &[&str] = &[
        "describe",
        "explain",
        "list",
        "provide",
        "please",
        "indicate",
        "identify",
        "state",
        "specify",
        "detail",
        "outline",
        "summarize",
        "summarise",
    ];
    let first = sentence
        .split(|c: char| !c.is_alphanumeric())
        .find(|w| !w.is_empty())
        .unwrap_or("");
    VERBS.contains(&first.to_lowercase().as_str())
}

/// Whether the full stop at `i` ends a sentence: it is followed by the end or by space and a
/// capital or digit, and does not close an abbreviation that never ends one ("UAR scope
/// incl. GitHub", "tools, e.g. Okta").
fn ends_sentence(chars: &[char], i: usize) -> bool {
    const ABBREVIATIONS: &[&str] = &[
        "incl", "e.g", "i.e", "eg", "ie", "vs", "approx", "cf", "esp",
    ];
    let Some(next) = chars.get(i + 1) else {
        return true;
    };
    if !next.is_whitespace() {
        return false;
    }
    let start = chars[..i]
        .iter()
        .rposition(|c| !(c.is_alphanumeric() || *c == '.'))
        .map_or(0, |p| p + 1);
    let word: String = chars[start..i].iter().collect();
    if ABBREVIATIONS.contains(&word.to_lowercase().as_str()) {
        return false;
    }
    chars[i + 1..]
        .iter()
        .find(|c| !c.is_whitespace())
        .is_none_or(|c| c.is_uppercase() || c.is_ascii_digit() || !c.is_alphabetic())
}

/// Where a sentence turns from its ask to a follow-up ("..., and how often?", "if so, ...")
/// or to an aside ("for example ...", "so that ...", "such as ..."), the ask is what comes
/// before. An aside that closes before the sentence goes on is only left out: "backups
/// stored on removable media (e.g., disks, tapes) encrypted?" still asks "encrypted", and
/// "exceptions, including emergencies, in the change process" still asks about changes.
/// What `text` asks beyond its main `clause`: the question or instruction after it ("If so,
/// how often ...?", "Please describe ..."), or a follow-up cut from its own sentence (",
/// and how often ..."). `None` when it asks nothing more.
pub fn second_part(text: &str, clause: &str) -> Option<String> {
    let text = text.trim();
    let clause = clause.trim();
    let rest = match text.find(clause) {
        Some(at) => {
            let after = text[at + clause.len()..].trim();
            // A follow-up cut from the clause's own sentence comes first.
            let sentence_end = after.find(['?', '.']).map_or(after.len(), |i| i + 1);
            let cut = after[..sentence_end].trim();
            if cut.len() > 3 && asks_more(cut) {
                cut.to_string()
            } else {
                after[sentence_end..].trim().to_string()
            }
        }
        None => return None,
    };
    let rest = rest.trim_start_matches([',', ';', ' ']).trim();
    (rest.split_whitespace().count() >= 2 && asks_more(rest)).then(|| rest.to_string())
}

/// Whether a piece of a question asks something: a question, or an instruction.
fn asks_more(piece: &str) -> bool {
    let lower = piece.trim().to_lowercase();
    let lower = lower
        .trim_start_matches(|c: char| !c.is_alphanumeric())
        .trim_start_matches("and ");
    piece.contains('?')
        || is_instruction(lower)
        || ["if so", "if yes", "if not", "if no", "please "]
            .iter()
            .any(|m| lower.starts_with(m))
}

fn cut_follow_up(sentence: &str) -> String {
    const MARKERS: &[&str] = &[
        ", and how",
        ", and what",
        ", and who",
        ", and when",
        ", and where",
        ", and which",
        ", and is ",
        ", and are ",
        ", and do ",
        ", and does ",
        ", and were ",
        ", and was ",
        ", and if ",
        " and if so",
        ", if so",
        " if so,",
        "; if so",
        ", so that",
        " so that ",
        ", for example",
        " for example",
        " e.g.",
        " (e.g",
        " (for example",
        " (such as",
        " (including",
        " (incl",
        ", including",
        ", such as",
        " and, if so",
    ];
    let mut text = sentence.to_string();
    loop {
        // ASCII lowercasing keeps every byte offset, so positions found in `lower` cut `text`.
        let lower = text.to_ascii_lowercase();
        let Some((at, marker)) = MARKERS
            .iter()
            .filter_map(|m| lower.find(m).map(|at| (at, *m)))
            .min()
        else {
            return text;
        };
        match aside_end(&lower, at, marker) {
            Some(end) => text.replace_range(at..end, ""),
            None => {
                text.truncate(at);
                return text;
            }
        }
    }
}

/// Where the aside that `marker` opens at `at` closes, when the sentence's ask goes on after
/// it: at its closing bracket, or at a comma followed by a preposition that carries the
/// sentence on ("including emergencies, in the change process"). `None` for a follow-up, or
/// an aside that runs to the end (a list: "such as SIEM, DLP and EDR").
fn aside_end(lower: &str, at: usize, marker: &str) -> Option<usize> {
    const CARRY_ON: &[&str] = &[
        "in", "for", "on", "at", "to", "within", "across", "during", "from", "by", "with", "of",
        "into", "under", "before", "after", "through",
    ];
    let after = at + marker.len();
    if marker.starts_with(" (") {
        return lower[after..].find(')').map(|close| after + close + 1);
    }
    if !matches!(
        marker,
        ", including" | ", such as" | ", for example" | " for example" | " e.g."
    ) {
        return None;
    }
    let comma = after + lower[after..].find(", ")?;
    let next = lower[comma + 2..]
        .split(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or("");
    CARRY_ON.contains(&next).then_some(comma)
}

/// The kind of quantity a question asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Quantity {
    Frequency,
    Time,
    Number,
}

impl Quantity {
    pub fn what(self) -> &'static str {
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

/// The frequency `text` names first, in days between times, snapped to the usual ones:
/// "quarterly", "every three months" and "every 90 days" are 90, "once per month" 30,
/// "every 12 months" 365. `None` when it names none, or
/// only a relative one ("more often", "never").
pub fn period_days(text: &str) -> Option<u32> {
    let words = lower_words(text);
    let unit_days = |w: &str| match w.trim_end_matches('s') {
        "hour" => Some(0),
        "day" | "night" => Some(1),
        "week" => Some(7),
        "fortnight" => Some(14),
        "month" => Some(30),
        "quarter" => Some(90),
        "year" => Some(365),
        _ => None,
    };
    let snap = |days: u32| {
        [0, 1, 7, 14, 30, 60, 90, 182, 365]
            .into_iter()
            .find(|&usual: &u32| days.abs_diff(usual) <= usual / 12)
            .unwrap_or(days)
    };
    let count = |w: &str| -> Option<u32> {
        match w {
            "a" | "an" | "one" | "each" | "every" | "per" | "once" => Some(1),
            "two" | "couple" | "other" => Some(2),
            "three" => Some(3),
            "four" => Some(4),
            "six" => Some(6),
            "twelve" => Some(12),
            _ => w.parse().ok(),
        }
    };
    for (i, word) in words.iter().enumerate() {
        let named = match word.as_str() {
            "hourly" | "continuous" | "continuously" | "realtime" => Some(0),
            "daily" | "nightly" => Some(1),
            "weekly" => Some(7),
            "fortnightly" | "biweekly" => Some(14),
            "monthly" => Some(30),
            "bimonthly" => Some(60),
            "quarterly" => Some(90),
            "biannual" | "biannually" | "semiannual" | "semiannually" => Some(182),
            "annual" | "annually" | "yearly" => Some(365),
            _ => None,
        };
        if named.is_some() {
            return named;
        }
        // "every year", "once a month", "every 90 days", "every couple of months", "twice a
        // year", "per quarter".
        let lead = matches!(word.as_str(), "every" | "each" | "per" | "once" | "twice");
        if !lead {
            continue;
        }
        let rest: Vec<&str> = words[i + 1..]
            .iter()
            .map(String::as_str)
            .filter(|w| !matches!(*w, "a" | "an" | "of" | "the" | "per"))
            .take(2)
            .collect();
        let per_time = if word == "twice" { 2 } else { 1 };
        let days = match rest.as_slice() {
            [unit, ..] if unit_days(unit).is_some() => unit_days(unit),
            [n, unit, ..] => match (count(n), unit_days(unit)) {
                (Some(n), Some(days)) => Some(n * days),
                _ => None,
            },
            _ => None,
        };
        if let Some(days) = days {
            return Some(snap(days / per_time));
        }
    }
    None
}

/// The words of `text`, lowercased: runs of letters and digits.
fn lower_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// The quantity a question's main clause asks for, if it asks for one.
pub fn asked_quantity(clause: &str) -> Option<Quantity> {
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
pub fn states_quantity(text: &str, asked: Quantity) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compound_questions_keep_the_main_clause() {
        let analyzer = Analyzer::new(&[]);
        for (question, clause) in [
            (
                "Do you encrypt backups? If so, how often are keys rotated?",
                "Do you encrypt backups?",
            ),
            (
                "Please describe. Do you run pen tests?",
                "Do you run pen tests?",
            ),
            ("Backups encrypted", "Backups encrypted"),
            // An abbreviation's full stop, or one before a lowercase word, ends nothing.
            (
                "UAR scope incl. GitHub + prod DBs?",
                "UAR scope incl. GitHub + prod DBs?",
            ),
            (
                "SSO vs. local passwords for admins?",
                "SSO vs. local passwords for admins?",
            ),
            (
                "Backups are encrypted. Describe how.",
                "Backups are encrypted.",
            ),
            // The question, not the statement that sets it up; without one, the instruction.
            (
                "Scanners miss many flaws. Do the pen tests include manual testing?",
                "Do the pen tests include manual testing?",
            ),
            (
                "Cryptography matters to us. Describe your key management.",
                "Describe your key management.",
            ),
            // An aside that closes is left out, and the ask after it kept.
            (
                "Are backups on removable media (e.g., disks, tapes, etc.) encrypted?",
                "Are backups on removable media encrypted?",
            ),
            (
                "Is a procedure implemented to manage exceptions, including emergencies, in the change process?",
                "Is a procedure implemented to manage exceptions, in the change process?",
            ),
            // One that runs to the end is cut, as is a follow-up.
            (
                "Do you use security tools, such as SIEM, DLP and EDR?",
                "Do you use security tools",
            ),
            (
                "Do you have a DR plan (e.g. for region loss, and how often is it tested?",
                "Do you have a DR plan",
            ),
        ] {
            assert_eq!(main_clause(question, &analyzer), clause);
        }
    }

    #[test]
    fn framework_ids_are_found_and_removed() {
        let known = BTreeMap::new();
        let (ids, rest) = framework_ids("Describe how you meet CC6.1 and A.8.24.", &known);
        assert_eq!(ids, vec!["CC6.1", "A.8.24"]);
        assert_eq!(rest, "Describe how you meet and");
        let (ids, _) = framework_ids("Is A.9.4.2 (secure log-on) in place?", &known);
        assert_eq!(ids, vec!["A.9.4.2"]);
        let (ids, _) = framework_ids("We use TLS 1.2 or higher", &known);
        assert!(ids.is_empty());
    }

    #[test]
    fn framework_names_are_dropped_with_the_id_also_when_written_as_one_word() {
        assert_eq!(
            strip_framework_words("ISO/IEC 27001:2022 - status of logging?"),
            "status of logging?"
        );
        assert_eq!(strip_framework_words("SOC 2 TSC criteria"), "");
    }

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
    fn frequencies_read_as_days() {
        let days = |t: &str| period_days(t);
        assert_eq!(days("Reviewed quarterly by the CISO"), Some(90));
        assert_eq!(days("every 12 months"), Some(365));
        assert_eq!(days("every three months"), Some(90));
        assert_eq!(days("Once per month"), Some(30));
        assert_eq!(days("Every couple of months"), Some(60));
        assert_eq!(days("every 90 days"), Some(90));
        assert_eq!(days("twice a year"), Some(182));
        assert_eq!(days("once a year, by an outside firm"), Some(365));
        assert_eq!(days("Backups run every night"), Some(1));
        assert_eq!(days("More often"), None);
        assert_eq!(days("Never"), None);
        assert_eq!(days("on every release"), None);
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
