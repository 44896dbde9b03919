//! Semantic neighbours: the question's sentence embedding ([`crate::embed`]) against each
//! control's.
//!
//! A control is embedded as its title with its statement, its title alone, and each of its
//! authored `questions`; its similarity to a question is the best of those. Learned
//! questions are not embedded: with the fine-tuned model they lifted sibling controls more
//! often than the right one (docs/learn.md); a learned one answers its own question. The
//! control vectors are derived from the record once and stored with its index
//! (`vectors.bin`, stamped by the same fingerprint, which covers the model's id), so a run
//! with a warm index embeds only its questions; after a record change, the vectors of
//! unchanged texts are carried over from the previous index, so only the changed texts are
//! embedded. Questions are embedded through a per-process memo: a question asked twice,
//! or by two questionnaires of one `coverage` run, is embedded once.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use anyhow::{Result, anyhow, bail};

use crate::embed::{self, DIM, Embedder, Vector};
use crate::record::Record;

/// The name of the derived file beside the index.
pub const FILE: &str = "vectors.bin";

/// Bump when what is embedded per control changes.
const LAYOUT: &str = "onrecord-vectors-4";

/// The most texts the per-process memo keeps (about 1.6 KB each).
const MEMO_LIMIT: usize = 200_000;

/// What the fingerprint of a record's derived files must also cover.
pub fn stamp() -> [&'static str; 2] {
    [LAYOUT, embed::model_id()]
}

/// The texts embedded for each control, with the control's index.
pub fn control_texts(record: &Record) -> Vec<(usize, String)> {
    let mut texts = Vec::new();
    for (i, control) in record.controls.iter().enumerate() {
        texts.push((i, format!("{}. {}", control.title, control.statement)));
        texts.push((i, control.title.clone()));
        for q in control.authored_questions() {
            texts.push((i, q.text.clone()));
        }
    }
    texts
}

/// Starts loading the model on its own thread, so that it is ready, or nearly, once the
/// record and its index are open: an `ask` waits for the longer of the two, not their sum.
pub fn preload() {
    std::thread::spawn(|| {
        let _ = embedder();
    });
}

/// The model, loaded once per process.
fn embedder() -> Result<&'static Embedder> {
    static MODEL: OnceLock<std::result::Result<Embedder, String>> = OnceLock::new();
    MODEL
        .get_or_init(|| Embedder::load().map_err(|e| format!("{e:#}")))
        .as_ref()
        .map_err(|e| anyhow!("{e}"))
}

fn memo() -> &'static Mutex<HashMap<String, Vector>> {
    static MEMO: OnceLock<Mutex<HashMap<String, Vector>>> = OnceLock::new();
    MEMO.get_or_init(Default::default)
}

/// Embeds `texts`, each distinct text once per process.
pub fn embed(texts: &[&str]) -> Result<Vec<Vector>> {
    let poisoned = |_| anyhow!("embedding memo poisoned");
    // What the memo knows now is taken out before embedding the rest: a memo cleared for
    // room afterwards cannot lose a vector this call needs.
    let known: Vec<Option<Vector>> = {
        let memo = memo().lock().map_err(poisoned)?;
        texts.iter().map(|t| memo.get(*t).copied()).collect()
    };
    let mut missing: Vec<&str> = texts
        .iter()
        .zip(&known)
        .filter(|(_, k)| k.is_none())
        .map(|(t, _)| *t)
        .collect();
    missing.sort_unstable();
    missing.dedup();
    let fresh = if missing.is_empty() {
        Vec::new()
    } else {
        embedder()?.embed(&missing)?
    };
    {
        let mut memo = memo().lock().map_err(poisoned)?;
        if memo.len() + fresh.len() > MEMO_LIMIT {
            memo.clear();
        }
        for (text, vector) in missing.iter().zip(&fresh) {
            memo.insert((*text).to_string(), *vector);
        }
    }
    texts
        .iter()
        .zip(known)
        .map(|(text, known)| {
            known
                .or_else(|| missing.binary_search(text).ok().map(|at| fresh[at]))
                .ok_or_else(|| anyhow!("a text was not embedded"))
        })
        .collect()
}

/// The derived file's first bytes: its layout and the model that made its vectors.
fn header() -> Vec<u8> {
    format!("{LAYOUT} {}\n", embed::model_id()).into_bytes()
}

