//! The multi-record labeled corpus (`fixtures/corpus/`): each record with its labeled items,
//! real-questionnaire items resolved to their text in `../shared/data`.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use onrecord::engine::Engine;

use super::{Labeled, copy_record, repo};

/// A record's engine, opened on a scratch copy of the record (so that its index is built
/// outside the repository; the copy lives as long as the directory) with every item's
/// question embedded once.
pub fn engine(record: &CorpusRecord) -> (tempfile::TempDir, Engine) {
    let dir = tempfile::tempdir().unwrap();
    copy_record(&record.root, dir.path());
    let engine = Engine::open(dir.path()).expect("corpus record");
    let texts: Vec<&str> = record
        .items
        .iter()
        .map(|i| i.labeled.question.as_str())
        .collect();
    engine.prepare(&texts).unwrap();
    (dir, engine)
}

/// One record of the corpus and its items.
pub struct CorpusRecord {
    pub name: String,
    /// The record's directory.
    pub root: PathBuf,
    pub items: Vec<Item>,
}

/// One labeled (question, record) item.
pub struct Item {
    pub labeled: Labeled,
    /// `fresh`, or the questionnaire and id (`caiq:IAM-02.1`).
    pub source: String,
    /// `near`, `off`, or empty for an answerable item (unknown for older sets: `?`).
    pub gap: String,
}

/// The real questionnaires' texts by `questionnaire:id`, read from `../shared/data`.
pub fn real_texts(shared: &Path) -> HashMap<String, String> {
    let mut texts = HashMap::new();
    let sets = [
        ("caiq", "caiq-v4/questions.csv"),
        ("hecvat", "hecvat/questions.csv"),
        ("vsaq", "vsaq/questions.csv"),
        ("scrm", "cisa-scrm/questions.csv"),
    ];
    for (name, rel) in sets {
        let Ok(mut reader) = csv::Reader::from_path(shared.join(rel)) else {
            continue;
        };
        let headers = reader.headers().expect("headers").clone();
        let col = |n: &str| headers.iter().position(|h| h == n).expect(n);
        let (id, question) = (col("id"), col("question"));
        for row in reader.records() {
            let row = row.expect("row");
            texts.insert(format!("{name}:{}", &row[id]), row[question].to_string());
        }
    }
    texts
}

fn split_expect(text: &str) -> Vec<String> {
    if text.trim() == "-" || text.trim().is_empty() {
        Vec::new()
    } else {
        text.split(';').map(|s| s.trim().to_string()).collect()
    }
}

/// Items of one file, in whichever of the three formats it has: the corpus's
/// (`id,source,expect,answer,gap,question`), the eval set's (`id,split,expect,answer,question`)
/// or HECVAT's decisions (`sheet,row,id,control,answer,note`; its form fields left out).
pub fn read_items(path: &Path, texts: &HashMap<String, String>) -> Vec<Item> {
    let mut reader =
        csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let headers = reader.headers().expect("headers").clone();
    let col = |n: &str| headers.iter().position(|h| h == n);
    // The eval set keeps its gap kinds beside it (`questions.kind.csv`: `near`, `off`).
    let kinds: HashMap<String, String> = csv::Reader::from_path(path.with_extension("kind.csv"))
        .map(|mut r| {
            r.records()
                .map(|row| row.expect("row"))
                .map(|row| (row[0].to_string(), row[1].to_string()))
                .collect()
        })
        .unwrap_or_default();
    let mut items = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for row in reader.records() {
        let row = row.expect("row");
        let get = |n: &str| {
            col(n)
                .map(|c| row[c].trim().to_string())
                .unwrap_or_default()
        };
        if get("note").starts_with("form field") {
            // A HECVAT form field (the provider's name, a contact) is filled from
            // `profile.toml`, not from a control: no item of a judge of control claims.
            continue;
        }
        let (source, expect, gap, question, id) = if col("control").is_some() {
            // HECVAT decisions: one item per question id.
            let id = get("id");
            let source = format!("hecvat:{id}");
            let expect = split_expect(&get("control"));
            (source, expect, "?".to_string(), String::new(), id)
        } else if col("source").is_some() {
            (
                get("source"),
                split_expect(&get("expect")),
                get("gap"),
                get("question"),
                get("id"),
            )
        } else {
            let id = get("id");
            let gap = match kinds.get(&id).map(String::as_str) {
                Some(kind @ ("near" | "off")) => kind.to_string(),
                _ => "?".to_string(),
            };
            (
                "fresh".to_string(),
                split_expect(&get("expect")),
                gap,
                get("question"),
                id,
            )
        };
        let question = if source == "fresh" {
            question
        } else {
            match texts.get(&source) {
                Some(text) => text.clone(),
                None => continue,
            }
        };
        if question.is_empty() || !seen.insert(source.clone() + &question) {
            continue;
        }
        let gap = if expect.is_empty() {
            gap
        } else {
            String::new()
        };
        items.push(Item {
            labeled: Labeled {
                id,
                // The eval set's own split (only its `tune` half may be tuned on).
                split: col("split").map_or_else(|| "corpus".to_string(), |_| get("split")),
                expect,
                answer: get("answer"),
                question,
            },
            source,
            gap,
        });
    }
    items
}

/// Every record of the corpus (`fixtures/corpus/records.csv`: `name,record,items`, items
/// `;`-separated), with its items.
pub fn records(shared: &Path) -> Vec<CorpusRecord> {
    let texts = real_texts(shared);
    let list = repo().join("fixtures/corpus/records.csv");
    let mut reader = csv::Reader::from_path(&list).expect("records.csv");
    let mut by_name: BTreeMap<String, CorpusRecord> = BTreeMap::new();
    for row in reader.records() {
        let row = row.expect("row");
        let name = row[0].to_string();
        let root = repo().join(&row[1]);
        let items: Vec<Item> = row[2]
            .split(';')
            .flat_map(|rel| read_items(&repo().join(rel.trim()), &texts))
            .collect();
        by_name
            .entry(name.clone())
            .or_insert_with(|| CorpusRecord {
                name,
                root,
                items: Vec::new(),
            })
            .items
            .extend(items);
    }
    by_name.into_values().collect()
}
