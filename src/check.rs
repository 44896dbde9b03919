//! `check`: everything wrong with a record, as sorted diagnostics.
//!
//! Loading (`record`) reports what makes the record unusable (errors); this module adds what
//! makes it untrustworthy (warnings): stale reviews, unmapped controls, unused CUEC rows,
//! overlapping questions (errors where a person decided them: `learn`), known gaps that are
//! also phrasings, provider-owned controls that name no provider; and the record's
//! own `thesaurus.txt`, whose problems stop every answering command (errors).

use std::collections::{BTreeMap, HashMap};

use crate::catalog;
use crate::diag::{self, Diagnostic, Severity};
use crate::record::THESAURUS_TXT as RECORD_THESAURUS;
use crate::record::{
    Answer, CONTROLS_CSV, CUEC_CSV, Date, Loaded, NOT_ON_RECORD_TOML, Owner, Record, Stated,
};
use crate::text::record_analyzer;

pub struct CheckOptions {
    pub today: Date,
    pub max_age_days: i64,
}

pub struct CheckReport {
    pub diagnostics: Vec<Diagnostic>,
}

impl CheckReport {
    pub fn count(&self, severity: Severity) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == severity)
            .count()
    }
}

pub fn check(loaded: &Loaded, options: &CheckOptions) -> CheckReport {
    let mut diagnostics = loaded.diagnostics.clone();
    let record = &loaded.record;
    stale_reviews(record, options, &mut diagnostics);
    unmapped_controls(record, &mut diagnostics);
    unused_cuecs(record, &mut diagnostics);
    overlapping_questions(record, &mut diagnostics);
    unnamed_providers(record, &mut diagnostics);
    thesaurus_problems(record, &mut diagnostics);
    diag::sort(&mut diagnostics);
    CheckReport { diagnostics }
}

/// The record's own thesaurus file, read the way every answering command reads it: a problem
/// there stops `ask` and `fill`, so it is an error here.
fn thesaurus_problems(record: &Record, out: &mut Vec<Diagnostic>) {
    let Some(text) = &record.thesaurus else {
        return;
    };
    for (line, message) in record_analyzer(text).err().unwrap_or_default() {
        out.push(
            Diagnostic::error(RECORD_THESAURUS, line, message).with_hint(Some(
                "a line is `term | term | ...` (equivalents) or `broader > term | ...` (kinds)"
                    .into(),
            )),
        );
    }
}

/// Days since the control was reviewed, when it is older than allowed.
pub fn stale_age(reviewed: Option<Date>, options: &CheckOptions) -> Option<i64> {
    let age = options.today.0 - reviewed?.0;
    (age > options.max_age_days).then_some(age)
}

fn stale_reviews(record: &Record, options: &CheckOptions, out: &mut Vec<Diagnostic>) {
    for control in &record.controls {
        let at = &control.source;
        match control.reviewed {
            None => out.push(
                Diagnostic::warning(
                    &at.path,
                    at.line,
                    format!("control `{}` has no `reviewed` date", control.id),
                )
                .with_hint(Some(
                    "add `reviewed = YYYY-MM-DD` when the owner last confirmed it".into(),
                )),
            ),
            Some(date) => {
                if let Some(age) = stale_age(Some(date), options) {
                    let line = control.reviewed_line.unwrap_or(at.line);
                    out.push(
                        Diagnostic::warning(
                            &at.path,
                            line,
                            format!(
                                "control `{}` was last reviewed {age} days ago (more than {})",
                                control.id, options.max_age_days
                            ),
                        )
                        .with_hint(Some(
                            "confirm the statement with its owner and update `reviewed`".into(),
                        )),
                    );
                }
            }
        }
    }
}

fn unmapped_controls(record: &Record, out: &mut Vec<Diagnostic>) {
    for control in &record.controls {
        if record.mapping(&control.id).is_none_or(|m| m.is_empty()) {
            let at = &control.source;
            out.push(
                Diagnostic::warning(
                    &at.path,
                    at.line,
                    format!("control `{}` is not mapped to any framework", control.id),
                )
                .with_hint(Some(format!("add a row for it to {CONTROLS_CSV}"))),
            );
        }
    }
}

fn unused_cuecs(record: &Record, out: &mut Vec<Diagnostic>) {
    let Some(cuec) = record.catalog(catalog::CUEC) else {
        return;
    };
    let lines = cuec_lines(record);
    for (index, entry) in cuec.entries.iter().enumerate() {
        if !record.cuecs_mentioned.contains(&entry.id) {
            // Rows are kept in file order after the header; the line is found again by id.
            let line = lines.find(&entry.id).unwrap_or(index + 2);
            out.push(
                Diagnostic::warning(
                    CUEC_CSV,
                    line,
                    format!("CUEC `{}` is not referenced by any control", entry.id),
                )
                .with_hint(Some(format!(
                    "reference it in the cuec column of {CONTROLS_CSV}, or remove it"
                ))),
            );
        }
    }
}

