//! Coverage gates for CI: the reports of many questionnaires, their total, the rows that cite
//! a stale record, and the regressions against a baseline (an earlier coverage JSON).
//!
//! A regression is a row the baseline had `answered` that is now `not_on_record` or answers
//! differently (yes → no, ...). Rows the baseline had in `review` are not protected: they
//! were never sent unread. A row moving from answered to review with the same answer is not a
//! regression either (it still counts as covered; `--fail-stale` gates on stale citations).
//! Baseline rows are matched by file name, then sheet and row when the question there is the
//! same, else by the normalized question text anywhere in the file; a question no longer in
//! the questionnaire, or a file not given this run, is skipped.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::engine::{Engine, Status};
use crate::fill::Input;
use crate::limits::Limits;
use crate::questionnaire::Overrides;
use crate::record::Answer;
use crate::record::question_key;
use crate::report::{Report, Row, Summary, summarize};

/// What `coverage --format json` prints and `--write-baseline` writes. Keys are stable.
#[derive(Debug, Serialize)]
pub struct Coverage {
    pub files: Vec<Report>,
    pub total: Summary,
    pub regressions: Vec<Regression>,
    pub stale: Vec<StaleRow>,
}

impl Coverage {
    /// The total of `files`; regressions and stale rows are added by the caller's gates.
    pub fn new(files: Vec<Report>) -> Coverage {
        let total = summarize(files.iter().flat_map(|f| &f.rows));
        Coverage {
            files,
            total,
            regressions: Vec::new(),
            stale: Vec::new(),
        }
    }
}

/// Reads and detects every file, on all cores; the first unreadable one (in `paths` order) is
/// the error.
pub fn open_all(paths: &[PathBuf], overrides: &Overrides, limits: &Limits) -> Result<Vec<Input>> {
    in_parallel(paths, |path| Input::open(path, overrides, limits))
}

/// Answers every question of every input with one engine, on all cores; reports in input
/// order, each the same as [`Input::answer_all`] gives alone. `each` is called per question.
pub fn answer_all(
    engine: &Engine,
    inputs: &[Input],
    each: impl Fn() + Sync,
) -> Result<Vec<Report>> {
    in_parallel(inputs, |input| input.answer_all(engine, &each))
}

/// `f` over `items` on up to as many threads as there are cores, results in `items` order.
fn in_parallel<T: Sync, R: Send>(
    items: &[T],
    f: impl Fn(&T) -> Result<R> + Sync,
) -> Result<Vec<R>> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(items.len());
    if threads <= 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let done = Mutex::new(Vec::with_capacity(items.len()));
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let result = f(item);
                    done.lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push((i, result));
                }
            });
        }
    });
    let mut done = done.into_inner().unwrap_or_else(|e| e.into_inner());
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

/// A question in one questionnaire, as a user finds it: file as given, sheet, 1-based row.
#[derive(Debug, Clone, Serialize)]
pub struct At {
    pub file: String,
    pub sheet: String,
    pub row: u32,
    pub question: String,
}

impl At {
    fn of(file: &str, row: &Row) -> At {
        At {
            file: file.to_string(),
            sheet: row.sheet.clone(),
            row: row.row,
            question: row.question.clone(),
        }
    }
}

/// A status and the answer that came with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    pub status: Status,
    pub answer: Option<Answer>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Regression {
    #[serde(flatten)]
    pub at: At,
    pub was: Claim,
    pub now: Claim,
}

#[derive(Debug, Clone, Serialize)]
pub struct StaleRow {
    #[serde(flatten)]
    pub at: At,
    pub status: Status,
    /// The cited controls whose review is too old (or missing).
    pub controls: Vec<String>,
}

/// Rows (answered or review) citing a control the engine's staleness rule finds stale.
pub fn stale_rows(engine: &Engine, files: &[Report]) -> Vec<StaleRow> {
    files
        .iter()
        .flat_map(|f| f.rows.iter().map(move |r| (f, r)))
        .filter_map(|(f, row)| {
            let controls = engine.stale_controls(&row.citations);
            (!controls.is_empty()).then(|| StaleRow {
                at: At::of(&f.questionnaire, row),
                status: row.status,
                controls,
            })
        })
        .collect()
}

/// A baseline as read back: only what regressions compare.
#[derive(Debug, Deserialize)]
pub struct Baseline {
    pub files: Vec<BaselineFile>,
}

#[derive(Debug, Deserialize)]
pub struct BaselineFile {
    pub questionnaire: String,
    pub rows: Vec<BaselineRow>,
}

