//! The labeled corpus (`fixtures/corpus/`) keeps what issue 19 asks of it: five records or
//! more, each passing `check`, at least 2,500 items, at least 30% not answerable, at least
//! 600 near misses, every label naming a control of its record with a valid answer, and
//! every real-questionnaire item resolving to its question in `../shared/data`.

use std::collections::HashSet;

use onrecord::limits::Limits;
use onrecord::record;

use crate::evalset::corpus::{read_items, real_texts, records};
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
