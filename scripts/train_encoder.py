"""Fit the pooling statistics of the default encoder backend (``tools.encoder``).

The default encoder has no trained layer of its own: it pools the hidden states of openecg's
pretrained codec_v6 backbone (see ``tools/encoder_weights/MODEL_CARD.md``). What is fitted
here is unsupervised and small: the per-dimension centre (mean) and scale (standard
deviation) of the 256 pooled per-lead features (mean and SD over time of the last
transformer layer), over every lead of every LUDB record in ``../shared/data/ludb``. Labels
are not read. Without this standardisation the cosine between two records is dominated by
the large common component every ECG shares (cosines all ~0.99).

CinC 2021 records are deliberately not used, so that ``benchmarks/encoder_bench.py`` can
report them as untouched test data.

Run: ``python scripts/train_encoder.py [--ludb DIR] [--out PATH]``; writes
``tools/encoder_weights/openecg_codec_v6_pool.json`` (~12 KB) and prints a summary.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools.encoder import _POOL_STATS, OpenEcgCodecEncoder, _sha256  # noqa: E402
from tools.record import load_record  # noqa: E402

_MIN_SCALE = 1e-3  # floor: a near-constant dimension must not be blown up into noise


def fit(heads: list[Path]) -> dict:
    enc = OpenEcgCodecEncoder(pool_stats=None)
    feats, seconds = [], []
    for i, hea in enumerate(heads, 1):
        t0 = time.perf_counter()
        feats.append(enc.lead_features(load_record(hea))[2])
        seconds.append(time.perf_counter() - t0)
        print(f"\r[fit] {i}/{len(heads)} {hea.stem}".ljust(40), end="", file=sys.stderr)
    print(file=sys.stderr)
    x = np.concatenate(feats)                                  # (records * leads, 256)
    import openecg

    return {
        "what": "per-dimension centre/scale of pooled per-lead codec_v6 features "
                "[mean over time (128), SD over time (128)] of the last transformer layer",
        "fitted_on": f"LUDB 1.0.1, {len(heads)} records x all leads ({x.shape[0]} rows); "
                     "labels not used",
        "records": [h.stem for h in heads],
        "openecg_version": getattr(openecg, "__version__", "?"),
        "codec": enc.ckpt.name,
        "codec_sha256": _sha256(enc.ckpt),
        "seconds_per_record_median": round(float(np.median(seconds)), 3),
        "center": [round(float(v), 6) for v in x.mean(0)],
        "scale": [round(float(v), 6) for v in np.maximum(x.std(0), _MIN_SCALE)],
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ludb", type=Path, default=ROOT.parent / "shared" / "data" / "ludb")
    ap.add_argument("--out", type=Path, default=_POOL_STATS)
    args = ap.parse_args(argv)
    heads = sorted((args.ludb / "data").glob("*.hea"), key=lambda p: int(p.stem))
    if not heads:
        print(f"no LUDB records (*.hea) under {str(args.ludb / 'data')!r}", file=sys.stderr)
        return 2
    blob = fit(heads)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(blob, indent=1) + "\n", encoding="utf-8")
    s = np.asarray(blob["scale"])
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes): {blob['fitted_on']}; "
          f"scale min/median/max {s.min():.3f}/{np.median(s):.3f}/{s.max():.3f}; "
          f"{blob['seconds_per_record_median']} s per record")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
