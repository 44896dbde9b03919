//! `onrecord eval`: a questionnaire the team answered by hand compared with onrecord's
//! answers, in every output format, with the `--min-agreement` gate. (The answer-quality
//! measurement of the engine itself is `eval.rs`.)

use rust_xlsxwriter::{DataValidation, Workbook};

use crate::coverage::snapshot;
use crate::{Run, assert_annotations, onrecord, repo};

const ANSWERED: &str = "fixtures/gates/answered-by-hand.csv";

fn eval(args: &[&str]) -> Run {
    let mut all = vec!["eval"];
    all.extend_from_slice(args);
    onrecord(&repo(), &all)
}

#[test]
fn text_lists_every_row_with_its_verdict_and_the_totals() {
    let run = eval(&[ANSWERED]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for verdict in [
        ": agree: human yes",
        ": disagree: human yes, onrecord answered no",
        ": abstains: ",
        ": human_blank: human blank",
        ": human_unclear: human unclear",
    ] {
        assert!(run.stdout.contains(verdict), "{verdict} in\n{}", run.stdout);
    }
    snapshot("eval.txt", &run);
}

#[test]
fn json_has_per_row_verdicts_and_totals() {
    let run = eval(&[ANSWERED, "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    let s = &json["summary"];
    assert_eq!(s["rows"], 11);
    let sum: u64 = [
        "agree",
        "disagree",
        "abstains",
        "human_blank",
        "human_unclear",
    ]
    .iter()
    .map(|k| s[k].as_u64().unwrap())
    .sum();
    assert_eq!(sum, 11);
    assert_eq!(s["review_proposed_agree"], 2);
    // "TRUE" and "N/A" are read as the record's yes and n/a.
    let rows = json["rows"].as_array().unwrap();
    assert_eq!(rows[4]["human"], "TRUE");
    assert_eq!(rows[4]["human_answer"], "yes");
    assert_eq!(rows[3]["human_answer"], "n/a");
    assert_eq!(rows[7]["human_answer"], serde_json::Value::Null);
    snapshot("eval.json.txt", &run);
}

#[test]
fn github_format_warns_at_each_disagreement() {
    let run = eval(&[ANSWERED, "--format", "github"]);
    assert_eq!(run.code, 0);
    assert_annotations(&run.stdout);
    assert!(run.stdout.contains(
        "::warning file=fixtures/gates/answered-by-hand.csv,line=4,title=onrecord disagrees::"
    ));
    assert!(run.stdout.lines().last().unwrap().starts_with("::notice "));
    snapshot("eval.github.txt", &run);
}

#[test]
fn min_agreement_gates_only_when_given() {
    let pass = eval(&[ANSWERED, "--min-agreement", "50"]);
    assert_eq!(pass.code, 0, "{}", pass.stderr);
    let fail = eval(&[ANSWERED, "--min-agreement", "100", "--quiet"]);
    assert_eq!(fail.code, 1);
    assert!(
        fail.stderr.contains("is below --min-agreement 100"),
        "{}",
        fail.stderr
    );
    // --quiet: the disagreements and the totals only.
    assert!(!fail.stdout.contains(": agree: "));
    assert!(fail.stdout.contains(": disagree: "));
}

#[test]
fn a_questionnaire_without_answers_or_file_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let bare = dir.path().join("questions.csv");
    std::fs::write(
        &bare,
        "Question\nIs data encrypted at rest?\nDo you run backups?\n",
    )
    .unwrap();
    let run = eval(&[bare.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("found no answer column"),
        "{}",
        run.stderr
    );
    let missing = eval(&["fixtures/gates/none.csv"]);
    assert_eq!(missing.code, 2);
    assert!(missing.stderr.contains("none.csv"));
}

#[test]
fn an_xlsx_answered_through_its_dropdown_is_compared() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("past.xlsx");
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet().set_name("Security").unwrap();
    let rows = [
        ("Question", "Response"),
        (
            "Is multi-factor authentication enforced for all staff accounts?",
            "YES",
        ),
        (
            "Are company laptops protected with full-disk encryption?",
            "NO",
        ),
        ("Do you hold a FedRAMP Moderate authorization?", "NO"),
    ];
    for (i, (q, a)) in rows.iter().enumerate() {
        sheet.write_string(i as u32, 0, *q).unwrap();
        sheet.write_string(i as u32, 1, *a).unwrap();
    }
    let dropdown = DataValidation::new()
        .allow_list_strings(&["YES", "NO"])
        .unwrap();
    sheet.add_data_validation(1, 1, 10, 1, &dropdown).unwrap();
    workbook.save(&path).unwrap();
    let run = eval(&[path.to_str().unwrap(), "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let verdicts: Vec<&str> = json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["verdict"].as_str().unwrap())
        .collect();
    assert_eq!(verdicts, ["agree", "disagree", "abstains"]);
    assert_eq!(json["rows"][0]["sheet"], "Security");
}
