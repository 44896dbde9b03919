//! The built-in sentence embedder against the real sentence-transformers
//! (`fixtures/embed/reference.json`, written by `tools/embed_reference.py`).

use onrecord::embed::{DIM, Embedder, Vector, cosine};

use crate::repo;

struct Case {
    text: String,
    vector: Vector,
}

fn reference() -> Vec<Case> {
    let path = repo().join("fixtures/embed/reference.json");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    json["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|case| {
            let values: Vec<f32> = case["vector"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap() as f32)
                .collect();
            let mut vector: Vector = values.try_into().unwrap();
            // The fixture is rounded to 6 decimals: back to unit length.
            let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
            vector.iter_mut().for_each(|x| *x /= norm);
            Case {
                text: case["text"].as_str().unwrap().to_owned(),
                vector,
            }
        })
        .collect()
}

fn embed_all(cases: &[Case]) -> Vec<Vector> {
    let texts: Vec<&str> = cases.iter().map(|c| c.text.as_str()).collect();
    Embedder::load().unwrap().embed(&texts).unwrap()
}

#[test]
fn matches_sentence_transformers() {
    let cases = reference();
    assert!(cases.len() >= 6);
    for (case, ours) in cases.iter().zip(embed_all(&cases)) {
        let similarity = cosine(&ours, &case.vector);
        assert!(similarity >= 0.9999, "{similarity} for {:?}", case.text);
        let norm = cosine(&ours, &ours);
        assert!(
            (norm - 1.0).abs() < 1e-5,
            "|v|² = {norm} for {:?}",
            case.text
        );
    }
}

#[test]
fn paraphrases_score_higher_than_unrelated_sentences() {
    let v = embed_all(&reference());
    // 0/1: encryption at rest; 2/3: key rotation; 5: the cafeteria.
    for (a, b) in [(0, 1), (2, 3)] {
        let close = cosine(&v[a], &v[b]);
        for other in [4, 5] {
            assert!(close > cosine(&v[a], &v[other]), "{a}/{b} vs {a}/{other}");
            assert!(close > cosine(&v[b], &v[other]), "{a}/{b} vs {b}/{other}");
        }
    }
    assert!(cosine(&v[0], &v[5]) < 0.3);
}

#[test]
fn a_text_gets_the_same_bits_whatever_it_is_embedded_with() {
    let cases = reference();
    let texts: Vec<&str> = cases.iter().map(|c| c.text.as_str()).collect();
    let embedder = Embedder::load().unwrap();
    let bits = |v: &Vector| -> Vec<u32> { v.iter().map(|x| x.to_bits()).collect() };

    let first = embedder.embed(&texts).unwrap();
    assert_eq!(first.len(), texts.len());
    // Alone, among its reference texts, and among 40 (several to a forward pass): only
    // texts of one length share a pass, so nothing is padded and nothing summed otherwise.
    let many: Vec<&str> = texts.iter().copied().cycle().take(40).collect();
    let batched = embedder.embed(&many).unwrap();
    for (i, text) in texts.iter().enumerate() {
        let alone = embedder.embed(&[text]).unwrap();
        for other in [&first[i], &batched[i], &batched[i + texts.len()]] {
            assert_eq!(bits(&alone[0]), bits(other), "{text:?}");
        }
    }
    assert_eq!(first[0].len(), DIM);
}

#[test]
fn a_rebuilt_record_carries_over_the_vectors_of_unchanged_texts() {
    use onrecord::engine::semantic;
    use onrecord::limits::Limits;
    let dir = crate::copy_example();
    let record = onrecord::record::load(dir.path(), &Limits::default())
        .unwrap()
        .record;
    let first = semantic::build(&record, None).unwrap();
    // A previous file whose every vector was altered: what is carried over is the previous
    // file's, so the rebuilt file equals it, not a fresh embedding.
    let marked: Vec<u8> = {
        let mut bytes = first.clone();
        let at = bytes.len() - 4;
        bytes[at] ^= 1;
        bytes
    };
    assert_eq!(semantic::build(&record, Some(&marked)).unwrap(), marked);
    // Another layout or model is not carried over.
    assert_eq!(semantic::build(&record, Some(b"other")).unwrap(), first);
}
