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
    // Rows the engine once sent unread and a person judged (real-verdicts.csv) are decided
    // as judged, when a rule or the answer bar now holds them for review: a right one
    // accepted, a wrong one rejected.
    let mut reader =
        csv::Reader::from_path(repo().join("fixtures/eval/real-verdicts.csv")).unwrap();
    for r in reader.records() {
        let r = r.unwrap();
        let key = (r[1].to_string(), r[2].parse().unwrap());
        if &r[0] == "hecvat" && !labels.contains_key(&key) {
            let decision = match &r[6] {
                "right" => (r[4].to_string(), r[5].to_string()),
                _ => ("-".to_string(), String::new()),
            };
            labels.insert(key, decision);
        }
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
    assert!(listed > 250, "{listed} rows listed for review");
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
    let (mut ranked_before, mut ranked_after) = (0, 0);
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
        // A gap may come close enough to be read by a person (review) instead of flagged,
        // never to be answered (wrong claims above).
        assert!(
            a.gaps_flagged + b.gaps / 50 >= b.gaps_flagged,
            "halving {seed}: gaps flagged {} → {}",
            b.gaps_flagged,
            a.gaps_flagged
        );
        ranked_before += b.ranked;
        ranked_after += a.ranked;
    }
    assert!(
        ranked_after >= ranked_before,
        "learned phrasings should not put the right control first less often: {ranked_before} → {ranked_after}"
    );
}

/// The example record and the bundled questionnaire, filled once: (record, work dir, q.csv).
fn filled_example() -> (tempfile::TempDir, tempfile::TempDir, PathBuf) {
    let record = copy_example();
    let work = tempfile::tempdir().unwrap();
    let q = work.path().join("q.csv");
    std::fs::copy(
        repo().join("fixtures/questionnaires/vendor-assessment.csv"),
        &q,
    )
    .unwrap();
    let run = onrecord(record.path(), &["fill", s(&q)]);
    assert_eq!(run.code, 0, "{}", run.seen());
    (record, work, q)
}

/// Decides the rows whose question contains a key of `decisions`.
fn decide_by_question(review: &Path, to: &Path, decisions: &[(&str, &str)]) {
    decide(review, to, |row| {
        decisions
            .iter()
            .find(|(part, _)| row["Question"].contains(part))
            .map(|(_, d)| d.to_string())
    });
}

#[test]
fn fill_never_replaces_a_review_or_output_without_force() {
    let (record, work, q) = filled_example();
    let review = work.path().join("q.review.xlsx");
    assert!(
        review.is_file(),
        "fill writes FILE.review.xlsx beside the output"
    );
    let before = std::fs::read(&review).unwrap();

    // The person's review is there: a second fill refuses, naming it, and writes nothing.
    std::fs::remove_file(work.path().join("q.answered.csv")).unwrap();
    let run = onrecord(record.path(), &["fill", s(&q)]);
    assert_eq!(run.code, 2, "{}", run.seen());
    assert!(
        run.stderr.contains("q.review.xlsx` already exists"),
        "{}",
        run.seen()
    );
    assert!(run.stderr.contains("--force"), "{}", run.seen());
    assert!(
        !work.path().join("q.answered.csv").exists(),
        "nothing written"
    );
    assert_eq!(std::fs::read(&review).unwrap(), before);

    // --force replaces both; --no-review writes none; --review PATH writes there.
    let run = onrecord(record.path(), &["fill", s(&q), "--force"]);
    assert_eq!(run.code, 0, "{}", run.seen());
    let elsewhere = work.path().join("check-these.xlsx");
    let out = work.path().join("v2.csv");
    let run = onrecord(
        record.path(),
        &["fill", s(&q), "-o", s(&out), "--review", s(&elsewhere)],
    );
    assert_eq!(run.code, 0, "{}", run.seen());
    assert!(elsewhere.is_file());
    assert!(!work.path().join("v2.review.xlsx").exists());
    let out = work.path().join("v3.csv");
    let run = onrecord(
        record.path(),
        &["fill", s(&q), "-o", s(&out), "--no-review"],
    );
    assert_eq!(run.code, 0, "{}", run.seen());
    assert!(!work.path().join("v3.review.xlsx").exists(), "--no-review");

    // --review-all lists every question; by default only those not sent unread.
    let out = work.path().join("v4.csv");
    let run = onrecord(
        record.path(),
        &["fill", s(&q), "-o", s(&out), "--review-all"],
    );
    assert_eq!(run.code, 0, "{}", run.seen());
    let all = review_rows(&work.path().join("v4.review.xlsx"));
    assert_eq!(all.len(), 1 + 15, "every question of the questionnaire");
    let some = review_rows(&review);
    assert!(
        some.len() < all.len() && some.len() > 1,
        "{} rows",
        some.len()
    );
    assert!(some[1..].iter().all(|r| r[4] != "answered"));
    assert_eq!(some[0], HEADER.map(String::from).to_vec());
}

