#!/usr/bin/env python3
"""A cross-encoder judge fine-tuned from all-MiniLM-L6-v2: reads a question and a control
(title and statement) together and says whether the control answers the question.

    python3 training/judge/cross_encoder.py DUMP --test RECORD [--layers N] [--epochs E] [--save DIR]

Trains on the corpus records other than RECORD (pairs of each item's best candidates, from
the Rust dump), scores RECORD's candidates, and writes the scores to
/tmp/ce-RECORD.json (item id -> probability per candidate), which train.py can read as a
feature. Seeded; CPU; needs torch, transformers, safetensors, tokenizers.
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
from tokenizers import Tokenizer
from transformers import BertConfig, BertModel

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "training"))
from corpus import records, seeded  # noqa: E402
MODEL = REPO / "models/all-minilm-l6-v2"
SEED = 19
MAX_LEN = 96


def control_texts():
    """Per record name, per control id: "title. statement"."""
    return {name: {cid: c["doc"] for cid, c in controls.items()} for name, controls in records().items()}


class CrossEncoder(torch.nn.Module):
    def __init__(self, layers):
        super().__init__()
        config = BertConfig.from_json_file(str(MODEL / "config.json"))
        config.num_hidden_layers = layers
        self.bert = BertModel(config, add_pooling_layer=False)
        weights = {k: v.float() for k, v in load_file(str(MODEL / "model.safetensors")).items()}
        missing, _ = self.bert.load_state_dict(weights, strict=False)
        assert not [m for m in missing if "position_ids" not in m], missing
        # The word embeddings stay those of the bi-encoder, so the shipped file need not
        # hold them again.
        self.bert.embeddings.word_embeddings.weight.requires_grad = False
        self.head = torch.nn.Linear(config.hidden_size, 1)

    def forward(self, ids, types, mask):
        h = self.bert(input_ids=ids, token_type_ids=types, attention_mask=mask).last_hidden_state
        # Mean pooling, as the sentence model was trained with (its CLS vector was never
        # trained to mean anything).
        m = mask.unsqueeze(-1).float()
        pooled = (h * m).sum(1) / m.sum(1).clamp(min=1.0)
        return self.head(pooled).squeeze(-1)


def encode(tokenizer, pairs):
    """Token ids, type ids and masks, padded to the longest pair of the batch."""
    ids, types, masks = [], [], []
    encoded = [tokenizer.encode(q, c) for q, c in pairs]
    width = min(MAX_LEN, max(len(e.ids) for e in encoded))
    for e in encoded:
        i, t = e.ids[:width], e.type_ids[:width]
        if len(i) == width and e.ids[width - 1 :] != i[-1:]:
            i[-1] = e.ids[-1]  # keep the closing [SEP]
        pad = width - len(i)
        ids.append(i + [0] * pad)
        types.append(t + [0] * pad)
        masks.append([1] * len(i) + [0] * pad)
    return torch.tensor(ids), torch.tensor(types), torch.tensor(masks)


def pairs_of(items, texts):
    out = []
    for d in items:
        expect = set(d["expect"])
        for k, c in enumerate(d["candidates"]):
            text = texts[d["record"]].get(c["control"])
            if text:
                out.append((d["question"], text, 1.0 if c["control"] in expect else 0.0, d["id"], k))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dump")
    ap.add_argument("--test", required=True)
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--candidates", type=int, default=5)
    ap.add_argument("--lr", type=float, default=4e-5)
    ap.add_argument("--save")
    args = ap.parse_args()
    seeded(SEED)
    items = [json.loads(line) for line in open(args.dump)]
    items = [d for d in items if d["candidates"] and d["reason"]["code"] not in ("profile_field", "form_field")]
    for d in items:
        d["candidates"] = d["candidates"][: args.candidates]
    texts = control_texts()
    tokenizer = Tokenizer.from_file(str(MODEL / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    train = pairs_of([d for d in items if d["record"] != args.test], texts)
    test = pairs_of([d for d in items if d["record"] == args.test], texts)
    model = CrossEncoder(args.layers)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=args.lr, weight_decay=0.01)
    batch = 32
    steps = args.epochs * ((len(train) + batch - 1) // batch)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / (0.1 * steps)) * max(0.0, 1 - s / steps))
    pos = sum(p[2] for p in train)
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor((len(train) - pos) / max(pos, 1) / 2))
    start = time.time()
    model.train()
    step = 0
    for epoch in range(args.epochs):
        order = list(range(len(train)))
        random.shuffle(order)
        for b in range(0, len(order), batch):
            chunk = [train[i] for i in order[b : b + batch]]
            ids, types, mask = encode(tokenizer, [(p[0], p[1]) for p in chunk])
            logits = model(ids, types, mask)
            loss = loss_fn(logits, torch.tensor([p[2] for p in chunk]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            if step % 50 == 0:
                print(f"epoch {epoch} step {step}/{steps} loss {loss.item():.3f} {time.time() - start:.0f}s", flush=True)
    model.eval()
    scores = {}
    with torch.no_grad():
        for b in range(0, len(test), 64):
            chunk = test[b : b + 64]
            ids, types, mask = encode(tokenizer, [(p[0], p[1]) for p in chunk])
            probs = torch.sigmoid(model(ids, types, mask)).tolist()
            for p, s in zip(chunk, probs):
                scores.setdefault(p[3], {})[p[4]] = s
    with open(f"/tmp/ce-{args.test}.json", "w") as f:
        json.dump(scores, f)
    # Reranking and separation on the held-out record.
    top_right = answerable = 0
    best_ans, best_gap = [], []
    for d in items:
        if d["record"] != args.test or d["id"] not in scores:
            continue
        s = scores[d["id"]]
        k = max(s, key=s.get)
        if d["expect"]:
            answerable += 1
            top_right += int(d["candidates"][k]["control"] in d["expect"])
            best_ans.append(s[k])
        else:
            best_gap.append(s[k])
    a, g = np.array(best_ans), np.array(best_gap)
    auc = float(np.mean(a[:, None] > g[None, :])) if len(a) and len(g) else float("nan")
    print(f"{args.test}: reranked first {top_right}/{answerable} = {top_right / answerable:.3f}; "
          f"answerable-vs-gap AUC of the best score {auc:.3f}; {time.time() - start:.0f}s")
    if args.save:
        Path(args.save).mkdir(parents=True, exist_ok=True)
        torch.save(model.state_dict(), Path(args.save) / f"ce-{args.test}.pt")


if __name__ == "__main__":
    main()
