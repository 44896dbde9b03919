//! The review-and-learn loop: `fill` writes a review workbook, a person decides its rows,
//! `learn` writes the decisions into the record, and the next `fill` answers those rows as
//! decided, while questions nobody decided are answered no worse than before.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use onrecord::limits::Limits;
use onrecord::questionnaire;
use onrecord::record::Record;
use onrecord::review::HEADER;

use crate::evalset::{self, Labeled, Score, reviewer_decision};
use crate::{copy_eval_record, copy_example, onrecord, repo, shared};

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// The Review sheet of a review workbook, as rows of cell text.
fn review_rows(path: &Path) -> Vec<Vec<String>> {
    let grids = questionnaire::read(path, &Limits::default()).expect("the review workbook reads");
    grids
        .into_iter()
        .find(|g| g.name == "Review")
        .expect("a Review sheet")
        .rows
}

/// A person's copy of the review workbook: its Review sheet with `decide` written into the
/// Decision column (saved as a new file, as Excel or LibreOffice would).
fn decide(
    review: &Path,
    to: &Path,
    mut decide: impl FnMut(&BTreeMap<&str, &str>) -> Option<String>,
) -> usize {
    let rows = review_rows(review);
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("Review").unwrap();
    let decision = HEADER.iter().position(|h| *h == "Decision").unwrap();
    let mut decided = 0;
    for (r, row) in rows.iter().enumerate() {
        let mut row = row.clone();
        row.resize(HEADER.len(), String::new());
        if r > 0 {
            let named: BTreeMap<&str, &str> = HEADER
                .iter()
                .copied()
                .zip(row.iter().map(String::as_str))
                .collect();
            if let Some(text) = decide(&named) {
                row[decision] = text;
                decided += 1;
            }
        }
        for (c, text) in row.iter().enumerate() {
            sheet.write_string(r as u32, c as u16, text).unwrap();
        }
    }
    workbook.save(to).unwrap();
    decided
}

/// The report rows of a fill, by (sheet, row).
fn report_rows(path: &Path) -> BTreeMap<(String, u64), serde_json::Value> {
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                (
                    r["sheet"].as_str().unwrap().to_string(),
                    r["row"].as_u64().unwrap(),
                ),
                r.clone(),
            )
        })
        .collect()
}

/// What the decided rows got in a fill: as decided, sent to review, or anything else (wrong).
#[derive(Debug, Default)]
struct Refill {
    decided: usize,
    as_decided: usize,
    review: usize,
    wrong: Vec<String>,
}

/// `expected`: per decided (sheet, row), the control and answer decided, or `None` for not on
/// the record.
#[allow(clippy::type_complexity)]
fn refill(report: &Path, expected: &BTreeMap<(String, u64), Option<(String, String)>>) -> Refill {
    let rows = report_rows(report);
    let mut result = Refill::default();
    for (key, want) in expected {
        let row = &rows[key];
        result.decided += 1;
        let status = row["status"].as_str().unwrap();
        let cited = row["citations"][0]["control"].as_str();
        let answer = row["answer"].as_str();
        let right = match want {
            None => status == "not_on_record",
            Some((control, a)) => {
                status == "answered" && cited == Some(control) && answer == Some(a.as_str())
            }
        };
        if right {
            result.as_decided += 1;
        } else if status == "review" {
            result.review += 1;
        } else {
            result.wrong.push(format!(
                "{key:?}: decided {want:?}, got {status} {cited:?} {answer:?}"
            ));
        }
    }
    result
}

fn record_files(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.file_name().unwrap().to_string_lossy().starts_with('.') {
                continue;
            }
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "toml" || e == "csv") {
                files.insert(path.clone(), std::fs::read(&path).unwrap());
            }
        }
    }
    files
}

