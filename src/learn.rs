//! `learn`: the decisions of a review workbook written into the record.
//!
//! An accepted or chosen control gets the question as a learned phrasing in its knowledge
//! file (`{ q = "...", learned = DATE }`, with `answer` when it differs from the control's);
//! a rejected question becomes a known gap in `not-on-record.toml`. The files are edited with
//! toml_edit, so their comments, layout and order stay as they were; new entries go after
//! the existing ones, in the workbook's order. A decision the record already holds changes
//! nothing, so learning the same workbook twice is the same as once. A decision that
//! contradicts the record or another row is an error naming both, and nothing is written.
//!
//! This module computes the new file texts; `outputs` writes them.

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use toml_edit::{Array, ArrayOfTables, DocumentMut, InlineTable, Item, Table, Value};

use crate::diag::Suggester;
use crate::record::{Answer, Date, NOT_ON_RECORD_TOML, Record, Stated, question_key};
use crate::review::{Choice, Decided};

/// One record file as it is and as it will be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    /// Relative to the record root.
    pub path: String,
    /// Empty for a new file.
    pub before: String,
    pub after: String,
}

/// What `learn` will do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Learning {
    pub changes: Vec<FileChange>,
    /// Questions added as learned phrasings.
    pub phrasings: usize,
    /// Questions added as known gaps.
    pub gaps: usize,
    /// Decisions the record already holds.
    pub known: usize,
}

/// Where a decision puts its question.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Phrasing { control: String, answer: Answer },
    Gap { mistaken_for: Option<String> },
}

impl Target {
    /// The same decision: a gap is one whatever control it was mistaken for.
    fn same(&self, other: &Target) -> bool {
        match (self, other) {
            (Target::Gap { .. }, Target::Gap { .. }) => true,
            _ => self == other,
        }
    }

    fn describe(&self) -> String {
        match self {
            Target::Phrasing { control, answer } => format!("`{control}` ({answer})"),
            Target::Gap { .. } => "not on the record".into(),
        }
    }
}

/// What the record already says about a question.
struct Known {
    target: Target,
    place: String,
}

/// The file changes that write `decided` into `record`, dated `today`.
pub fn plan(record: &Record, decided: &[Decided], today: Date) -> Result<Learning> {
    let mut problems = Vec::new();
    // Each question once, in workbook order, with where it was decided.
    let mut wanted: Vec<(String, &Decided, Target)> = Vec::new();
    let ids = Suggester::new(record.controls.iter().map(|c| c.id.as_str()));
    for decision in decided {
        let target = match target(record, decision, &ids) {
            Ok(target) => target,
            Err(why) => {
                problems.push(format!("{}: {why}", decision.place));
                continue;
            }
        };
        let key = question_key(&decision.question);
        match wanted.iter().find(|(k, ..)| *k == key) {
            Some((_, first, earlier)) if !earlier.same(&target) => problems.push(format!(
                "{}: decided as {}, but {} decided the same question as {}",
                decision.place,
                target.describe(),
                first.place,
                earlier.describe()
            )),
            Some(_) => {}
            None => wanted.push((key, decision, target)),
        }
    }
    let known = known(record);
    let mut learning = Learning::default();
    let mut phrasings: Vec<(&Decided, String, Answer)> = Vec::new();
    let mut gaps: Vec<(&Decided, Option<String>)> = Vec::new();
    for (key, decision, target) in wanted {
        match known.get(&key) {
            Some(k) if k.target.same(&target) => learning.known += 1,
            Some(k) => problems.push(format!(
                "{}: decided as {}, but the record has it as {} ({}); remove that entry first to change it",
                decision.place,
                target.describe(),
                k.target.describe(),
                k.place
            )),
            None => match target {
                Target::Phrasing { control, answer } => phrasings.push((decision, control, answer)),
                Target::Gap { mistaken_for } => gaps.push((decision, mistaken_for)),
            },
        }
    }
    if !problems.is_empty() {
        bail!(
            "{} decision(s) cannot be learned; nothing was written:\n  {}",
            problems.len(),
            problems.join("\n  ")
        );
    }
    learning.phrasings = phrasings.len();
    learning.gaps = gaps.len();
    learning.changes = add_phrasings(record, &phrasings, today)?;
    if !gaps.is_empty() {
        learning.changes.push(add_gaps(record, &gaps, today)?);
    }
    learning.changes.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(learning)
}

/// Where `decision` puts its question, or why it cannot.
fn target(record: &Record, decision: &Decided, ids: &Suggester) -> Result<Target, String> {
    let (id, answer) = match &decision.choice {
        Choice::Reject => {
            return Ok(Target::Gap {
                mistaken_for: decision.proposed.clone(),
            });
        }
        Choice::Accept => (
            decision.proposed.clone().unwrap_or_default(),
            decision.proposed_answer,
        ),
        Choice::Control(id, answer) => (id.clone(), *answer),
    };
    let Some(control) = record.control(&id) else {
        let hint = ids
            .suggest(&id)
            .map(|s| format!("; {s}"))
            .unwrap_or_default();
        return Err(format!("`{id}` is not a control of the record{hint}"));
    };
    let answer = answer.unwrap_or(control.answer);
    if answer == Answer::Yes && control.answer != Answer::Yes {
        return Err(format!(
            "a yes must cite a control whose answer is yes, and `{id}`'s is {}; add a control that states it, or decide `reject`",
            control.answer
        ));
    }
    Ok(Target::Phrasing {
        control: control.id.clone(),
        answer,
    })
}

