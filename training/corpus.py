"""The corpus records (`fixtures/corpus/records.csv`) as the training scripts read them."""

import csv
import os
import random
import tomllib
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]


def records():
    """Per record name, per control id: its "title. statement" (`doc`, as the engine embeds
    it), its title and its authored questions."""
    out = {}
    with open(REPO / "fixtures/corpus/records.csv") as f:
        for row in csv.DictReader(f):
            controls = {}
            for path in sorted((REPO / row["record"] / "knowledge").glob("*.toml")):
                with open(path, "rb") as t:
                    for c in tomllib.load(t).get("control", []):
                        questions = [q["q"] if isinstance(q, dict) else q for q in c.get("questions", [])]
                        controls[c["id"]] = {
                            "doc": f"{c['title']}. {' '.join(c['statement'].split())}",
                            "title": c["title"],
                            "questions": questions,
                        }
            out[row["name"]] = controls
    return out


def seeded(seed):
    """Seeds every generator the scripts use and keeps torch on 2 threads (`TRAIN_THREADS` to
    run two trainings side by side), so that a run is repeatable on the 2-core machine."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(int(os.environ.get("TRAIN_THREADS", "2")))
