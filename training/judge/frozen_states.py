#!/usr/bin/env python3
"""Two cheap judges over the shipped sentence model's frozen token states, measured leave
one record out (docs/engine.md, "A trained judge"): neither shipped.

    python3 training/judge/frozen_states.py DUMP [--method li|fusion] [--only RECORD]

DUMP is `cargo run --release --example eval_tools -- corpus --dump DUMP`. The last hidden
state of every token of each question and each control ("title. statement") is computed
once with models/all-minilm-l6-v2 (what the engine computes anyway when it embeds them);
then, per held-out record, a judge is trained on the other records' (question, candidate)
pairs (the first four candidates; a right control is 1) and scored on the held-out one:

- `li`, late interaction: each question token's best cosine among the control's tokens,
  after a learned projection, averaged with learned token weights;
- `fusion`: a two-layer transformer (d = 128) over both token sequences, mean pooled.

Prints, per record, the AUC of answerable against not answerable for the engine's best
candidate (the engine's confidence, the judge, and the two combined by a logistic
regression fitted on the training records), and the share of answerable questions whose
right control is first before and after reordering by the judge. Seeded; CPU; needs torch,
transformers, safetensors, tokenizers, scikit-learn.
"""

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file
from sklearn.linear_model import LogisticRegression
from tokenizers import Tokenizer
from transformers import BertConfig, BertModel

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "training"))
from corpus import records, seeded  # noqa: E402

MODEL = REPO / "models/all-minilm-l6-v2"
SEED = 7
SPECIAL = {101, 102}  # [CLS], [SEP]
CANDIDATES = 4


def token_states(texts):
    """Per text, the frozen model's last hidden state of each token but [CLS] and [SEP]."""
    bert = BertModel(BertConfig.from_json_file(str(MODEL / "config.json")), add_pooling_layer=False)
    bert.load_state_dict({k: v.float() for k, v in load_file(str(MODEL / "model.safetensors")).items()}, strict=False)
    bert.eval()
    tok = Tokenizer.from_file(str(MODEL / "tokenizer.json"))
    tok.no_padding()
    tok.no_truncation()
    enc = sorted(((t, tok.encode(t).ids[:256]) for t in set(texts)), key=lambda e: len(e[1]))
    out = {}
    for b in range(0, len(enc), 32):
        chunk = enc[b : b + 32]
        width = max(len(ids) for _, ids in chunk)
        ids = torch.tensor([ids + [0] * (width - len(ids)) for _, ids in chunk])
        with torch.no_grad():
            h = bert(input_ids=ids, attention_mask=(ids != 0).long(), token_type_ids=torch.zeros_like(ids)).last_hidden_state
        for (text, i), states in zip(chunk, h):
            keep = torch.tensor([t not in SPECIAL for t in i])
            out[text] = states[: len(i)][keep]
    return out


class LateInteraction(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.p = torch.nn.Linear(384, 384, bias=False)
        torch.nn.init.eye_(self.p.weight)
        self.w = torch.nn.Linear(384, 1)
        torch.nn.init.zeros_(self.w.weight)
        torch.nn.init.zeros_(self.w.bias)
        self.a = torch.nn.Parameter(torch.tensor(10.0))
        self.b = torch.nn.Parameter(torch.tensor(-7.0))

    def forward(self, q, qm, c, cm):
        pq = torch.nn.functional.normalize(self.p(q), dim=-1)
        pc = torch.nn.functional.normalize(self.p(c), dim=-1)
        best = torch.einsum("bid,bjd->bij", pq, pc).masked_fill(~cm[:, None, :], -2.0).max(-1).values
        w = torch.nn.functional.softplus(self.w(q).squeeze(-1)).masked_fill(~qm, 0.0)
        return self.a * (w * best).sum(-1) / w.sum(-1).clamp(min=1e-6) + self.b


class Fusion(torch.nn.Module):
    def __init__(self, width=128):
        super().__init__()
        self.p = torch.nn.Linear(384, width)
        self.seg = torch.nn.Embedding(2, width)
        self.ln = torch.nn.LayerNorm(width)
        layer = torch.nn.TransformerEncoderLayer(width, 4, 2 * width, dropout=0.1, batch_first=True)
        self.enc = torch.nn.TransformerEncoder(layer, 2)
        self.head = torch.nn.Linear(width, 1)

    def forward(self, q, qm, c, cm):
        x = torch.cat([self.p(q) + self.seg.weight[0], self.p(c) + self.seg.weight[1]], 1)
        m = torch.cat([qm, cm], 1)
        h = self.enc(self.ln(x), src_key_padding_mask=~m)
        mf = m.unsqueeze(-1).float()
        return self.head((h * mf).sum(1) / mf.sum(1)).squeeze(-1)


def batch(pairs, states):
    qs = [states[p[0]] for p in pairs]
    cs = [states[p[1]] for p in pairs]
    q = torch.zeros(len(pairs), max(len(x) for x in qs), 384)
    c = torch.zeros(len(pairs), max(len(x) for x in cs), 384)
    qm = torch.zeros(q.shape[:2], dtype=torch.bool)
    cm = torch.zeros(c.shape[:2], dtype=torch.bool)
    for i, (a, b) in enumerate(zip(qs, cs)):
        q[i, : len(a)], qm[i, : len(a)] = a, True
        c[i, : len(b)], cm[i, : len(b)] = b, True
    return q, qm, c, cm


def pairs_of(items, docs, k):
    out = []
    for d in items:
        for j, cand in enumerate(d["candidates"][:k]):
            doc = docs.get((d["record"], cand["control"]))
            if doc:
                out.append((d["question"], doc, float(cand["control"] in d["expect"]), d["id"], j))
    return out


def train(method, items, docs, states, epochs):
    seeded(SEED)
    model = LateInteraction() if method == "li" else Fusion()
    pairs = pairs_of(items, docs, CANDIDATES)
    size = 128 if method == "li" else 64
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.0 if method == "li" else 0.01)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    model.train()
    for _ in range(epochs):
        random.shuffle(pairs)
        for b in range(0, len(pairs), size):
            chunk = pairs[b : b + size]
            loss = loss_fn(model(*batch(chunk, states)), torch.tensor([p[2] for p in chunk]))
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    return model


