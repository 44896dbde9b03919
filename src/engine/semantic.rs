//! Semantic neighbours: the question's sentence embedding (all-MiniLM-L6-v2, [`crate::embed`])
//! against each control's.
//!
//! A control is embedded as its title with its statement, its title alone, and each of its
//! `questions`; its similarity to a question is the best of those. The control vectors are
//! derived from the record once and stored with its index (`vectors.bin`, stamped by the
//! same fingerprint, which covers the model's id), so a run with a warm index embeds only
//! its questions. Questions are embedded through a per-process memo: a question asked twice,
//! or by two questionnaires of one `coverage` run, is embedded once.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use anyhow::{Result, anyhow, bail};

use crate::embed::{self, DIM, Embedder, Vector};
use crate::record::Record;

/// The name of the derived file beside the index.
pub const FILE: &str = "vectors.bin";

/// Bump when what is embedded per control changes.
const LAYOUT: &str = "onrecord-vectors-1";

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
        for q in &control.questions {
            texts.push((i, q.text.clone()));
        }
    }
    texts
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
    let missing: Vec<&str> = {
        let memo = memo()
            .lock()
            .map_err(|_| anyhow!("embedding memo poisoned"))?;
        let mut missing: Vec<&str> = texts
            .iter()
            .copied()
            .filter(|t| !memo.contains_key(*t))
            .collect();
        missing.sort_unstable();
        missing.dedup();
        missing
    };
    let fresh = if missing.is_empty() {
        Vec::new()
    } else {
        embedder()?.embed(&missing)?
    };
    let mut memo = memo()
        .lock()
        .map_err(|_| anyhow!("embedding memo poisoned"))?;
    if memo.len() + fresh.len() > MEMO_LIMIT {
        memo.clear();
    }
    for (text, vector) in missing.iter().zip(&fresh) {
        memo.insert((*text).to_string(), *vector);
    }
    let mut out = Vec::with_capacity(texts.len());
    for text in texts {
        match memo.get(*text) {
            Some(v) => out.push(*v),
            None => match missing.iter().position(|m| m == text) {
                Some(at) => out.push(fresh[at]),
                None => bail!("a text was not embedded"),
            },
        }
    }
    Ok(out)
}

/// The record's control vectors as the derived file stores them: the count, then each
/// vector's owner (u32) and 384 f32, little-endian.
pub fn build(record: &Record) -> Result<Vec<u8>> {
    let texts = control_texts(record);
    let refs: Vec<&str> = texts.iter().map(|(_, t)| t.as_str()).collect();
    let vectors = embed(&refs)?;
    let mut bytes = Vec::with_capacity(8 + vectors.len() * (4 + 4 * DIM));
    bytes.extend_from_slice(&(vectors.len() as u64).to_le_bytes());
    for ((owner, _), vector) in texts.iter().zip(&vectors) {
        bytes.extend_from_slice(&(*owner as u32).to_le_bytes());
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
        let count = bytes
            .get(..8)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_le_bytes)
            .ok_or_else(|| anyhow!("vectors: too short"))? as usize;
        let each = 4 + 4 * DIM;
        if bytes.len() != 8 + count * each {
            bail!("vectors: {} bytes for {count} vectors", bytes.len());
        }
        let mut owners = Vec::with_capacity(count);
        let mut vectors = Vec::with_capacity(count);
        for chunk in bytes[8..].chunks_exact(each) {
            let owner = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]) as usize;
            if owner >= controls {
                bail!("vectors: control {owner} of {controls}");
            }
            let mut vector = [0f32; DIM];
            for (x, b) in vector.iter_mut().zip(chunk[4..].chunks_exact(4)) {
                *x = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
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
