//! The labeled evaluation set of `fixtures/eval/`, shared by its quality gate
//! (`tests/it/eval.rs`) and the measuring tools (`examples/eval_tools.rs`): the questions,
//! the engine over a scratch copy of the eval record, and the scores.

#![allow(dead_code)]

pub mod corpus;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use onrecord::engine::{Engine, Outcome, Status};

pub struct Labeled {
    pub id: String,
    pub split: String,
    pub expect: Vec<String>,
    pub answer: String,
    pub question: String,
}

#[derive(Default, Debug, Clone)]
pub struct Score {
    pub answerable: usize,
    /// The first citation is right and the row is not `not_on_record`.
    pub correct: usize,
    /// The best candidate is a right control, whatever the status.
    pub ranked: usize,
    pub right_answer: usize,
    pub gaps: usize,
    pub gaps_flagged: usize,
    pub answered: usize,
    pub wrong_claims: usize,
}

impl Score {
    pub fn top1(&self) -> f64 {
        self.correct as f64 / self.answerable.max(1) as f64
    }
    pub fn ranked(&self) -> f64 {
        self.ranked as f64 / self.answerable.max(1) as f64
    }
    pub fn wrong(&self) -> f64 {
        self.wrong_claims as f64 / self.answered.max(1) as f64
    }
    pub fn flagged(&self) -> f64 {
        self.gaps_flagged as f64 / self.gaps.max(1) as f64
    }

    /// Counts one question's outcome.
    pub fn add(&mut self, q: &Labeled, outcome: &Outcome) {
        let cited_right = outcome
            .citations
            .first()
            .is_some_and(|c| q.expect.contains(&c.control));
        let answer = outcome.answer.map(|a| a.as_str()).unwrap_or_default();
        if q.expect.is_empty() {
            self.gaps += 1;
            self.gaps_flagged += usize::from(outcome.status == Status::NotOnRecord);
        } else {
            self.answerable += 1;
            self.ranked += usize::from(
                outcome
                    .candidates
                    .first()
                    .is_some_and(|c| q.expect.contains(&c.control)),
            );
            let found = outcome.status != Status::NotOnRecord && cited_right;
            self.correct += usize::from(found);
            self.right_answer += usize::from(found && answer == q.answer);
        }
        if outcome.status == Status::Answered {
            self.answered += 1;
            self.wrong_claims += usize::from(!cited_right || answer != q.answer);
        }
    }

    /// Adds another score's counts to this one.
    pub fn merge(&mut self, other: &Score) {
        self.answerable += other.answerable;
        self.correct += other.correct;
        self.ranked += other.ranked;
        self.right_answer += other.right_answer;
        self.gaps += other.gaps;
        self.gaps_flagged += other.gaps_flagged;
        self.answered += other.answered;
        self.wrong_claims += other.wrong_claims;
    }

    pub fn line(&self) -> String {
        format!(
            "top-1 correct {:.1}% ({}/{}), ranked first {:.1}% ({}/{}), right answer {}/{}, wrong claims {:.1}% ({}/{} answered), gaps flagged {:.1}% ({}/{})",
            self.top1() * 100.0,
            self.correct,
            self.answerable,
            self.ranked() * 100.0,
            self.ranked,
            self.answerable,
            self.right_answer,
            self.answerable,
            self.wrong() * 100.0,
            self.wrong_claims,
            self.answered,
            self.flagged() * 100.0,
            self.gaps_flagged,
            self.gaps
        )
    }
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The batch a question was written in (`fixtures/eval/README.md`): the first 349, then four
/// batches of 150 written after the engine was tuned, the last two in a customer's own words
/// ("fresh wording").
pub fn batch(id: &str) -> &'static str {
    let n: usize = id[1..].parse().unwrap_or(0);
    match (&id[..1], n) {
        ("Q", _) => "first",
        (_, 1..=300) => "fresh-1+2",
        (_, 301..=450) => "fresh-3",
        _ => "fresh-4",
    }
}

pub fn questions() -> Vec<Labeled> {
    let mut reader =
        csv::Reader::from_path(repo().join("fixtures/eval/questions.csv")).expect("questions.csv");
    reader
        .records()
        .map(|r| {
            let r = r.expect("row");
            Labeled {
                id: r[0].to_string(),
                split: r[1].to_string(),
                expect: if &r[2] == "-" {
                    Vec::new()
                } else {
                    r[2].split(';').map(|s| s.trim().to_string()).collect()
                },
                answer: r[3].to_string(),
                question: r[4].to_string(),
            }
        })
        .collect()
}