#[test]
fn filling_a_workbook_a_person_edited_keeps_every_cell_they_wrote() {
    let (record, work, _) = filled_example();
    let answered = work.path().join("q.answered.csv");
    // The person answers a question onrecord left open, and rewrites an explanation.
    let mut rows: Vec<Vec<String>> = csv::Reader::from_path(&answered)
        .unwrap()
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    rows[14][3] = "Yes".into();
    rows[14][4] = "USD 5M per claim, see certificate".into();
    rows[0][4] = "Our own words about MFA.".into();
    let edited = work.path().join("edited.csv");
    let mut writer = csv::Writer::from_path(&edited).unwrap();
    writer
        .write_record(["Ref", "Domain", "Question", "Response", "Comments"])
        .unwrap();
    for row in &rows {
        writer.write_record(row).unwrap();
    }
    writer.flush().unwrap();

    let out = work.path().join("again.csv");
    let run = onrecord(record.path(), &["fill", s(&edited), "-o", s(&out)]);
    assert_eq!(run.code, 0, "{}", run.seen());
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("USD 5M per claim, see certificate"), "{text}");
    assert!(text.contains("Our own words about MFA."), "{text}");

    let out = work.path().join("overwritten.csv");
    let run = onrecord(
        record.path(),
        &["fill", s(&edited), "-o", s(&out), "--overwrite"],
    );
    assert_eq!(run.code, 0, "{}", run.seen());
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        !text.contains("Our own words about MFA."),
        "--overwrite answers it anew"
    );
}

#[test]
fn learn_dry_run_prints_the_diff_and_writes_nothing() {
    let (record, work, _) = filled_example();
    let decided = work.path().join("decided.xlsx");
    decide_by_question(
        &work.path().join("q.review.xlsx"),
        &decided,
        &[("FedRAMP High", "reject"), ("cyber liability", "reject")],
    );
    let files = record_files(record.path());
    let run = onrecord(record.path(), &["learn", s(&decided), "--dry-run"]);
    assert_eq!(run.code, 0, "{}", run.seen());
    assert!(
        run.stdout
            .starts_with("--- /dev/null\n+++ b/not-on-record.toml\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("+q = \"Do you hold FedRAMP High authorization?\""),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr
            .contains("would learn 0 phrasing(s) and 2 question(s)"),
        "{}",
        run.seen()
    );
    assert_eq!(
        record_files(record.path()),
        files,
        "--dry-run wrote nothing"
    );
    assert!(!record.path().join("not-on-record.toml").exists());
}

