//! The honesty rules as data: each folder of `fixtures/honesty/` is a small record and a
//! `cases.toml` of questions with the status, answer, control and reason code each must get
//! (format: `fixtures/honesty/README.md`). One driver reads them all; every reason code the
//! engine can give must have a case, and the README must list exactly those codes.

use std::collections::BTreeSet;
use std::path::Path;

use onrecord::check::CheckOptions;
use onrecord::engine::{Engine, ReasonCode, Status};
use onrecord::fields::Field;
use onrecord::record::Date;
use serde::Deserialize;

use crate::{TODAY, copy_dir, readme_table_names, repo};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Cases {
    #[serde(default)]
    options: Options,
    #[serde(rename = "case")]
    cases: Vec<Case>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Options {
    max_age_days: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    question: String,
    status: Status,
    answer: Option<String>,
    /// The first cited control.
    control: Option<String>,
    /// The best candidate (for a row that cites nothing).
    candidate: Option<String>,
    /// The answer field's type, as a type column spells it (`radiogroup`, `box`, ...).
    field: Option<String>,
    /// The field's choices.
    #[serde(default)]
    choices: Vec<String>,
    /// The section heading it is asked under.
    section: Option<String>,
    /// The choice or number written into the field.
    value: Option<String>,
    reason: String,
    why: String,
}

fn folders() -> Vec<std::path::PathBuf> {
    let mut folders: Vec<_> = std::fs::read_dir(repo().join("fixtures/honesty"))
        .expect("fixtures/honesty")
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("cases.toml").is_file())
        .collect();
    folders.sort();
    folders
}

/// Runs every case of `folder`; returns the failures and the codes seen.
fn run(folder: &Path, seen: &mut BTreeSet<String>) -> Vec<String> {
    let text = std::fs::read_to_string(folder.join("cases.toml")).unwrap();
    let cases: Cases =
        toml::from_str(&text).unwrap_or_else(|e| panic!("{}/cases.toml: {e}", folder.display()));
    let dir = tempfile::tempdir().unwrap();
    copy_dir(folder, dir.path());
    let mut engine =
        Engine::open(dir.path()).unwrap_or_else(|e| panic!("{}: {e:#}", folder.display()));
    engine.staleness = cases.options.max_age_days.map(|days| CheckOptions {
        today: Date::parse(TODAY).unwrap(),
        max_age_days: days,
    });
    let name = folder.file_name().unwrap().to_string_lossy().to_string();
    let mut failures = Vec::new();
    for case in &cases.cases {
        assert!(
            ReasonCode::from_name(&case.reason).is_some(),
            "{name}: unknown reason code `{}` ({})",
            case.reason,
            case.why
        );
        seen.insert(case.reason.clone());
        let field = match &case.field {
            Some(kind) => Field::from_type(kind, case.choices.clone())
                .unwrap_or_else(|| panic!("{name}: unknown field type `{kind}`")),
            None => Field::Unknown,
        };
        let outcome = engine
            .ask_in(&case.question, case.section.as_deref())
            .unwrap();
        let outcome = engine.fit(outcome, &field);
        let mut wrong = Vec::new();
        if outcome.status != case.status {
            wrong.push(format!(
                "status {} (want {})",
                outcome.status.as_str(),
                case.status.as_str()
            ));
        }
        if outcome.reason.code.as_str() != case.reason {
            wrong.push(format!(
                "reason {} (want {})",
                outcome.reason.code.as_str(),
                case.reason
            ));
        }
        if let Some(answer) = &case.answer {
            let got = outcome.answer.map(|a| a.as_str()).unwrap_or("none");
            if got != answer {
                wrong.push(format!("answer {got} (want {answer})"));
            }
        }
        if outcome.value != case.value {
            wrong.push(format!("value {:?} (want {:?})", outcome.value, case.value));
        }
        if let Some(control) = &case.control {
            let got = outcome.citations.first().map(|c| c.control.as_str());
            if got != Some(control) {
                wrong.push(format!("cited {got:?} (want {control})"));
            }
        }
        if let Some(candidate) = &case.candidate {
            let got = outcome.candidates.first().map(|c| c.control.as_str());
            if got != Some(candidate) {
                wrong.push(format!("best candidate {got:?} (want {candidate})"));
            }
        }
        if !wrong.is_empty() {
            failures.push(format!(
                "{name}: {:?}: {} [{}; detail: {}]",
                case.question,
                wrong.join(", "),
                case.why,
                outcome.reason.detail
            ));
        }
    }
    failures
}

#[test]
fn every_honesty_case_gets_its_status_answer_and_reason() {
    let mut seen = BTreeSet::new();
    let failures: Vec<String> = folders().iter().flat_map(|f| run(f, &mut seen)).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let missing: Vec<&str> = ReasonCode::ALL
        .iter()
        .map(|c| c.as_str())
        .filter(|c| !seen.contains(*c))
        .collect();
    assert!(
        missing.is_empty(),
        "reason codes with no case in fixtures/honesty: {missing:?}"
    );
}

#[test]
fn the_readme_lists_every_reason_code() {
    let codes: Vec<&str> = ReasonCode::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(
        readme_table_names("### Report rows"),
        codes,
        "README table rows, in ReasonCode::ALL order"
    );
}