/// `ONRECORD_EVAL_RECORD=record-phrased` measures the eval record with the knowledge files of
/// `fixtures/eval/record-phrased/` instead (the same controls with 534 more phrasings; see
/// docs/engine.md). The bars hold only for the record the questions were written on.
pub fn record_variant() -> Option<String> {
    std::env::var("ONRECORD_EVAL_RECORD")
        .ok()
        .filter(|v| v != "record")
}

/// Copies a directory tree.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let dest = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &dest);
        } else {
            std::fs::copy(&path, &dest).unwrap();
        }
    }
}

/// Copies a record's own files (knowledge, mappings and the files at its root) from `from`
/// (which may be the repository root) to `to`.
pub fn copy_record(from: &Path, to: &Path) {
    for dir in ["knowledge", "mappings"] {
        copy_dir(&from.join(dir), &to.join(dir));
    }
    for file in ["profile.toml", "thesaurus.txt", "not-on-record.toml"] {
        if from.join(file).is_file() {
            std::fs::copy(from.join(file), to.join(file)).unwrap();
        }
    }
}

/// The engine over a scratch copy of the eval record (the copy lives as long as the
/// directory).
pub fn eval_engine() -> (tempfile::TempDir, Engine) {
    let dir = tempfile::tempdir().unwrap();
    let eval = repo().join("fixtures/eval");
    copy_dir(&eval.join("record"), dir.path());
    if let Some(variant) = record_variant() {
        let knowledge = dir.path().join("knowledge");
        std::fs::remove_dir_all(&knowledge).unwrap();
        copy_dir(&eval.join(variant).join("knowledge"), &knowledge);
    }
    let engine = Engine::open(dir.path()).expect("eval record");
    (dir, engine)
}

/// Scores every question, by split (`tune`, `holdout`, `all`) and by split and batch
/// (`tune fresh-3`); with the `tune` misses, one line each (the holdout's are never listed:
/// reading them would tune to them).
pub fn evaluate(engine: &Engine, questions: &[Labeled]) -> (BTreeMap<String, Score>, Vec<String>) {
    let texts: Vec<&str> = questions.iter().map(|q| q.question.as_str()).collect();
    engine.prepare(&texts).expect("prepare");
    let mut scores: BTreeMap<String, Score> = BTreeMap::new();
    let mut misses = Vec::new();
    for q in questions {
        let outcome = engine.ask(&q.question).expect("ask");
        let by_batch = format!("{} {}", q.split, batch(&q.id));
        for split in [q.split.clone(), "all".to_string(), by_batch] {
            scores.entry(split).or_default().add(q, &outcome);
        }
        let top = outcome.citations.first().map(|c| c.control.clone());
        let answer = outcome.answer.map(|a| a.as_str()).unwrap_or_default();
        let ok = if q.expect.is_empty() {
            outcome.status == Status::NotOnRecord
        } else {
            outcome.status != Status::NotOnRecord
                && top.as_ref().is_some_and(|c| q.expect.contains(c))
                && (outcome.status != Status::Answered || answer == q.answer)
        };
        if !ok && q.split == "tune" {
            misses.push(format!(
                "{} [{}] expect {:?}/{} got {} {:?} {} conf {:.2} ({}): {}",
                q.id,
                q.split,
                q.expect,
                q.answer,
                outcome.status.as_str(),
                top,
                answer,
                outcome.confidence,
                outcome.reason.code.as_str(),
                q.question
            ));
        }
    }
    (scores, misses)
}

