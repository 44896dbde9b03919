//! What is sent unread on real questionnaires: the four in `../shared/data` filled with the
//! example record, every `answered` row checked against a person's verdict in
//! `fixtures/eval/real-verdicts.csv` (questionnaire, sheet, row, the cited control and answer;
//! no question text is copied). Run `cargo test --test it real_answers -- --nocapture` to see
//! the numbers. Skips when the data folder is absent.

use std::collections::BTreeMap;

use crate::{fill_report, repo, shared};

const QUESTIONNAIRES: [(&str, &str); 4] = [
    ("hecvat", "hecvat/HECVAT414.xlsx"),
    ("caiq", "caiq-v4/questions.csv"),
    ("vsaq", "vsaq/questions.csv"),
    ("scrm", "cisa-scrm/questions.csv"),
];

/// Wrong answers sent unread, at most: what the engine holds today (see the README's *Answer
/// quality*). Lower it as the engine improves.
const MOST_WRONG: usize = 3;

/// (questionnaire, sheet, row, control, answer) → verdict: a row answered from another
/// control, or otherwise, by a later engine is judged again, on a line of its own.
fn verdicts() -> BTreeMap<(String, String, u64, String, String), String> {
    let path = repo().join("fixtures/eval/real-verdicts.csv");
    let mut reader = csv::Reader::from_path(path).expect("real-verdicts.csv");
    reader
        .records()
        .map(|r| {
            let r = r.expect("row");
            let key = (
                r[0].to_string(),
                r[1].to_string(),
                r[2].parse().expect("row"),
                r[4].to_string(),
                r[5].to_string(),
            );
            (key, r[6].to_string())
        })
        .collect()
}

#[test]
fn answers_sent_unread_on_real_questionnaires_are_judged_right() {
    let verdicts = verdicts();
    let dir = tempfile::tempdir().unwrap();
    let (mut answered, mut wrong, mut unjudged) = (0, Vec::new(), Vec::new());
    for (name, rel) in QUESTIONNAIRES {
        let Some(input) = shared(rel) else {
            return;
        };
        let report = dir.path().join(format!("{name}.json"));
        let output = dir.path().join(format!(
            "{name}.out.{}",
            input.extension().unwrap().to_str().unwrap()
        ));
        let report = fill_report(&repo(), &input, &report, &["-o", output.to_str().unwrap()]);
        for row in report["rows"].as_array().unwrap() {
            // Form fields filled from profile.toml claim no control: forms.rs checks them.
            if row["status"] != "answered" || row["reason"]["code"] == "profile_field" {
                continue;
            }
            answered += 1;
            let sheet = row["sheet"].as_str().unwrap_or("").to_string();
            let number = row["row"].as_u64().unwrap();
            let control = row["citations"][0]["control"].as_str().unwrap_or("");
            let answer = row["answer"].as_str().unwrap_or("");
            let place = format!("{name} {sheet}:{number} {control} {answer}");
            let key = (
                name.to_string(),
                sheet,
                number,
                control.to_string(),
                answer.to_string(),
            );
            match verdicts.get(&key).map(String::as_str) {
                Some("wrong") => wrong.push(place),
                Some(_) => {}
                None => unjudged.push(place),
            }
        }
    }
    println!(
        "answered {answered}, judged wrong {} ({:.1}%), not yet judged {}",
        wrong.len(),
        100.0 * wrong.len() as f64 / answered.max(1) as f64,
        unjudged.len()
    );
    for place in &wrong {
        println!("  wrong: {place}");
    }
    assert!(
        unjudged.is_empty(),
        "answered rows nobody has judged (read each question and the cited statement, then add \
         a row to fixtures/eval/real-verdicts.csv): {unjudged:#?}"
    );
    assert!(
        wrong.len() <= MOST_WRONG,
        "{} wrong answers sent unread, more than {MOST_WRONG}",
        wrong.len()
    );
}