#[derive(Debug, Deserialize)]
pub struct BaselineRow {
    pub sheet: String,
    pub row: u32,
    pub question: String,
    pub status: Status,
    pub answer: Option<Answer>,
}

/// Reads a baseline written by `coverage --write-baseline`; errors name the file. It is read
/// only when it is a regular file within `input_bytes` (a FIFO would block, a device never end).
pub fn read_baseline(path: &Path, limits: &Limits) -> Result<Baseline> {
    let shown = path.display();
    let meta =
        std::fs::metadata(path).with_context(|| format!("could not read baseline `{shown}`"))?;
    if !meta.is_file() {
        anyhow::bail!("baseline `{shown}` is not a regular file; give the baseline's JSON file");
    }
    limits
        .check("input_bytes", meta.len())
        .with_context(|| format!("baseline `{shown}` is {} bytes", meta.len()))?;
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("could not read baseline `{shown}`"))?;
    serde_json::from_str(&text).with_context(|| {
        format!(
            "`{}` is not a coverage baseline (write one with `onrecord coverage --write-baseline`)",
            path.display()
        )
    })
}

/// The baseline's answered rows that are now not on the record or answered differently, in
/// the order of `files`, then of the baseline's rows.
pub fn regressions(baseline: &Baseline, files: &[Report]) -> Vec<Regression> {
    let mut out = Vec::new();
    for report in files {
        let name = file_name(&report.questionnaire);
        let Some(before) = baseline
            .files
            .iter()
            .find(|b| file_name(&b.questionnaire) == name)
        else {
            continue;
        };
        let by_place: HashMap<(&str, u32), &Row> = report
            .rows
            .iter()
            .map(|r| ((r.sheet.as_str(), r.row), r))
            .collect();
        let mut by_text: HashMap<String, &Row> = HashMap::new();
        for r in &report.rows {
            by_text.entry(question_key(&r.question)).or_insert(r);
        }
        for was in before.rows.iter().filter(|r| r.status == Status::Answered) {
            let key = question_key(&was.question);
            let now = by_place
                .get(&(was.sheet.as_str(), was.row))
                .filter(|r| question_key(&r.question) == key)
                .or_else(|| by_text.get(&key));
            let Some(now) = now else { continue };
            if now.status == Status::NotOnRecord || now.answer != was.answer {
                out.push(Regression {
                    at: At::of(&report.questionnaire, now),
                    was: Claim {
                        status: was.status,
                        answer: was.answer,
                    },
                    now: Claim {
                        status: now.status,
                        answer: now.answer,
                    },
                });
            }
        }
    }
    out
}

fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(sheet: &str, n: u32, question: &str, status: Status, answer: Option<Answer>) -> Row {
        Row {
            sheet: sheet.into(),
            row: n,
            id: None,
            question: question.into(),
            status,
            answer,
            value: None,
            confidence: 1.0,
            response: String::new(),
            citations: Vec::new(),
            reason: crate::engine::Reason::new(crate::engine::ReasonCode::WeakMatch, ""),
            candidates: Vec::new(),
            not_covered: Vec::new(),
        }
    }

    fn baseline(rows: Vec<Row>) -> Baseline {
        let report = Report::new("old/dir/q.csv", rows);
        let json = serde_json::to_string(&Coverage::new(vec![report])).unwrap();
        serde_json::from_str(&json).unwrap()
    }

    #[test]
    fn answered_rows_that_vanish_or_flip_are_regressions() {
        let yes = Some(Answer::Yes);
        let before = baseline(vec![
            row("q", 2, "Is MFA on?", Status::Answered, yes),
            row("q", 3, "Is data encrypted?", Status::Answered, yes),
            row("q", 4, "Do you log?", Status::Review, yes),
            row("q", 5, "Do you back up?", Status::Answered, yes),
        ]);
        let now = Report::new(
            "q.csv",
            vec![
                // Moved down a row: matched by its text.
                row("q", 3, "Is MFA on?", Status::Answered, yes),
                row(
                    "q",
                    4,
                    "Is data encrypted?",
                    Status::Answered,
                    Some(Answer::No),
                ),
                row("q", 5, "Do you log?", Status::NotOnRecord, None),
                row("q", 6, "do you back up", Status::NotOnRecord, None),
            ],
        );
        let found = regressions(&before, &[now]);
        let rows: Vec<u32> = found.iter().map(|r| r.at.row).collect();
        assert_eq!(rows, vec![4, 6]);
        assert_eq!(found[0].now.answer, Some(Answer::No));
        assert_eq!(found[1].at.file, "q.csv");
    }
}
