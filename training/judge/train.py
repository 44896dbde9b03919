#!/usr/bin/env python3
"""Train and measure onrecord's judge, leave one record out.

Input: the corpus dump that Rust writes (one JSON line per labeled item, with the feature
vectors of its best candidates as `src/engine/judge.rs` computes them):

    cargo run --release --example eval_tools -- corpus --dump /tmp/corpus.jsonl
    python3 training/judge/train.py /tmp/corpus.jsonl [--out models/judge/judge.json] [--folds DIR]

For each record, every method is trained on the other records and scored on it; its two
thresholds (answer unread at or above `answer`, not on the record below `gap`) are chosen on
the training records only, from out-of-fold predictions (an inner leave-one-record-out).
Methods: `linear` (logistic regression on standardized features) and `trees` (gradient-
boosted trees). The better one by the mean over records is then trained on every record and
written to --out with its thresholds, chosen the same way. --folds DIR also writes each
outer fold's model (DIR/<record>.json) so that the Rust engine can be scored with it
(`ONRECORD_JUDGE=DIR/<record>.json eval_tools corpus --only <record>`).

Seeded and deterministic; needs numpy and scikit-learn; a few minutes on 2 CPU cores.
"""

import argparse
import json
import math
import sys
from collections import defaultdict

import numpy as np
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

SEED = 19
# The engine's reasons that hold a row for a person whatever the judge says: what is asked
# (its form, polarity, a second part), not how well the control matches.
HELD = {
    "opposite_polarity", "denied_by_statement", "against_phrasing", "phrasing_differs",
    "customer_people", "follow_up", "unanswered_part", "single_word", "open_question",
    "which_of_two", "form_label", "ambiguous_match", "yes_needs_yes_control", "field_type",
    "section_topic", "stale_citation",
}
# Reasons decided before any candidate is judged.
FIXED = {"no_candidate", "quantity_not_stated", "profile_field", "form_field", "learned", "known_gap"}
# The most wrong claims among rows answered unread that a threshold may allow on training.
WRONG_BUDGET = 0.02
READS_LIKE = 0.6


def load(path):
    items = []
    with open(path) as f:
        for line in f:
            d = json.loads(line)
            if d["reason"]["code"] in {"profile_field", "form_field"}:
                continue
            items.append(d)
    return items


def rows(items):
    xs, ys, owner = [], [], []
    for i, d in enumerate(items):
        expect = set(d["expect"])
        for c, f in zip(d["candidates"], d["features"]):
            xs.append(f)
            ys.append(1 if c["control"] in expect else 0)
            owner.append(i)
    return np.array(xs, dtype=np.float64), np.array(ys), np.array(owner)


def fit(method, x, y):
    if method == "linear":
        mean, scale = x.mean(0), x.std(0)
        scale[scale == 0] = 1.0
        m = LogisticRegression(C=1.0, max_iter=2000, random_state=SEED)
        m.fit((x - mean) / scale, y)
        return {"kind": "linear", "mean": mean.tolist(), "scale": scale.tolist(),
                "coef": m.coef_[0].tolist(), "intercept": float(m.intercept_[0])}
    m = GradientBoostingClassifier(n_estimators=150, max_depth=3, learning_rate=0.08,
                                   subsample=0.8, init="zero", random_state=SEED)
    m.fit(x, y)
    trees = []
    for est in m.estimators_[:, 0]:
        t = est.tree_
        trees.append({
            "feature": t.feature.tolist(),
            "threshold": [float(v) for v in t.threshold],
            "left": t.children_left.tolist(),
            "right": t.children_right.tolist(),
            "value": [float(v[0][0]) for v in t.value],
        })
    model = {"kind": "trees", "learning_rate": m.learning_rate, "trees": trees}
    # The exported trees must give what sklearn gives.
    check = predict(model, x[:200])
    assert np.allclose(check, m.predict_proba(x[:200])[:, 1], atol=1e-6), "tree export"
    return model


def predict(model, x):
    if model["kind"] == "linear":
        z = ((x - np.array(model["mean"])) / np.array(model["scale"])) @ np.array(model["coef"])
        z += model["intercept"]
    else:
        z = np.zeros(len(x))
        for t in model["trees"]:
            for r in range(len(x)):
                n = 0
                while t["left"][n] != -1:
                    n = t["left"][n] if x[r, t["feature"][n]] <= t["threshold"][n] else t["right"][n]
                z[r] += model["learning_rate"] * t["value"][n]
    return 1.0 / (1.0 + np.exp(-z))


def candidate_answer(d, k):
    """The answer the engine would send citing candidate k."""
    c = d["candidates"][k]
    if k == 0 and d.get("got"):
        return d["got"]
    if c.get("phrasing_answer") and c["phrasing"] >= READS_LIKE:
        return c["phrasing_answer"]
    return c["answer"]


def decide(d, p, t_answer, t_gap, policy):
    """(status, top candidate index) for item d under the judge's probabilities p."""
    code = d["reason"]["code"]
    if code in FIXED or not d["candidates"]:
        return d["status"], 0
    top = int(np.argmax(p))
    if p[top] < t_gap:
        return "not_on_record", top
    if code in HELD:
        return "review", top
    if policy == "veto":
        ok = d["status"] == "answered" and top == 0
    else:  # the judge decides strength; the engine's held rows stay held
        ok = True
    return ("answered" if ok and p[top] >= t_answer else "review"), top