/// What a reviewer who knows the labels decides for `q` on a row that proposed the control
/// `proposed` with `proposed_answer`, and the (control, answer) that decision means (`None`
/// for not on the record): `reject` for a gap, `accept` when the proposal is right, else the
/// labelled control, with the answer when it is not that control's own. `None` when the
/// label asks for a yes from a control whose answer is not yes, which `learn` refuses.
#[allow(clippy::type_complexity)]
pub fn reviewer_decision(
    q: &Labeled,
    proposed: Option<&str>,
    proposed_answer: Option<&str>,
    record: &onrecord::record::Record,
) -> Option<(String, Option<(String, String)>)> {
    if q.expect.is_empty() {
        return Some(("reject".into(), None));
    }
    let control = match proposed {
        Some(p) if q.expect.iter().any(|e| e == p) => p.to_string(),
        _ => q.expect[0].clone(),
    };
    let own = record.control(&control)?.answer.as_str();
    if q.answer == "yes" && own != "yes" {
        return None;
    }
    let meant = Some((control.clone(), q.answer.clone()));
    if proposed == Some(control.as_str()) && proposed_answer == Some(q.answer.as_str()) {
        Some(("accept".into(), meant))
    } else if own == q.answer {
        Some((control, meant))
    } else {
        Some((format!("{control}: {}", q.answer), meant))
    }
}

/// The questions split in two halves by a seeded shuffle (xorshift64, Fisher-Yates).
pub fn halves(n: usize, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut order: Vec<usize> = (0..n).collect();
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    for i in (1..n).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        order.swap(i, (state % (i as u64 + 1)) as usize);
    }
    let b = order.split_off(n / 2);
    (order, b)
}

/// One halving of the growth measurement: the other half's scores without learning, after
/// `learn` of every decision of the first half, and (when measured) after adding the same
/// questions as plain phrasings, as a record kept by hand would.
pub struct Halving {
    pub seed: u64,
    pub decisions: usize,
    pub before: Score,
    pub after: Score,
    pub naive: Option<Score>,
}

/// Learns every decision a reviewer makes on half of `questions` (answered rows too, as
/// `fill --review-all` lists them) into a copy of the record at `base_dir`, and scores the
/// other half. `outcomes` are `base`'s answers to `questions`.
pub fn growth(
    base_dir: &Path,
    base: &Engine,
    questions: &[Labeled],
    outcomes: &[Outcome],
    seed: u64,
    naive: bool,
) -> Halving {
    use onrecord::review::{Choice, Decided};
    let (learned, other) = halves(questions.len(), seed);
    let mut seen = std::collections::HashSet::new();
    let mut decided = Vec::new();
    for &i in &learned {
        let (q, outcome) = (&questions[i], &outcomes[i]);
        if !seen.insert(onrecord::record::question_key(&q.question)) {
            continue;
        }
        let proposed = base.proposed(outcome);
        let answer = outcome.answer.map(|a| a.as_str());
        let Some((text, _)) =
            reviewer_decision(q, proposed.map(|c| c.id.as_str()), answer, &base.record)
        else {
            continue;
        };
        decided.push(Decided {
            place: q.id.clone(),
            question: q.question.clone(),
            proposed: proposed.map(|c| c.id.clone()),
            proposed_answer: answer.and_then(onrecord::report::parse_answer),
            choice: Choice::parse(&text).expect("a decision the reviewer wrote"),
        });
    }
    let today = onrecord::record::Date::parse("2026-11-23").unwrap();
    let learning = onrecord::learn::plan(&base.record, &decided, today).expect("learn");
    let score = |engine: &Engine| {
        let half: Vec<&Labeled> = other.iter().map(|&i| &questions[i]).collect();
        let texts: Vec<&str> = half.iter().map(|q| q.question.as_str()).collect();
        engine.prepare(&texts).expect("prepare");
        let mut score = Score::default();
        for q in half {
            score.add(q, &engine.ask(&q.question).expect("ask"));
        }
        score
    };
    let learn_into = |plain: bool| {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(base_dir, dir.path());
        for change in &learning.changes {
            if plain && change.path == onrecord::record::NOT_ON_RECORD_TOML {
                continue;
            }
            let mut text = change.after.clone();
            if plain {
                text = text.replace(", learned = 2026-11-23", "");
            }
            std::fs::write(dir.path().join(&change.path), text).unwrap();
        }
        let engine = Engine::open(dir.path()).expect("the learned record opens");
        score(&engine)
    };
    let mut before = Score::default();
    for &i in &other {
        before.add(&questions[i], &outcomes[i]);
    }
    Halving {
        seed,
        decisions: decided.len(),
        before,
        after: learn_into(false),
        naive: naive.then(|| learn_into(true)),
    }
}