/// Every question the record decides already: phrasings (authored or learned) and gaps.
fn known(record: &Record) -> BTreeMap<String, Known> {
    let mut known = BTreeMap::new();
    for (key, stated) in record.stated_questions() {
        let target = match stated {
            Stated::Phrasing(control, phrasing) => Target::Phrasing {
                control: control.id.clone(),
                answer: phrasing.answer.unwrap_or(control.answer),
            },
            Stated::Gap(gap) => Target::Gap {
                mistaken_for: gap.mistaken_for.clone(),
            },
        };
        known.entry(key).or_insert(Known {
            target,
            place: stated.place(),
        });
    }
    known
}

/// The knowledge files with the new phrasings appended to their controls' `questions`.
fn add_phrasings(
    record: &Record,
    phrasings: &[(&Decided, String, Answer)],
    today: Date,
) -> Result<Vec<FileChange>> {
    let mut by_file: BTreeMap<&str, Vec<(&str, &str, Answer)>> = BTreeMap::new();
    for (decision, id, answer) in phrasings {
        if let Some(control) = record.control(id) {
            by_file.entry(&control.source.path).or_default().push((
                id,
                decision.question.trim(),
                *answer,
            ));
        }
    }
    let mut changes = Vec::new();
    for (path, entries) in by_file {
        let before = file_text(record, path);
        let mut doc: DocumentMut = before
            .parse()
            .map_err(|e| anyhow::anyhow!("{path}: could not be edited: {e}"))?;
        for (id, question, answer) in entries {
            let Some(table) = control_table(&mut doc, id) else {
                bail!("{path}: control `{id}` is not a [[control]] table the editor can reach");
            };
            let own = record.control(id).map(|c| c.answer);
            append_phrasing(
                table,
                question,
                (own != Some(answer)).then_some(answer),
                today,
            )?;
        }
        changes.push(FileChange {
            path: path.to_string(),
            after: doc.to_string(),
            before,
        });
    }
    Ok(changes)
}

fn file_text(record: &Record, path: &str) -> String {
    record
        .files
        .iter()
        .find(|(p, _)| p == path)
        .map(|(_, text)| text.clone())
        .unwrap_or_default()
}

/// The `[[control]]` table whose `id` is `id`.
fn control_table<'a>(doc: &'a mut DocumentMut, id: &str) -> Option<&'a mut Table> {
    doc.get_mut("control")?
        .as_array_of_tables_mut()?
        .iter_mut()
        .find(|t| t.get("id").and_then(Item::as_str) == Some(id))
}

fn date_value(date: Date) -> Result<Value> {
    let text = date.to_string();
    let datetime: toml_edit::Datetime = text
        .parse()
        .map_err(|e| anyhow::anyhow!("date {text}: {e}"))?;
    Ok(Value::from(datetime))
}

/// `{ q = "...", answer = "no", learned = DATE }` appended to the table's `questions`, one
/// entry per line.
fn append_phrasing(
    table: &mut Table,
    question: &str,
    answer: Option<Answer>,
    today: Date,
) -> Result<()> {
    let mut entry = InlineTable::new();
    entry.insert("q", Value::from(question));
    if let Some(answer) = answer {
        entry.insert("answer", Value::from(answer.as_str()));
    }
    entry.insert("learned", date_value(today)?);
    if !table.contains_key("questions") {
        table.insert("questions", toml_edit::value(Array::new()));
    }
    let Some(array) = table.get_mut("questions").and_then(Item::as_array_mut) else {
        bail!("`questions` is not a list");
    };
    // One entry per line: a list written on one line is opened up first.
    for value in array.iter_mut() {
        value.decor_mut().set_prefix("\n  ");
        value.decor_mut().set_suffix("");
    }
    array.push_formatted(Value::InlineTable(entry).decorated("\n  ", ""));
    array.set_trailing_comma(true);
    array.set_trailing("\n");
    Ok(())
}

/// What a new `not-on-record.toml` starts with.
const NEW_GAPS_FILE: &str = "# Questions people decided the record does not answer, written by `onrecord learn`.\n\
# A question asked again (the same after case, punctuation and filler words) is answered\n\
# `not on the record` with reason `known_gap`. Remove an entry to undo the decision.\n\n";

/// `not-on-record.toml` with the new gaps appended (created with a header comment when the
/// record has none).
fn add_gaps(
    record: &Record,
    gaps: &[(&Decided, Option<String>)],
    today: Date,
) -> Result<FileChange> {
    let path = record.root.join(NOT_ON_RECORD_TOML);
    let before = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => bail!("could not read `{}`: {e}", path.display()),
    };
    let new_file = before.trim().is_empty();
    let mut doc: DocumentMut = before
        .parse()
        .map_err(|e| anyhow::anyhow!("{NOT_ON_RECORD_TOML}: could not be edited: {e}"))?;
    if !doc.contains_key("question") {
        doc.insert("question", Item::ArrayOfTables(ArrayOfTables::new()));
    }
    let Some(list) = doc
        .get_mut("question")
        .and_then(Item::as_array_of_tables_mut)
    else {
        bail!("{NOT_ON_RECORD_TOML}: `question` is not a list of [[question]] tables");
    };
    for (i, (decision, mistaken_for)) in gaps.iter().enumerate() {
        let mut table = Table::new();
        table.insert("q", toml_edit::value(decision.question.trim()));
        if let Some(id) = mistaken_for {
            table.insert("mistaken_for", toml_edit::value(id.as_str()));
        }
        table.insert("decided", Item::Value(date_value(today)?));
        let prefix = if new_file && i == 0 {
            NEW_GAPS_FILE
        } else {
            "\n"
        };
        table.decor_mut().set_prefix(prefix);
        list.push(table);
    }
    Ok(FileChange {
        path: NOT_ON_RECORD_TOML.to_string(),
        after: doc.to_string(),
        before,
    })
}