#[test]
fn learn_appends_to_the_record_keeping_its_comments_and_layout() {
    let (record, work, q) = filled_example();
    let decided = work.path().join("decided.xlsx");
    // "Do you tokenize ...?" is not on the record; the person knows ENC-06 answers it.
    decide_by_question(
        &work.path().join("q.review.xlsx"),
        &decided,
        &[("tokenize", "ENC-06"), ("FedRAMP High", "reject")],
    );
    let file = record.path().join("knowledge/cryptography.toml");
    let before = std::fs::read_to_string(&file).unwrap();
    let run = onrecord(record.path(), &["learn", s(&decided)]);
    assert_eq!(run.code, 0, "{}", run.seen());
    let after = std::fs::read_to_string(&file).unwrap();
    // Every line of the file is still there, in order: learn only adds.
    let mut added = Vec::new();
    let mut old = before.lines().peekable();
    for line in after.lines() {
        if old.peek() == Some(&line) {
            old.next();
        } else {
            added.push(line);
        }
    }
    assert_eq!(old.next(), None, "a line of the file was lost");
    assert_eq!(
        added,
        vec![
            "  { q = \"Do you tokenize primary account numbers before storage?\", learned = 2026-11-23 },"
        ],
    );
    let gaps = std::fs::read_to_string(record.path().join("not-on-record.toml")).unwrap();
    assert!(gaps.starts_with("# Questions people decided"), "{gaps}");
    assert!(
        gaps.contains("q = \"Do you hold FedRAMP High authorization?\"\nmistaken_for = "),
        "{gaps}"
    );
    assert!(gaps.contains("decided = 2026-11-23"), "{gaps}");
    assert_eq!(onrecord(record.path(), &["check"]).code, 0);

    // The next fill answers both as decided.
    let out = work.path().join("again.csv");
    let report = work.path().join("r.json");
    let run = onrecord(
        record.path(),
        &["fill", s(&q), "-o", s(&out), "--report", s(&report)],
    );
    assert_eq!(run.code, 0, "{}", run.seen());
    let rows = report_rows(&report);
    let token = &rows[&("q".to_string(), 6)];
    assert_eq!(token["status"], "answered");
    assert_eq!(token["citations"][0]["control"], "ENC-06");
    assert_eq!(token["reason"]["code"], "learned");
    let fedramp = &rows[&("q".to_string(), 12)];
    assert_eq!(fedramp["status"], "not_on_record");
    assert_eq!(fedramp["reason"]["code"], "known_gap");
}

#[test]
fn decisions_that_cannot_hold_are_errors_naming_their_cells_and_nothing_is_written() {
    let (record, work, _) = filled_example();
    let review = work.path().join("q.review.xlsx");
    let files = record_files(record.path());
    let learn = |decisions: &[(&str, &str)]| {
        let decided = work.path().join("decided.xlsx");
        decide_by_question(&review, &decided, decisions);
        let run = onrecord(record.path(), &["learn", s(&decided)]);
        assert_eq!(run.code, 2, "{}", run.seen());
        assert_eq!(record_files(record.path()), files, "nothing written");
        assert!(!record.path().join("not-on-record.toml").exists());
        run.stderr
    };
    let err = learn(&[("FedRAMP", "ok I guess"), ("tokenize", "ENC-6: yes")]);
    assert!(err.contains("decided.xlsx: Review!K"), "{err}");
    assert!(err.contains("`ok I guess` is not a decision"), "{err}");

    let err = learn(&[("tokenize", "ENC-6")]);
    assert!(
        err.contains("`ENC-6` is not a control of the record; did you mean `ENC-06`?"),
        "{err}"
    );

    // A yes from a control whose answer is no (ASR-04: no bug bounty).
    let err = learn(&[("tokenize", "ASR-04: yes")]);
    assert!(
        err.contains("a yes must cite a control whose answer is yes"),
        "{err}"
    );

    // An authored phrasing already holds this question (sent unread: listed with --review-all).
    let run = onrecord(
        record.path(),
        &[
            "fill",
            s(&work.path().join("q.csv")),
            "--review-all",
            "--force",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.seen());
    let err = learn(&[("Is any customer data stored unencrypted?", "reject")]);
    assert!(
        err.contains("but the record has it as `ENC-01` (no) (knowledge/"),
        "{err}"
    );
}

#[test]
fn learn_refuses_a_file_that_is_not_a_review_workbook() {
    let (record, _work, q) = filled_example();
    let run = onrecord(record.path(), &["learn", s(&q)]);
    assert_eq!(run.code, 2, "{}", run.seen());
    assert!(
        run.stderr.contains("has no `Review` sheet"),
        "{}",
        run.seen()
    );
}
