//! Sentence embeddings: all-MiniLM-L6-v2 (sentence-transformers), fine-tuned on questionnaire
//! questions and the controls that answer them (`training/biencoder/`), run by candle on the CPU.
//!
//! The model's weights (f16, converted to f32 at load), tokenizer and config are built into
//! the binary from `models/all-minilm-l6-v2/`, so an installed binary needs no file beside it
//! and nothing is ever downloaded. Vectors are what sentence-transformers computes: the
//! attention-masked mean of the last hidden states, L2-normalised; texts are truncated at the
//! model's 256 tokens.
//!
//! Invariants: the same texts in the same order give the same vectors, bit for bit, whatever
//! the thread count; candle and tokenizers are used from this module only.

use std::sync::OnceLock;

use anyhow::{Context, Result, anyhow};
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::{Tokenizer, TruncationParams};

/// Dimensions of every vector.
pub const DIM: usize = 384;

/// One unit-length sentence embedding.
pub type Vector = [f32; DIM];

// Statics, not consts: a const is copied into each place that names it (45 MB each).
static WEIGHTS: &[u8] = include_bytes!("../models/all-minilm-l6-v2/model.safetensors");
static TOKENIZER: &[u8] = include_bytes!("../models/all-minilm-l6-v2/tokenizer.json");
static CONFIG: &[u8] = include_bytes!("../models/all-minilm-l6-v2/config.json");

/// sentence-transformers' `max_seq_length` for this model (the tokenizer.json says 128, the
/// model was trained and is run at 256), special tokens included.
const MAX_TOKENS: usize = 256;

/// Texts per forward pass: enough to keep the matrix products efficient.
const BATCH: usize = 32;

/// Tokens per forward pass, padding included: long texts go fewer to a batch, since attention
/// grows with the square of the length (8 texts of 256 tokens: 25 MB per attention tensor).
const BATCH_TOKENS: usize = BATCH * 64;
/// The built-in model (all-MiniLM-L6-v2, fine-tuned), loaded and ready to embed.
pub struct Embedder {
    model: BertModel,
    tokenizer: Tokenizer,
}

fn load_model() -> Result<BertModel> {
    let config: Config =
        serde_json::from_slice(CONFIG).context("could not read the built-in model config")?;
    // f32, not the file's f16: on the CPU f32 is both faster and closer to the reference
    // (see models/all-minilm-l6-v2/NOTICE.md).
    let weights = VarBuilder::from_slice_safetensors(WEIGHTS, DType::F32, &Device::Cpu)
        .context("could not read the built-in model weights")?;
    BertModel::load(weights, &config).context("could not load the built-in model")
}

fn load_tokenizer() -> Result<Tokenizer> {
    let mut tokenizer = Tokenizer::from_bytes(TOKENIZER)
        .map_err(|err| anyhow!("could not read the built-in tokenizer: {err}"))?;
    // Padding is done here, per batch; the file's fixed 128 and truncation are replaced.
    tokenizer.with_padding(None);
    tokenizer
        .with_truncation(Some(TruncationParams {
            max_length: MAX_TOKENS,
            ..TruncationParams::default()
        }))
        .map_err(|err| anyhow!("could not set the tokenizer's truncation: {err}"))?;
    Ok(tokenizer)
}

impl Embedder {
    /// Loads the model built into the binary (include_bytes! of the committed files, so an
    /// installed binary needs no files beside it).
    pub fn load() -> Result<Embedder> {
        // The tokenizer (a 0.5 MB JSON) is read on a second thread while the weights are
        // converted: together they are most of a one-question `ask`.
        let (model, tokenizer) = std::thread::scope(|scope| {
            let tokenizer = scope.spawn(load_tokenizer);
            let model = load_model();
            let tokenizer = tokenizer
                .join()
                .map_err(|_| anyhow!("the tokenizer's loading thread failed"))?;
            Ok::<_, anyhow::Error>((model?, tokenizer?))
        })?;
        Ok(Embedder { model, tokenizer })
    }

