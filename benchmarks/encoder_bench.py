"""Encoder benchmark: do records that lie close in the embedding share diagnoses?

Leave-one-out retrieval on labelled records, by cosine similarity, for three representations:

- ``encoder``: ``tools.encoder.encode_record`` embeddings (the configured backend);
- ``features``: the engine's measurements (``tools.engine.analyze``): every numeric
  measurement value (intervals, rate and RR statistics, axes as cos/sin, per-lead
  amplitudes, voltage sums, terminal QRS areas, beat counts), z-scored over the data set,
  missing -> 0;
- ``random``: Gaussian vectors of the encoder's dimension (20 seeds; mean and SD), the floor.

Labels: SNOMED CT codes with >= 3 records in the data set (CinC: ``# Dx:``; LUDB:
``evals.ludb.read_labels().snomed``). Each record is a query against all other records
(leave-one-out; nothing is trained on these labels, so no other split is needed):

- ``p5_any``: share of the query's 5 nearest neighbours that share at least one label with
  it, averaged over queries with >= 1 label;
- ``p5_macro``: per label L, over the queries carrying L, the share of their 5 nearest
  neighbours that carry L; averaged over labels (chance = the label's prevalence, shown);
- ``knn_auroc_macro``: per label, the AUROC of "share of the 10 nearest neighbours carrying
  L" as a score for L, averaged over labels with a positive and a negative;
- CinC only, ``p5_*_within_source``: neighbours restricted to the query's own source
  (E = Georgia, HR = PTB-XL, JS = Chapman-Shaoxing), because several labels are confounded
  with the source (every JS record has PAC; NSR is mostly HR/E), and a ``source`` one-hot
  representation shows how far the source alone goes.

Data provenance (read before quoting a LUDB figure): the default encoder's backbone was
trained on LUDB wave boundaries (all but openecg's validation split) and its pooling
statistics were fitted on these 100 LUDB records (no labels); the pooling design was chosen
on LUDB. CinC 2021 records were used for none of that: they are the test set. LUDB figures
are also given for the 21 held-out records as queries (``evals.ludb.HELD_OUT``).

Run: ``python -m benchmarks.encoder_bench [--datasets cinc ludb]``. Writes
``benchmarks/results/encoder_bench.json``.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections import Counter
from pathlib import Path
from statistics import median

import numpy as np

from benchmarks import common
from evals import labels as L
from evals import ludb
from evals.ludb import default_data_dir

K = 5
K_AUROC = 10
N_RANDOM = 20
MIN_RECORDS = 3


# --- metrics -------------------------------------------------------------------------------

def neighbours(x: np.ndarray, k: int, groups=None) -> np.ndarray:
    """Indices of the ``k`` nearest other rows by cosine (ties by index), optionally only
    within the same group; rows of an empty or too small group get -1."""
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    s = x @ x.T
    np.fill_diagonal(s, -np.inf)
    if groups is not None:
        g = np.asarray(groups)
        s = np.where(g[:, None] == g[None, :], s, -np.inf)
    order = np.argsort(-s, axis=1, kind="stable")[:, :k]
    return np.where(np.take_along_axis(s, order, 1) == -np.inf, -1, order)


def auroc(score, y) -> float | None:
    """Mann-Whitney AUROC (ties count one half); None without both classes."""
    from scipy.stats import rankdata

    score, y = np.asarray(score, float), np.asarray(y, bool)
    npos, nneg = int(y.sum()), int((~y).sum())
    if not npos or not nneg:
        return None
    r = rankdata(score)
    return float((r[y].sum() - npos * (npos + 1) / 2) / (npos * nneg))


def retrieval_scores(x: np.ndarray, labels: list[set], groups=None, queries=None) -> dict:
    """p5_any, p5_macro, per-label P@5 and knn_auroc_macro (see the module docstring);
    ``queries``: the row indices used as queries (default all; neighbours are always all)."""
    nn = neighbours(x, K, groups)
    qs = range(len(labels)) if queries is None else sorted(queries)
    vocab = sorted(set().union(*labels))

    def share(i, pred):
        js = [j for j in nn[i] if j >= 0]
        return float(np.mean([pred(j) for j in js])) if js else None

    anys = [share(i, lambda j: bool(labels[i] & labels[j])) for i in qs if labels[i]]
    per = {}
    for lab in vocab:
        vals = [share(i, lambda j: lab in labels[j]) for i in qs if lab in labels[i]]
        vals = [v for v in vals if v is not None]
        per[lab] = float(np.mean(vals)) if vals else None
    out = {"p5_any": _mean(anys), "p5_macro": _mean(per.values()), "p5_per_label": per}
    if groups is None:
        nn10 = neighbours(x, K_AUROC)
        aucs = {lab: auroc([np.mean([lab in labels[j] for j in row]) for row in nn10],
                           [lab in s for s in labels]) for lab in vocab}
        out["knn_auroc_per_label"] = aucs
        out["knn_auroc_macro"] = _mean(aucs.values())
    return out


def query_hits(x: np.ndarray, labels: list[set], queries=None) -> tuple[dict, dict]:
    """Per query: share of 5-NN sharing any label; per label and query: share carrying it."""
    nn = neighbours(x, K)
    qs = range(len(labels)) if queries is None else sorted(queries)
    anys = {i: float(np.mean([bool(labels[i] & labels[j]) for j in nn[i]]))
            for i in qs if labels[i]}
    per = {lab: {i: float(np.mean([lab in labels[j] for j in nn[i]])) for i in qs
                 if lab in labels[i]} for lab in sorted(set().union(*labels))}
    return anys, per


def bootstrap_diff(xa, xb, labels: list[set], queries=None, n: int = 2000) -> dict:
    """95 % percentile interval of (a - b) in p5_any and p5_macro, resampling the queries
    with replacement (neighbourhoods fixed): how much of a difference is query sampling."""
    ha, hb = query_hits(xa, labels, queries), query_hits(xb, labels, queries)
    pool = np.array(sorted(ha[0]) if queries is None else sorted(queries))
    rng = np.random.default_rng(0)

    def stats(h, idx):
        any_ = [h[0][i] for i in idx if i in h[0]]
        macro = [np.mean([per[i] for i in idx if i in per]) for per in h[1].values()
                 if any(i in per for i in idx)]
        return (np.mean(any_) if any_ else np.nan), (np.mean(macro) if macro else np.nan)

    diffs = []
    for _ in range(n):
        idx = rng.choice(pool, size=pool.size, replace=True)
        (a1, m1), (a2, m2) = stats(ha, idx), stats(hb, idx)
        diffs.append((a1 - a2, m1 - m2))
    d = np.asarray(diffs)
    ci = lambda col: [float(np.nanpercentile(d[:, col], 2.5)),  # noqa: E731
                      float(np.nanpercentile(d[:, col], 97.5))]
    return {"p5_any_diff_ci95": ci(0), "p5_macro_diff_ci95": ci(1), "n_resamples": n}


def _mean(vals) -> float | None:
    vals = [v for v in vals if v is not None]
    return float(np.mean(vals)) if vals else None


# --- representations -------------------------------------------------------------------------

def feature_vectors(dicts: list[dict]) -> tuple[np.ndarray, list[str]]:
    """Numeric engine measurements, axes as (cos, sin), z-scored; missing -> 0."""
    rows = []
    for d in dicts:
        row = {}
        for key in (d.get("measurements") or {}):
            v = common.measurement(d, key)
            if v is None:
                continue
            if key.endswith("_axis_deg"):
                row[key + ".cos"], row[key + ".sin"] = math.cos(math.radians(v)), \
                    math.sin(math.radians(v))
            else:
                row[key] = v
        rows.append(row)
    keys = sorted(set().union(*rows))
    x = np.array([[r.get(k, np.nan) for k in keys] for r in rows], float)
    mu, sd = np.nanmean(x, 0), np.nanstd(x, 0)
    z = (x - mu) / np.where(sd > 0, sd, 1.0)
    return np.nan_to_num(z, nan=0.0), keys


def evaluate(name: str, x_enc, x_feat, labels, sources=None, queries=None) -> dict:
    """All metrics for one data set; ``queries`` restricts P@5 to those query indices."""
    reps = {"encoder": x_enc, "features": x_feat}
    if sources is not None:
        srcs = sorted(set(sources))
        reps["source"] = np.array([[s == t for t in srcs] for s in sources], float)
    out = {}
    for rep, x in reps.items():
        out[rep] = retrieval_scores(x, labels, queries=queries)
        if sources is not None:
            w = retrieval_scores(x, labels, groups=sources)
            out[rep]["p5_any_within_source"] = w["p5_any"]
            out[rep]["p5_macro_within_source"] = w["p5_macro"]
    rnd = [retrieval_scores(np.random.default_rng(seed).normal(size=(len(labels),
                                                                      x_enc.shape[1])),
                            labels, queries=queries) for seed in range(N_RANDOM)]
    out["encoder_minus_features"] = bootstrap_diff(x_enc, x_feat, labels, queries)
    out["random"] = {m: float(np.mean([r[m] for r in rnd])) for m in
                     ("p5_any", "p5_macro", "knn_auroc_macro")}
    out["random"].update({m + "_sd": float(np.std([r[m] for r in rnd])) for m in
                          ("p5_any", "p5_macro", "knn_auroc_macro")})
    out["random"]["p5_per_label"] = {lab: _mean([r["p5_per_label"][lab] for r in rnd])
                                     for lab in rnd[0]["p5_per_label"]}
    if sources is not None:
        rw = [retrieval_scores(np.random.default_rng(seed).normal(size=(len(labels),
                                                                         x_enc.shape[1])),
                               labels, groups=sources) for seed in range(N_RANDOM)]
        out["random"]["p5_any_within_source"] = _mean([r["p5_any"] for r in rw])
        out["random"]["p5_macro_within_source"] = _mean([r["p5_macro"] for r in rw])
    return out


# --- data sets -------------------------------------------------------------------------------

def load_set(which: str, data_dir: Path) -> list[tuple[str, Path, set, str]]:
    """(record id, header path, SNOMED codes, source) for CinC or LUDB."""
    if which == "cinc":
        heads = sorted((data_dir / "cinc2021").glob("*.hea"))
        out = []
        for h in heads:
            hd = L.parse_header(h)
            out.append((hd.record, h, set(hd.dx), hd.record.rstrip("0123456789")))
        return out
    labs = ludb.read_labels(data_dir / "ludb" / "ludb.csv")
    ids = ludb.record_ids(data_dir / "ludb")
    return [(str(i), data_dir / "ludb" / "data" / f"{i}.hea", set(labs[i].snomed), "LUDB")
            for i in ids]


def frequent(labels: list[set]) -> tuple[list[set], dict]:
    counts = Counter(c for s in labels for c in s)
    keep = {c for c, n in counts.items() if n >= MIN_RECORDS}
    return [s & keep for s in labels], {c: counts[c] for c in sorted(keep)}


def run_set(which: str, data_dir: Path, analyze, encode) -> dict:
    rows = load_set(which, data_dir)
    if not rows:
        raise FileNotFoundError(f"no {which} records under {str(data_dir)!r}")
    embs, dicts, enc_s, enc_labels, model = [], [], [], [], ""
    for i, (rid, hea, _, _) in enumerate(rows, 1):
        rec = common.load(hea)
        t0 = time.perf_counter()
        out = encode(rec)
        enc_s.append(time.perf_counter() - t0)
        embs.append(out.embedding)
        enc_labels.append(out.labels)
        model = out.model
        dicts.append(common.run_engine(analyze, rec))
        common.progress(which, i, len(rows), rid)
    labels, counts = frequent([r[2] for r in rows])
    x_enc = np.asarray(embs, float)
    x_feat, feat_keys = feature_vectors(dicts)
    sources = [r[3] for r in rows] if which == "cinc" else None
    res = {"model": model, "n_records": len(rows), "labels": counts,
           "label_names": _names(data_dir, counts),
           "prevalence": {c: n / len(rows) for c, n in counts.items()},
           "feature_keys": feat_keys, "engine_failures": sum("error" in d for d in dicts),
           "encode_seconds_median": median(enc_s), "encode_seconds_max": max(enc_s),
           "scores": evaluate(which, x_enc, x_feat, labels, sources),
           "label_head_auroc": _label_head(enc_labels, [r[2] for r in rows])}
    if which == "ludb":
        held = {i for i, r in enumerate(rows) if int(r[0]) in ludb.HELD_OUT}
        res["scores_held_out_queries"] = evaluate(which, x_enc, x_feat, labels, queries=held)
        res["n_held_out_queries"] = len(held)
    return res


#: the encoder's rhythm classes against the reference codes that mean them
_HEAD_TARGETS = {"afib": {"164889003", "164890007"}, "avb": {"270492004"},
                 "bbb": {"713427006", "59118001", "164909002", "733534002", "713426002"},
                 "paced": {"10370003"}}


def _label_head(enc_labels: list[dict], truth: list[set]) -> dict:
    """AUROC of the encoder's label probabilities against the reference codes they mean."""
    out = {}
    for name, codes in _HEAD_TARGETS.items():
        if enc_labels and name in enc_labels[0]:
            y = [bool(t & codes) for t in truth]
            out[name] = {"n_positive": sum(y),
                         "auroc": auroc([lab[name] for lab in enc_labels], y)}
    return out