def scored(model, items, docs, states):
    """Per item: answerable, its candidates, the expected controls, the engine's rank score
    and confidence (as a logit), and the judge's logit per candidate."""
    pairs = pairs_of(items, docs, 8)
    logits = {}
    with torch.no_grad():
        for b in range(0, len(pairs), 256):
            chunk = pairs[b : b + 256]
            for p, v in zip(chunk, model(*batch(chunk, states)).tolist()):
                logits[(p[3], p[4])] = v
    rows = []
    for d in items:
        n = min(8, len(d["candidates"]))
        conf = min(max(d["confidence"], 1e-4), 1 - 1e-4)
        rows.append({
            "ans": bool(d["expect"]),
            "expect": set(d["expect"]),
            "cands": [c["control"] for c in d["candidates"][:n]],
            "rank": [f[0] for f in d["features"][:n]],
            "conf": float(np.log(conf / (1 - conf))),
            "judge": [logits.get((d["id"], j), -10.0) for j in range(n)],
        })
    return rows


def auc(rows, f):
    pos = np.array([f(r) for r in rows if r["ans"]])
    neg = np.array([f(r) for r in rows if not r["ans"]])
    return float(np.mean(pos[:, None] > neg[None, :]) + 0.5 * np.mean(pos[:, None] == neg[None, :]))


def first_right(rows, weight):
    """Answerable questions whose right control is first when the first four candidates are
    ordered by rank score plus `weight` times the judge's logit / 10."""
    answerable = [r for r in rows if r["ans"]]
    right = 0
    for r in answerable:
        k = max(range(min(CANDIDATES, len(r["cands"]))), key=lambda j: r["rank"][j] + weight * r["judge"][j] / 10)
        right += r["cands"][k] in r["expect"]
    return right / len(answerable)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dump")
    ap.add_argument("--method", choices=["li", "fusion"], default="li")
    ap.add_argument("--epochs", type=int)
    ap.add_argument("--only")
    args = ap.parse_args()
    epochs = args.epochs or (8 if args.method == "li" else 6)
    items = [json.loads(line) for line in open(args.dump)]
    items = [d for d in items if d["candidates"] and d["reason"]["code"] not in ("profile_field", "form_field")]
    docs = {(name, cid): c["doc"] for name, controls in records().items() for cid, c in controls.items()}
    start = time.time()
    seeded(SEED)
    states = token_states([d["question"] for d in items] + list(docs.values()))
    held = [args.only] if args.only else sorted({d["record"] for d in items})
    for name in held:
        train_items = [d for d in items if d["record"] != name]
        test_items = [d for d in items if d["record"] == name]
        model = train(args.method, train_items, docs, states, epochs)
        tr, te = scored(model, train_items, docs, states), scored(model, test_items, docs, states)
        both = LogisticRegression().fit(
            np.array([[r["conf"], r["judge"][0]] for r in tr]),
            np.array([r["ans"] and r["cands"][0] in r["expect"] for r in tr]),
        )
        wc, wj = both.coef_[0]
        weight = max([0, 0.25, 0.5, 1, 2, 4], key=lambda w: first_right(tr, w))
        print(
            f"{name:>10}: AUC confidence {auc(te, lambda r: r['conf']):.3f}, judge {auc(te, lambda r: r['judge'][0]):.3f}, "
            f"both {auc(te, lambda r: wc * r['conf'] + wj * r['judge'][0]):.3f}; ranked first {first_right(te, 0):.3f}, "
            f"reordered (weight {weight} chosen on the others) {first_right(te, weight):.3f}; {time.time() - start:.0f}s",
            flush=True,
        )


if __name__ == "__main__":
    main()