/// fill → decide → learn → fill → learn again → fill again, on `record` (a directory with
/// the questionnaire `q` beside it). Returns how the decided rows came back.
fn round_trip(
    record: &Path,
    q: &Path,
    mut decide_row: impl FnMut(
        &BTreeMap<&str, &str>,
        &Record,
    ) -> Option<(String, Option<(String, String)>)>,
) -> Refill {
    let dir = q.parent().unwrap();
    let ext = q.extension().unwrap().to_str().unwrap();
    let out = dir.join(format!("q.answered.{ext}"));
    let review = dir.join("q.review.xlsx");
    let report = dir.join("r1.json");
    let run = onrecord(
        record,
        &["fill", s(q), "-o", s(&out), "--report", s(&report)],
    );
    assert_eq!(run.code, 0, "{}", run.seen());
    assert!(
        review.is_file(),
        "fill wrote no review workbook: {}",
        run.seen()
    );

    let loaded = onrecord::record::load(record, &Limits::default())
        .unwrap()
        .record;
    let decided_path = dir.join("decided.xlsx");
    let mut expected = BTreeMap::new();
    let decided = decide(&review, &decided_path, |row| {
        let (text, meant) = decide_row(row, &loaded)?;
        let key = (
            row["Sheet"].to_string(),
            row["Row"].parse::<f64>().unwrap() as u64,
        );
        expected.insert(key, meant);
        Some(text)
    });
    assert!(decided > 0);

    let run = onrecord(record, &["learn", s(&decided_path)]);
    assert_eq!(run.code, 0, "{}", run.seen());
    let check = onrecord(record, &["check"]);
    assert_eq!(
        check.code,
        0,
        "the learned record passes check: {}",
        check.seen()
    );
    let learned = record_files(record);

    let again = |n: &str| {
        let report = dir.join(format!("r{n}.json"));
        let run = onrecord(
            record,
            &[
                "fill",
                s(q),
                "-o",
                s(&out),
                "--report",
                s(&report),
                "--force",
            ],
        );
        assert_eq!(run.code, 0, "{}", run.seen());
        (
            report.clone(),
            std::fs::read(&out).unwrap(),
            std::fs::read(&review).unwrap(),
            std::fs::read(&report).unwrap(),
        )
    };
    let second = again("2");

    // Learning the same decisions again changes nothing.
    let run = onrecord(record, &["learn", s(&decided_path)]);
    assert_eq!(run.code, 0, "{}", run.seen());
    assert!(
        run.stderr
            .contains("learned 0 phrasing(s) and 0 question(s)"),
        "{}",
        run.seen()
    );
    assert_eq!(
        record_files(record),
        learned,
        "a second learn changed the record"
    );

    // A third fill changes nothing.
    let third = again("3");
    assert!(
        second.1 == third.1,
        "the third fill wrote another questionnaire"
    );
    assert!(
        second.2 == third.2,
        "the third fill wrote another review workbook"
    );
    assert!(second.3 == third.3, "the third fill wrote another report");
    refill(&second.0, &expected)
}

/// The eval record and its labelled questions as a questionnaire (ids and questions only).
fn eval_questionnaire(dir: &Path, questions: &[Labeled]) -> PathBuf {
    let q = dir.join("q.csv");
    let mut writer = csv::Writer::from_path(&q).unwrap();
    writer.write_record(["Id", "Question"]).unwrap();
    for l in questions {
        writer.write_record([&l.id, &l.question]).unwrap();
    }
    writer.flush().unwrap();
    q
}

#[test]
fn decided_rows_come_back_as_decided_on_the_eval_record() {
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("record");
    copy_eval_record(&record, None);
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    let questions = evalset::questions();
    let by_id: BTreeMap<&str, &Labeled> = questions.iter().map(|q| (q.id.as_str(), q)).collect();
    let q = eval_questionnaire(&work, &questions);
    let result = round_trip(&record, &q, |row, record| {
        let label = by_id[row["Id"]];
        let proposed = row["Proposed control"].split_whitespace().next();
        let answer = Some(row["Proposed answer"]).filter(|a| !a.is_empty());
        reviewer_decision(label, proposed, answer, record)
    });
    println!("eval record round trip: {result:?}");
    assert!(
        result.wrong.is_empty(),
        "decided rows answered otherwise: {:#?}",
        result.wrong
    );
    assert!(
        result.as_decided as f64 >= 0.99 * result.decided as f64,
        "only {} of {} decided rows came back as decided",
        result.as_decided,
        result.decided
    );
}