def _names(data_dir: Path, counts: dict) -> dict:
    try:
        m = L.read_dx_mapping(data_dir / "cinc2021")
    except (OSError, ValueError):
        return {}
    return {c: m.get(c, {}).get("abbreviation") or m.get(c, {}).get("name", "") for c in counts}


# --- report ----------------------------------------------------------------------------------

def print_tables(which: str, res: dict) -> None:
    s = res["scores"]
    reps = [r for r in ("encoder", "features", "random", "source") if r in s]
    metrics = ["p5_any", "p5_macro", "knn_auroc_macro"]
    if which == "cinc":
        metrics += ["p5_any_within_source", "p5_macro_within_source"]
    print(f"\n{which}: {res['n_records']} records, {len(res['labels'])} labels with >= "
          f"{MIN_RECORDS} records; encoder {res['model']}")
    print(common.table(["representation"] + metrics,
                       [[r] + [s[r].get(m) for m in metrics] for r in reps], 3))
    print(f"random SD over {N_RANDOM} seeds: p5_any {s['random']['p5_any_sd']:.3f}, "
          f"p5_macro {s['random']['p5_macro_sd']:.3f}")
    d = s["encoder_minus_features"]
    print("encoder - features, 95% bootstrap interval over queries: p5_any "
          f"[{d['p5_any_diff_ci95'][0]:+.3f}, {d['p5_any_diff_ci95'][1]:+.3f}], p5_macro "
          f"[{d['p5_macro_diff_ci95'][0]:+.3f}, {d['p5_macro_diff_ci95'][1]:+.3f}]")
    print("\nper-label P@5 (chance = prevalence)")
    print(common.table(["label", "code", "n", "prevalence", "encoder", "features", "random"],
                       [[res["label_names"].get(c, ""), c, n, res["prevalence"][c],
                         s["encoder"]["p5_per_label"][c], s["features"]["p5_per_label"][c],
                         s["random"]["p5_per_label"][c]] for c, n in res["labels"].items()], 2))
    if "scores_held_out_queries" in res:
        h = res["scores_held_out_queries"]
        d = h["encoder_minus_features"]["p5_macro_diff_ci95"]
        print(f"\nLUDB, the {res['n_held_out_queries']} held-out records as queries: "
              + ", ".join(f"{r} p5_macro {h[r]['p5_macro']:.3f}"
                          for r in ("encoder", "features", "random"))
              + f"; encoder - features 95% interval [{d[0]:+.3f}, {d[1]:+.3f}]")
    heads = ", ".join(f"{k} {v['auroc']:.3f} (n+={v['n_positive']})"
                      for k, v in res["label_head_auroc"].items() if v["auroc"] is not None)
    print(f"encoder label head AUROC: {heads or '-'}")
    print(f"encode: median {res['encode_seconds_median']:.2f} s/record, "
          f"max {res['encode_seconds_max']:.2f} s (torch 2 threads; 1-min load average "
          f"{res['load_average_1min'][0]:.1f} -> {res['load_average_1min'][1]:.1f})")


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=default_data_dir())
    ap.add_argument("--datasets", nargs="+", choices=("cinc", "ludb"), default=["cinc", "ludb"])
    args = ap.parse_args(argv)
    analyze = common.engine_or_none()
    if analyze is None:
        print("[encoder] the engine is required for the feature baseline", file=sys.stderr)
        return {}
    from tools.encoder import get_encoder

    t0 = time.perf_counter()
    enc = get_encoder()
    load_s = time.perf_counter() - t0
    out = {"config": {"k": K, "k_auroc": K_AUROC, "n_random": N_RANDOM,
                      "min_records_per_label": MIN_RECORDS, "data": str(args.data),
                      "encoder_load_seconds": load_s}}
    for which in args.datasets:
        load_before = os.getloadavg()[0]
        out[which] = run_set(which, args.data, analyze, enc.encode_record)
        # timings on a shared 2-core machine mean little without the load they ran under
        out[which]["load_average_1min"] = [load_before, os.getloadavg()[0]]
        print_tables(which, out[which])
    print(f"\nwrote {common.write_json('encoder_bench', out)}")
    return out


if __name__ == "__main__":
    main()