/// The bytes of one vector entry: its control (u32), the hash of its text (u64), 384 f32.
const ENTRY: usize = 4 + 8 + 4 * DIM;

/// A stable hash of a text (64-bit FNV-1a), to find a vector again after a record change.
fn text_hash(text: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in text.as_bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// The entries of a derived file of this layout and model: (control, text hash, vector).
fn entries(bytes: &[u8]) -> Result<Vec<(usize, u64, Vector)>> {
    let head = header();
    let Some(body) = bytes.strip_prefix(head.as_slice()) else {
        bail!("vectors: another layout or model");
    };
    if body.len() % ENTRY != 0 {
        bail!(
            "vectors: {} bytes is no whole number of entries",
            body.len()
        );
    }
    Ok(body
        .chunks_exact(ENTRY)
        .map(|chunk| {
            let word = |at: usize| [chunk[at], chunk[at + 1], chunk[at + 2], chunk[at + 3]];
            let owner = u32::from_le_bytes(word(0)) as usize;
            let mut hash = [0u8; 8];
            hash.copy_from_slice(&chunk[4..12]);
            let mut vector = [0f32; DIM];
            for (k, x) in vector.iter_mut().enumerate() {
                *x = f32::from_le_bytes(word(12 + 4 * k));
            }
            (owner, u64::from_le_bytes(hash), vector)
        })
        .collect())
}

/// The record's control vectors as the derived file stores them. The vectors of texts the
/// `previous` file (the record's last index) already holds are carried over, so a change to
/// one control embeds that control's texts only.
pub fn build(record: &Record, previous: Option<&[u8]>) -> Result<Vec<u8>> {
    let texts = control_texts(record);
    let known: HashMap<u64, Vector> = previous
        .and_then(|bytes| entries(bytes).ok())
        .unwrap_or_default()
        .into_iter()
        .map(|(_, hash, vector)| (hash, vector))
        .collect();
    let hashes: Vec<u64> = texts.iter().map(|(_, t)| text_hash(t)).collect();
    let missing: Vec<&str> = texts
        .iter()
        .zip(&hashes)
        .filter(|(_, h)| !known.contains_key(*h))
        .map(|((_, t), _)| t.as_str())
        .collect();
    let fresh = embed(&missing)?;
    let fresh: HashMap<&str, Vector> = missing.iter().copied().zip(fresh).collect();
    let mut bytes = header();
    bytes.reserve(texts.len() * ENTRY);
    for ((owner, text), hash) in texts.iter().zip(&hashes) {
        let vector = match known.get(hash) {
            Some(v) => *v,
            None => *fresh
                .get(text.as_str())
                .ok_or_else(|| anyhow!("a control text was not embedded"))?,
        };
        bytes.extend_from_slice(&(*owner as u32).to_le_bytes());
        bytes.extend_from_slice(&hash.to_le_bytes());
        for x in vector {
            bytes.extend_from_slice(&x.to_le_bytes());
        }
    }
    Ok(bytes)
}

/// The control vectors of a record.
pub struct Semantic {
    owners: Vec<usize>,
    vectors: Vec<Vector>,
    controls: usize,
}

impl Semantic {
    /// Reads [`build`]'s bytes for a record of `controls` controls.
    pub fn decode(bytes: &[u8], controls: usize) -> Result<Semantic> {
        let mut owners = Vec::new();
        let mut vectors = Vec::new();
        for (owner, _, vector) in entries(bytes)? {
            if owner >= controls {
                bail!("vectors: control {owner} of {controls}");
            }
            owners.push(owner);
            vectors.push(vector);
        }
        Ok(Semantic {
            owners,
            vectors,
            controls,
        })
    }

    /// Each control's similarity to `question`: the best of its texts'.
    pub fn similarities(&self, question: &Vector) -> Vec<f32> {
        let mut best = vec![f32::MIN; self.controls];
        for (owner, vector) in self.owners.iter().zip(&self.vectors) {
            let s = embed::cosine(question, vector);
            if s > best[*owner] {
                best[*owner] = s;
            }
        }
        for s in &mut best {
            if *s == f32::MIN {
                *s = 0.0;
            }
        }
        best
    }
}