def score(items, probs, t_answer, t_gap, policy):
    s = defaultdict(int)
    for d, p in zip(items, probs):
        status, top = decide(d, p, t_answer, t_gap, policy)
        expect = set(d["expect"])
        if expect:
            s["answerable"] += 1
            cited = d["candidates"][top]["control"] if d["candidates"] else None
            s["first"] += int(status != "not_on_record" and cited in expect)
            s["ranked"] += int(cited in expect)
        else:
            s["gaps"] += 1
            s["flagged"] += int(status == "not_on_record")
        if status == "answered":
            s["answered"] += 1
            right = d["candidates"][top]["control"] in expect and candidate_answer(d, top) == d["answer"]
            s["wrong"] += int(not right)
    return {
        "first": s["first"] / max(s["answerable"], 1),
        "ranked": s["ranked"] / max(s["answerable"], 1),
        "wrong": s["wrong"] / max(s["answered"], 1),
        "flagged": s["flagged"] / max(s["gaps"], 1),
        "answered": s["answered"], "wrong_n": s["wrong"], "items": len(items),
    }


def choose(items, probs, policy):
    """Thresholds from out-of-fold predictions on training records: `gap` maximizing right
    control first plus gaps flagged, then the lowest `answer` whose wrong claims stay within
    the budget."""
    grid = [i / 100 for i in range(1, 100)]
    best_gap = max(grid, key=lambda g: (lambda s: s["first"] + s["flagged"])(
        score(items, probs, 2.0, g, policy)))
    t_answer = 1.0
    for t in sorted(grid, reverse=True):
        s = score(items, probs, t, best_gap, policy)
        if s["answered"] and s["wrong"] > WRONG_BUDGET:
            break
        t_answer = t
    return max(t_answer, best_gap), best_gap


def probs_for(model, items):
    out = []
    for d in items:
        f = np.array(d["features"], dtype=np.float64)
        out.append(predict(model, f) if len(f) else np.zeros(0))
    return out


def out_of_fold(method, items, records):
    """Each item's probabilities from a model trained without its record."""
    probs = [None] * len(items)
    for r in records:
        train = [d for d in items if d["record"] != r]
        x, y, _ = rows(train)
        model = fit(method, x, y)
        idx = [i for i, d in enumerate(items) if d["record"] == r]
        for i, p in zip(idx, probs_for(model, [items[i] for i in idx])):
            probs[i] = p
    return probs


def baseline(items):
    s = defaultdict(int)
    for d in items:
        expect = set(d["expect"])
        cited = d["candidates"][0]["control"] if d["candidates"] else None
        if expect:
            s["answerable"] += 1
            s["first"] += int(d["status"] != "not_on_record" and cited in expect)
            s["ranked"] += int(cited in expect)
        else:
            s["gaps"] += 1
            s["flagged"] += int(d["status"] == "not_on_record")
        if d["status"] == "answered":
            s["answered"] += 1
            s["wrong"] += int(not (cited in expect and d.get("got") == d["answer"]))
    return {"first": s["first"] / s["answerable"], "ranked": s["ranked"] / s["answerable"],
            "wrong": s["wrong"] / max(s["answered"], 1), "flagged": s["flagged"] / s["gaps"],
            "answered": s["answered"], "wrong_n": s["wrong"], "items": len(items)}


def line(name, s):
    return (f"{name:>11}: right control first {s['first']*100:5.1f}%  ranked first {s['ranked']*100:5.1f}%  "
            f"wrong claims {s['wrong']*100:4.1f}% ({s['wrong_n']}/{s['answered']})  gaps flagged {s['flagged']*100:5.1f}%")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dump")
    ap.add_argument("--out")
    ap.add_argument("--folds")
    ap.add_argument("--methods", default="linear,trees")
    ap.add_argument("--policy", default="judge", choices=["judge", "veto"])
    args = ap.parse_args()
    items = load(args.dump)
    records = sorted({d["record"] for d in items})
    features = None
    results = {}
    print("engine without the judge:")
    for r in records:
        print(line(r, baseline([d for d in items if d["record"] == r])))
    for method in args.methods.split(","):
        print(f"\n{method}, policy {args.policy}, leave one record out:")
        per = []
        for r in records:
            train = [d for d in items if d["record"] != r]
            test = [d for d in items if d["record"] == r]
            inner = sorted({d["record"] for d in train})
            oof = out_of_fold(method, train, inner)
            t_answer, t_gap = choose(train, oof, args.policy)
            x, y, _ = rows(train)
            model = fit(method, x, y)
            s = score(test, probs_for(model, test), t_answer, t_gap, args.policy)
            per.append(s)
            print(line(r, s) + f"  [answer {t_answer:.2f}, gap {t_gap:.2f}]")
            if args.folds:
                model.update({"answer": t_answer, "gap": t_gap, "trained_on": inner})
                with open(f"{args.folds}/{method}-{r}.json", "w") as f:
                    json.dump(model, f)
        mean = {k: sum(s[k] for s in per) / len(per) for k in ("first", "ranked", "wrong", "flagged")}
        mean.update(answered=sum(s["answered"] for s in per), wrong_n=sum(s["wrong_n"] for s in per))
        print(line("mean", mean) + f"  lowest right control first {min(s['first'] for s in per)*100:.1f}%")
        results[method] = mean
    if args.out:
        best = max(results, key=lambda m: results[m]["first"] + results[m]["flagged"] - 4 * results[m]["wrong"])
        oof = out_of_fold(best, items, records)
        t_answer, t_gap = choose(items, oof, args.policy)
        x, y, _ = rows(items)
        model = fit(best, x, y)
        model.update({"answer": t_answer, "gap": t_gap, "trained_on": records, "seed": SEED,
                      "loro": results})
        with open(args.out, "w") as f:
            json.dump(model, f, separators=(",", ":"))
        print(f"\nwrote {args.out}: {best}, answer {t_answer:.2f}, gap {t_gap:.2f}")


if __name__ == "__main__":
    sys.exit(main())