/// The lines of `cuec.csv`, with the first line of each leading field, so each unused row's
/// line is found without scanning the file again.
struct CuecLines<'a> {
    lines: Vec<&'a str>,
    first: HashMap<&'a str, usize>,
}

impl CuecLines<'_> {
    /// 1-based line of the first line starting `{id},`.
    fn find(&self, id: &str) -> Option<usize> {
        if id.contains(',') {
            // Not the first field as split here: look for the whole prefix.
            let prefix = format!("{id},");
            return self
                .lines
                .iter()
                .position(|l| l.trim_start().starts_with(&prefix))
                .map(|i| i + 1);
        }
        self.first.get(id).copied()
    }
}

fn cuec_lines(record: &Record) -> CuecLines<'_> {
    let text = record
        .files
        .iter()
        .find(|(path, _)| path == CUEC_CSV)
        .map_or("", |(_, text)| text.as_str());
    let lines: Vec<&str> = text.lines().collect();
    let mut first = HashMap::new();
    for (i, line) in lines.iter().enumerate() {
        if let Some((field, _)) = line.trim_start().split_once(',') {
            first.entry(field).or_insert(i + 1);
        }
    }
    CuecLines { lines, first }
}

/// A question is one control's: a phrasing on two controls is a warning, and an error when a
/// person decided either (`learn`), since the engine answers a learned question from it
/// alone. A known gap that is also a phrasing is an error, one listed twice a warning; a
/// learned `yes` needs a control whose answer is `yes`.
fn overlapping_questions(record: &Record, out: &mut Vec<Diagnostic>) {
    let mut first: BTreeMap<String, Stated> = BTreeMap::new();
    for (key, stated) in record.stated_questions() {
        match stated {
            Stated::Phrasing(control, phrasing) => {
                if phrasing.learned.is_some()
                    && phrasing.answer == Some(Answer::Yes)
                    && control.answer != Answer::Yes
                {
                    out.push(
                        Diagnostic::error(
                            &control.source.path,
                            phrasing.line,
                            format!(
                                "question \"{}\" is learned with the answer yes, but `{}`'s answer is {}",
                                phrasing.text, control.id, control.answer
                            ),
                        )
                        .with_hint(Some(
                            "a yes must cite a control whose answer is yes: learn it for such a control, or remove it"
                                .into(),
                        )),
                    );
                }
            }
            Stated::Gap(gap) => {
                if let Some(id) = &gap.mistaken_for
                    && record.control(id).is_none()
                {
                    out.push(
                        Diagnostic::warning(
                            NOT_ON_RECORD_TOML,
                            gap.line,
                            format!(
                                "`mistaken_for` names `{id}`, which is not a control of the record"
                            ),
                        )
                        .with_hint(Some("fix the id, or remove `mistaken_for`".into())),
                    );
                }
            }
        }
        let Some(earlier) = first.get(&key) else {
            first.insert(key, stated);
            continue;
        };
        let found = match (earlier, stated) {
            (Stated::Phrasing(a, _), Stated::Phrasing(b, _)) if a.id == b.id => continue,
            (Stated::Phrasing(a, p), Stated::Phrasing(b, q)) => {
                let message = format!(
                    "question \"{}\" of `{}` is also a question of `{}` ({})",
                    q.text,
                    b.id,
                    a.id,
                    earlier.place()
                );
                if p.learned.is_some() || q.learned.is_some() {
                    Diagnostic::error(&b.source.path, q.line, message).with_hint(Some(
                        "a question a person decided answers one control: remove it from the other"
                            .into(),
                    ))
                } else {
                    Diagnostic::warning(&b.source.path, q.line, message).with_hint(Some(
                        "keep each phrasing on the one control that answers it".into(),
                    ))
                }
            }
            (Stated::Phrasing(a, _), Stated::Gap(gap)) => Diagnostic::error(
                NOT_ON_RECORD_TOML,
                gap.line,
                format!(
                    "question \"{}\" is decided not on the record, but is a question of `{}` ({})",
                    gap.text,
                    a.id,
                    earlier.place()
                ),
            )
            .with_hint(Some(
                "keep the decision that is right: remove this entry or the phrasing".into(),
            )),
            (Stated::Gap(g), Stated::Gap(gap)) => Diagnostic::warning(
                NOT_ON_RECORD_TOML,
                gap.line,
                format!(
                    "question \"{}\" is already listed at line {}",
                    gap.text, g.line
                ),
            )
            .with_hint(Some("remove one of the two".into())),
            // Gaps come after every phrasing.
            (Stated::Gap(_), Stated::Phrasing(..)) => continue,
        };
        out.push(found);
    }
}

fn unnamed_providers(record: &Record, out: &mut Vec<Diagnostic>) {
    for control in &record.controls {
        if matches!(control.owner, Owner::Provider | Owner::Shared) && control.providers.is_empty()
        {
            let at = &control.source;
            out.push(
                Diagnostic::warning(
                    &at.path,
                    at.line,
                    format!(
                        "control `{}` is operated by a provider but names none",
                        control.id
                    ),
                )
                .with_hint(Some("add `provider = \"...\"`".into())),
            );
        }
    }
}