#[test]
fn hecvat_reviewed_rows_are_answered_unread_after_learning() {
    let Some(hecvat) = shared("hecvat/HECVAT414.xlsx") else {
        return;
    };
    let record = copy_example();
    let work = tempfile::tempdir().unwrap();
    let q = work.path().join("q.xlsx");
    std::fs::copy(hecvat, &q).unwrap();
    let mut labels: BTreeMap<(String, u64), (String, String)> = BTreeMap::new();
    let mut reader =
        csv::Reader::from_path(repo().join("fixtures/eval/hecvat-decisions.csv")).unwrap();
    for r in reader.records() {
        let r = r.unwrap();
        labels.insert(
            (r[0].to_string(), r[1].parse().unwrap()),
            (r[3].to_string(), r[4].to_string()),
        );
    }
    let mut listed = 0;
    let result = round_trip(record.path(), &q, |row, record| {
        listed += 1;
        let key = (
            row["Sheet"].to_string(),
            row["Row"].parse::<f64>().unwrap() as u64,
        );
        let (control, answer) = labels
            .get(&key)
            .unwrap_or_else(|| panic!("no decision for {key:?}"));
        if control == "-" {
            return Some(("reject".into(), None));
        }
        let own = record
            .control(control)
            .expect("a control of the record")
            .answer
            .as_str();
        if answer == "yes" && own != "yes" {
            // learn refuses a yes from a control whose answer is not yes: the row stays
            // undecided, and counts against the share below.
            return None;
        }
        let proposed = row["Proposed control"].split_whitespace().next();
        let text = if proposed == Some(control.as_str()) && row["Proposed answer"] == answer {
            "accept".to_string()
        } else {
            format!("{control}: {answer}")
        };
        Some((text, Some((control.clone(), answer.clone()))))
    });
    println!(
        "HECVAT round trip: {} rows listed for review, {} decided, {} answered as decided unread, {} review, {} wrong",
        listed,
        result.decided,
        result.as_decided,
        result.review,
        result.wrong.len()
    );
    assert_eq!(
        listed,
        labels.len(),
        "every listed row has a decision in the labels"
    );
    assert!(
        result.wrong.len() as f64 <= 0.01 * listed as f64,
        "{:#?}",
        result.wrong
    );
    assert!(
        result.as_decided as f64 >= 0.95 * listed as f64,
        "{} of {listed} reviewed rows answered unread as decided",
        result.as_decided
    );
}

#[test]
fn learning_one_half_leaves_the_other_no_worse() {
    let questions = evalset::questions();
    let (dir, base) = evalset::eval_engine();
    let texts: Vec<&str> = questions.iter().map(|q| q.question.as_str()).collect();
    base.prepare(&texts).unwrap();
    let outcomes: Vec<_> = questions
        .iter()
        .map(|q| base.ask(&q.question).unwrap())
        .collect();
    for seed in 1..=5 {
        let h = evalset::growth(dir.path(), &base, &questions, &outcomes, seed, false);
        println!(
            "halving {seed}: {} decisions learned; other half before: {}\n  after: {}",
            h.decisions,
            h.before.line(),
            h.after.line()
        );
        let (b, a): (&Score, &Score) = (&h.before, &h.after);
        assert!(
            a.correct >= b.correct,
            "halving {seed}: right citations {} → {}",
            b.correct,
            a.correct
        );
        assert!(
            a.wrong_claims <= b.wrong_claims,
            "halving {seed}: wrong claims {} → {}",
            b.wrong_claims,
            a.wrong_claims
        );
        assert!(
            a.gaps_flagged >= b.gaps_flagged,
            "halving {seed}: gaps flagged {} → {}",
            b.gaps_flagged,
            a.gaps_flagged
        );
    }
}
