//! The labeled corpus (`fixtures/corpus/`) keeps what issue 19 asks of it: five records or
//! more, each passing `check`, at least 2,500 items, at least 30% not answerable, at least
//! 600 near misses, every label naming a control of its record with a valid answer, and
//! every real-questionnaire item resolving to its question in `../shared/data`. And the
//! engine's scores on the records it was not tuned on stay where they are.

use std::collections::HashSet;

use onrecord::limits::Limits;
use onrecord::record;

use crate::evalset::Score;
use crate::evalset::corpus::{engine, read_items, real_texts, records};
use crate::{onrecord, repo, shared, shared_data};

#[test]
fn the_corpus_holds_enough_of_every_kind_and_every_label_is_sound() {
    if shared("caiq-v4/questions.csv").is_none() {
        return;
    }
    let data = shared_data();
    let records = records(&data);
    assert!(records.len() >= 5, "{} records", records.len());
    let (mut items, mut gaps, mut near) = (0, 0, 0);
    for r in &records {
        let loaded = record::load(&r.root, &Limits::default()).unwrap();
        let ids: HashSet<&str> = loaded
            .record
            .controls
            .iter()
            .map(|c| c.id.as_str())
            .collect();
        assert!(
            (60..=150).contains(&ids.len()),
            "{}: {} controls",
            r.name,
            ids.len()
        );
        for item in &r.items {
            for id in &item.labeled.expect {
                assert!(
                    ids.contains(id.as_str()),
                    "{} {}: no control {id}",
                    r.name,
                    item.labeled.id
                );
            }
            let answerable = !item.labeled.expect.is_empty();
            assert_eq!(
                answerable,
                ["yes", "no", "partial", "n/a"].contains(&item.labeled.answer.as_str()),
                "{} {}: answer {:?}",
                r.name,
                item.labeled.id,
                item.labeled.answer
            );
            gaps += usize::from(!answerable);
            near += usize::from(item.gap == "near");
        }
        items += r.items.len();
        let run = onrecord(&r.root, &["check"]);
        assert_eq!(run.code, 0, "{}: {}", r.name, run.seen());
    }
    assert!(items >= 2500, "{items} items");
    assert!(gaps * 10 >= items * 3, "{gaps} of {items} not answerable");
    assert!(near >= 600, "{near} near misses");
    // Every real-questionnaire item of the new item files resolves to a question.
    let texts = real_texts(&data);
    for name in ["payvane", "quillon", "marrowline", "tern"] {
        let path = repo().join(format!("fixtures/corpus/items/{name}.csv"));
        let mut reader = csv::Reader::from_path(&path).unwrap();
        let rows = reader.records().count();
        let read = read_items(&path, &texts).len();
        assert_eq!(read, rows, "{name}: {} items did not resolve", rows - read);
    }
}

/// What holds on two records the engine was not tuned on: quillon, with the most wrong claims
/// (where honesty slips first), and marrowline (kestrel's bars are `eval.rs`'s, the example
/// record's are `real_answers.rs`'s and the gates'), measured with `cargo run --release --example
/// eval_tools -- corpus` at the shipped calibration, less a point: (record, ranked first at
/// least, gaps flagged at least, wrong claims of rows sent unread at most). Two records, not
/// all four, to keep CI within its budget (about 40 s here). The answer bar is chosen on every
/// record, leave one record out (`eval_tools bar`, docs/engine.md); raise these as the engine
/// improves.
const RECORD_BARS: [(&str, f64, f64, f64); 2] = [
    ("marrowline", 0.89, 0.80, 0.035),
    ("quillon", 0.89, 0.765, 0.065),
];

/// The mean wrong claims over those records, at most (3.9% now; 2.7% over all five records;
/// issue 19 asks 3%).
const MEAN_WRONG: f64 = 0.045;

#[test]
fn records_the_engine_was_not_tuned_on_keep_their_scores() {
    if shared("caiq-v4/questions.csv").is_none() {
        return;
    }
    let data = shared_data();
    let mut wrong = Vec::new();
    for r in records(&data) {
        let Some(&(_, ranked, flagged, most_wrong)) =
            RECORD_BARS.iter().find(|(name, ..)| *name == r.name)
        else {
            continue;
        };
        let (_dir, engine) = engine(&r);
        let mut score = Score::default();
        for item in &r.items {
            score.add(&item.labeled, &engine.ask(&item.labeled.question).unwrap());
        }
        println!("{:>11}: {}", r.name, score.line());
        assert!(score.ranked() >= ranked, "{}: {}", r.name, score.line());
        assert!(score.flagged() >= flagged, "{}: {}", r.name, score.line());
        assert!(score.wrong() <= most_wrong, "{}: {}", r.name, score.line());
        wrong.push(score.wrong());
    }
    assert_eq!(
        wrong.len(),
        RECORD_BARS.len(),
        "a record of RECORD_BARS is missing"
    );
    let mean = wrong.iter().sum::<f64>() / wrong.len() as f64;
    assert!(mean <= MEAN_WRONG, "mean wrong claims {mean:.3}");
}