    /// Unit-length mean-pooled sentence embeddings (attention-masked mean over tokens, then
    /// L2-normalised, as sentence-transformers does), one per text, in order. Batches
    /// internally (up to 32 texts per forward pass, fewer when they are long, padded),
    /// truncates at 256 tokens like the model's max_seq_length.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vector>> {
        let mut ids = Vec::with_capacity(texts.len());
        for (i, text) in texts.iter().enumerate() {
            let encoding = self
                .tokenizer
                .encode(*text, true)
                .map_err(|err| anyhow!("could not tokenize text {}: {err}", i + 1))?;
            ids.push(encoding.get_ids().to_vec());
        }
        // Texts of similar length share a batch, so little of each batch is padding. The
        // order is a function of the input alone (ties by position), so runs agree.
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| (ids[i].len(), i));

        let mut out = vec![[0.0; DIM]; texts.len()];
        let mut rest = order.as_slice();
        while !rest.is_empty() {
            // Only texts of the same length share a batch: with no padding, a text's vector
            // is the same bits whatever it is embedded with, so a question gets the same
            // vector alone (`ask`) as among a questionnaire's (`fill`).
            let width = ids[rest[0]].len();
            let mut take = 1;
            while take < rest.len().min(BATCH)
                && ids[rest[take]].len() == width
                && (take + 1) * width <= BATCH_TOKENS
            {
                take += 1;
            }
            let (chunk, tail) = rest.split_at(take);
            rest = tail;
            let batch: Vec<&[u32]> = chunk.iter().map(|&i| ids[i].as_slice()).collect();
            for (&i, vector) in chunk.iter().zip(self.forward(&batch)?) {
                out[i] = vector;
            }
        }
        Ok(out)
    }

    /// One forward pass over texts already tokenized, padded to the longest.
    fn forward(&self, batch: &[&[u32]]) -> Result<Vec<Vector>> {
        let rows = batch.len();
        let width = batch.iter().map(|ids| ids.len()).max().unwrap_or(0);
        let mut input = vec![0u32; rows * width];
        let mut mask = vec![0u32; rows * width];
        for (row, ids) in batch.iter().enumerate() {
            input[row * width..row * width + ids.len()].copy_from_slice(ids);
            mask[row * width..row * width + ids.len()].fill(1);
        }
        let device = &self.model.device;
        let input = Tensor::from_vec(input, (rows, width), device)?;
        let mask = Tensor::from_vec(mask, (rows, width), device)?;
        let types = input.zeros_like()?;
        let hidden = self
            .model
            .forward(&input, &types, Some(&mask))
            .context("the embedding model failed")?;
        let hidden: Vec<f32> = hidden.to_dtype(DType::F32)?.flatten_all()?.to_vec1()?;

        // Pooling in plain Rust, in a fixed order: the mean over the text's own tokens (the
        // padding is masked out), then unit length.
        let mut vectors = Vec::with_capacity(rows);
        for (row, ids) in batch.iter().enumerate() {
            let mut sum = [0.0f32; DIM];
            for token in 0..ids.len() {
                let start = (row * width + token) * DIM;
                for (s, h) in sum.iter_mut().zip(&hidden[start..start + DIM]) {
                    *s += h;
                }
            }
            let count = (ids.len() as f32).max(1e-9);
            sum.iter_mut().for_each(|s| *s /= count);
            let norm = sum.iter().map(|s| s * s).sum::<f32>().sqrt().max(1e-12);
            sum.iter_mut().for_each(|s| *s /= norm);
            vectors.push(sum);
        }
        Ok(vectors)
    }
}

/// A short stable id of the built-in model: the first 16 hex digits of a 64-bit FNV-1a hash
/// of the weights, tokenizer and config bytes, computed once. It changes when any of them
/// does, so caches of vectors stamped with it go stale with the model.
pub fn model_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| {
        let mut hash = Fnv::default();
        for part in [WEIGHTS, TOKENIZER, CONFIG] {
            hash.write(&(part.len() as u64).to_le_bytes());
            hash.write(part);
        }
        format!("{:016x}", hash.0)
    })
}

/// 64-bit FNV-1a, eight bytes at a time (a stable, dependency-free hash; not a security one:
/// it only tells model versions apart).
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            let mut buf = [0u8; 8];
            buf.copy_from_slice(word);
            self.mix(u64::from_le_bytes(buf));
        }
        for &byte in words.remainder() {
            self.mix(u64::from(byte));
        }
    }

    fn mix(&mut self, value: u64) {
        self.0 = (self.0 ^ value).wrapping_mul(0x0000_0100_0000_01b3);
    }
}

/// Cosine similarity of two unit vectors: their dot product.
pub fn cosine(a: &Vector, b: &Vector) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_id_is_sixteen_hex_digits_and_stable() {
        let id = model_id();
        assert_eq!(id.len(), 16);
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(id, model_id());
    }

    #[test]
    fn fnv_tells_apart_inputs_that_differ_by_one_byte() {
        let hash = |bytes: &[u8]| {
            let mut h = Fnv::default();
            h.write(bytes);
            h.0
        };
        assert_ne!(hash(b"0123456789"), hash(b"0123456788"));
        assert_ne!(hash(b"01234567"), hash(b"01234568"));
    }

    #[test]
    fn cosine_of_a_unit_vector_with_itself_is_one() {
        let mut v = [0.0; DIM];
        v[0] = 0.6;
        v[1] = 0.8;
        assert!((cosine(&v, &v) - 1.0).abs() < 1e-6);
    }

    #[test]
    fn empty_input_and_empty_text() {
        let embedder = Embedder::load().unwrap();
        assert!(embedder.embed(&[]).unwrap().is_empty());
        let v = embedder.embed(&[""]).unwrap();
        assert!((cosine(&v[0], &v[0]) - 1.0).abs() < 1e-5);
    }

    #[test]
    fn long_text_is_truncated_not_refused() {
        let embedder = Embedder::load().unwrap();
        let long = "access review ".repeat(400);
        let v = embedder.embed(&[long.as_str()]).unwrap();
        assert!((cosine(&v[0], &v[0]) - 1.0).abs() < 1e-5);
    }
}
