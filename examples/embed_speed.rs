//! Times the built-in sentence embedder: load, one question, batches of 32, 2,000 questions.
//!
//! `cargo run --release --example embed_speed` (add `RAYON_NUM_THREADS=1` for one thread).
//! It prints a hash of every vector's bytes, for comparing runs and thread counts, and the
//! worst cosine to `fixtures/embed/reference.json` (run it from the repository root).

use std::time::Instant;

use onrecord::embed::{self, Embedder};

const SUBJECTS: [&str; 10] = [
    "customer data",
    "production databases",
    "backups",
    "employee laptops",
    "audit logs",
    "API credentials",
    "source code",
    "payment records",
    "support tickets",
    "vendor contracts",
];
const ASKS: [&str; 10] = [
    "Is {} encrypted at rest with keys you manage?",
    "Who can access {} and how often is that access reviewed?",
    "How long do you retain {} before it is deleted?",
    "Do you monitor {} for unauthorised changes and alert on them?",
    "Is {} covered by your incident response plan?",
    "Are {} replicated to a second region for disaster recovery?",
    "Do third parties ever process {} on your behalf?",
    "How do you classify {} under your data policy?",
    "Is multi-factor authentication required to reach {}?",
    "When was the handling of {} last tested by an outside auditor?",
];
const TAILS: [&str; 20] = [
    "",
    " Please describe.",
    " Provide evidence.",
    " Include the policy name.",
    " Answer for all regions.",
    " Describe any exceptions.",
    " Name the responsible team.",
    " State the review frequency.",
    " Attach the latest report.",
    " Explain the tooling used.",
    " Include subcontractors.",
    " Note any planned changes.",
    " Cover staging environments too.",
    " Give the last test date.",
    " Say whether this is automated.",
    " Describe the approval workflow.",
    " List the relevant certifications.",
    " Mention the logging retention.",
    " Describe how staff are trained.",
    " Explain how failures are escalated.",
];

fn questions() -> Vec<String> {
    let mut out = Vec::new();
    for tail in TAILS {
        for ask in ASKS {
            for subject in SUBJECTS {
                out.push(format!("{}{tail}", ask.replace("{}", subject)));
            }
        }
    }
    out
}

fn main() -> anyhow::Result<()> {
    let start = Instant::now();
    let embedder = Embedder::load()?;
    println!("load: {:.0} ms", ms(start));
    let start = Instant::now();
    let id = embed::model_id();
    println!("model_id {id}: {:.0} ms", ms(start));

    let questions = questions();
    let refs: Vec<&str> = questions.iter().map(String::as_str).collect();
    assert_eq!(refs.len(), 2000);

    let one = "Is customer data encrypted at rest with keys you manage? Please describe the key rotation.";
    embedder.embed(&[one])?; // warm up
    let runs = 20;
    let start = Instant::now();
    for _ in 0..runs {
        embedder.embed(&[one])?;
    }
    println!("one question: {:.1} ms", ms(start) / runs as f64);

    let start = Instant::now();
    for batch in refs[..320].chunks(32) {
        embedder.embed(batch)?;
    }
    println!("batches of 32: {:.2} ms/question", ms(start) / 320.0);

    let start = Instant::now();
    let all = embedder.embed(&refs)?;
    let total = ms(start);
    println!(
        "2000 questions: {:.1} s, {:.2} ms/question",
        total / 1000.0,
        total / 2000.0
    );

    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for v in &all {
        for x in v {
            hash = (hash ^ u64::from(x.to_bits())).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    println!("vectors hash {hash:016x}");

    // How far from sentence-transformers (f32, in Python) the built-in model is.
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("fixtures/embed/reference.json")?)?;
    let cases = json["cases"].as_array().cloned().unwrap_or_default();
    let texts: Vec<&str> = cases.iter().filter_map(|c| c["text"].as_str()).collect();
    let ours = embedder.embed(&texts)?;
    let mut worst = f32::MAX;
    for (case, v) in cases.iter().zip(&ours) {
        let want: Vec<f32> = case["vector"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|x| x.as_f64())
            .map(|x| x as f32)
            .collect();
        let norm = want.iter().map(|x| x * x).sum::<f32>().sqrt();
        let dot: f32 = want.iter().zip(v).map(|(w, x)| w * x).sum();
        worst = worst.min(dot / norm);
    }
    println!("worst cosine to sentence-transformers: {worst:.7}");
    Ok(())
}

fn ms(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1000.0
}
