"""Atrial fibrillation rebuilt from the shared records' own QRS-T complexes: AF is the most
frequent arrhythmia of the held-out CinC sources (PTB-XL, Georgia, Chapman/Ningbo, CPSC), but
none of the 50 shared CinC records holds it and LUDB holds 8. The question is whether the
rules find AF on complexes from every source, and what else the engine says once the P waves
are gone (the QRS measured without a P wave in front of it runs wider: a false conduction
delay, bundle branch block or wide-complex tachycardia in AF would reach many real records).

For every shared record the engine reads as sinus with P waves, one dominant beat's QRS-T
complex (``benchmarks.av_block_bench.pieces``) is laid down again on a 10-s timeline:

- ``control``: with its own P wave, regular at 80 /min (the source's PR, at most 180 ms);
- ``af_80`` / ``af_120``: no P wave, RR intervals drawn independently (mean 750 / 500 ms,
  coefficient of variation 0.25, each within 0.6-1.6 x the mean: AF's irregularly irregular
  ventricular response), the ST-T shortened for the rate as in ``benchmarks.wct_bench``;
- ``af_80_f`` / ``af_120_f``: the same with fibrillatory waves added, around 6 Hz with a
  wandering frequency and amplitude (as disorganised as LUDB's AF records, ``f_waves``),
  0.10 mV in V1, 0.05 mV in II, III and aVF, 0.03 mV elsewhere (f waves are largest in V1
  and the inferior leads; coarse AF is >= 0.1 mV in V1). The amplitudes are in the file's
  units (LUDB's are normalised per lead).

Every complex is recorded signal; only the timing (and the added f waves) is made up: these
are rebuilt rhythms, not labelled AF, so the figures check the rules on real complexes, not
accuracy on real arrhythmias. Reported per scenario: ``af`` (s:af stated), ``flutter``
(s:afl), ``sinus`` (a sinus statement: the dangerous reading of AF), the other rhythm
statements made; ``new_conduction``: conduction statements (bundle branch, fascicular,
IVCD) stated where the same complex's ``control`` has none of them, by statement;
``vt_wct`` (VT or WCT flagged); ``qrs_delta_ms``: median of (QRS measured - QRS measured on
``control``). Per source (PTB-XL, Georgia, Chapman/Ningbo, LUDB) the AF share.

Run: ``python -m benchmarks.af_bench [--jobs 2] [--scenarios ...] [--noise all]``;
writes benchmarks/results/af_bench.json (``--out`` another name; with ``--noise KIND``, the
noise of ``benchmarks.noise_bench`` added to every rebuilt record, af_bench_noise_KIND.json).
"""
from __future__ import annotations

from collections import Counter
from statistics import median

import numpy as np

from benchmarks import common
from benchmarks.av_block_bench import (CONTROL_MAX_PR_MS, P_START_MS, SECONDS, pieces,
                                       rebuild, rebuilt_runs)
from benchmarks.wct_bench import qrs_minus_source, source_of
from tools.statements import RHYTHM_IDS, SINUS_IDS

SCENARIOS = ("control", "af_80", "af_120", "af_80_f", "af_120_f")
RR_CV = 0.25
RR_RANGE = (0.6, 1.6)
F_MV = {"V1": 0.10, "II": 0.05, "III": 0.05, "aVF": 0.05}
F_MV_OTHER = 0.03
F_SMOOTH_S = 0.15
F_SD_HZ = 2.0
CONDUCTION_IDS = {"s:rbbb", "s:irbbb", "s:lbbb", "s:ilbbb", "s:lafb", "s:lpfb", "s:ivcd",
                  "s:bifascicular"}
FLAG_IDS = {"s:vt", "s:wct", "s:nsvt"}


def af_onsets(mean_rr_ms: float, rng: np.random.Generator) -> list[float]:
    """QRS onsets (ms) with independent RR intervals around ``mean_rr_ms``."""
    out, t = [], 311.0
    while t < SECONDS * 1000.0:
        out.append(t)
        k = float(np.clip(1.0 + RR_CV * rng.standard_normal(), *RR_RANGE))
        t += mean_rr_ms * k
    return out


def f_waves(n: int, fs: float, leads: list[str], rng: np.random.Generator) -> np.ndarray:
    """Fibrillatory waves (samples x leads): an oscillation around 6 Hz whose frequency
    (SD ``F_SD_HZ``, within 3.5-9 Hz) and amplitude wander (noise smoothed over
    ``F_SMOOTH_S``), each lead its own, scaled per lead (``F_MV``). The wander was set so
    that the waves are as disorganised as LUDB's fibrillation records: the flutter search's
    organisation index (tools.rhythm._flutter_rate) of these waves has median 0.32 (0.25-0.43
    over 20 draws) against 0.19-0.39 (one lead 0.51) in II, III, aVF and V1 of LUDB's AF
    records and 0.44-0.78 of its two flutter records. A first model (SD 0.7 Hz) gave 0.70-0.80,
    as organised as flutter, and was read as flutter on 59 of 136 records."""
    w = max(1, int(F_SMOOTH_S * fs))

    def wander() -> np.ndarray:
        z = np.convolve(rng.standard_normal(n + w), np.ones(w) / w, mode="same")[:n]
        return z / (z.std() or 1.0)

    out = np.zeros((n, len(leads)))
    for j, lead in enumerate(leads):
        freq = np.clip(6.0 + F_SD_HZ * wander(), 3.5, 9.0)
        phase = 2 * np.pi * np.cumsum(freq) / fs + rng.uniform(0, 2 * np.pi)
        env = np.clip(0.75 + 0.25 * wander(), 0.3, 1.2)
        out[:, j] = F_MV.get(lead, F_MV_OTHER) * env * np.sin(phase)
    return out


def for_rate(pc: dict, mean_rr_ms: float, source_rr_ms: float | None) -> dict:
    """``pc`` with its ST-T shortened for the rate (square root of the RR ratio, as
    benchmarks.wct_bench), the QRS and the lead-in kept."""
    if not source_rr_ms or mean_rr_ms >= source_rr_ms:
        return pc
    q = pc["qrst"]
    cut = pc["qrs_lead_in"] + int(round(pc["qrs_samples"]))
    qrs, stt = q[:cut], q[cut:]
    n_new = max(2, int(round(stt.shape[0] * np.sqrt(mean_rr_ms / source_rr_ms))))
    x_old, x_new = np.linspace(0, 1, stt.shape[0]), np.linspace(0, 1, n_new)
    stt = np.stack([np.interp(x_new, x_old, stt[:, j]) for j in range(q.shape[1])], axis=1)
    return pc | {"qrst": np.concatenate([qrs, stt], axis=0)}


def rebuilt(analysis, scenario: str, seed: int):
    """The record of one scenario (module docstring) from a source record's analysis, or
    None when the source has no sinus beat with a P wave to take the complex from."""
    from dataclasses import replace

    pc = pieces(analysis)
    if pc is None:
        return None
    fs = analysis.record.fs
    pc["qrs_samples"] = pc["qrs_ms"] * fs / 1000.0
    rng = np.random.default_rng(seed)
    if scenario == "control":
        ps = list(np.arange(P_START_MS, SECONDS * 1000.0, 750.0))
        pr = min(pc["pr_ms"], CONTROL_MAX_PR_MS)
        return rebuild(analysis.record, pc, ps, [p + pr for p in ps], seed=seed)
    mean_rr = 750.0 if scenario.startswith("af_80") else 500.0
    piece = for_rate(pc, mean_rr, analysis.measurements["rr_ms"].value)
    rec = rebuild(analysis.record, piece, [], af_onsets(mean_rr, rng), seed=seed)
    if scenario.endswith("_f"):
        sig = np.asarray(rec.signal, float)
        rec = replace(rec, signal=sig + f_waves(sig.shape[0], fs, list(rec.sig_name), rng))
    return rec


def _one(args: tuple[str, tuple]) -> dict | None:
    path, (scenarios, noise) = args
    runs = rebuilt_runs(path, scenarios, lambda a, pc, sc, seed: rebuilt(a, sc, seed), noise)
    if runs is None:
        return None
    (name, pc), analysed = runs
    rows = [{"scenario": sc, "ids": sorted({s.id for s in t.statements}),
             "hr_bpm": t.measurements["hr_bpm"].value, "qrs_ms": t.measurements["qrs_ms"].value}
            for sc, t in analysed]
    return {"record": name, "source": source_of(name), "source_qrs_ms": round(pc["qrs_ms"]),
            "rows": rows}


def summarise(results: list[dict], scenarios: tuple[str, ...] = SCENARIOS) -> dict:
    out = {}
    for sc in scenarios:
        rows, new_cond, deltas = [], Counter(), []
        for r in results:
            by = {row["scenario"]: row for row in r["rows"]}
            if sc not in by:
                continue
            row, ctrl = by[sc], by.get("control")
            rows.append((r, row))
            if ctrl is not None and sc != "control":
                if not CONDUCTION_IDS & set(ctrl["ids"]):
                    new_cond.update(CONDUCTION_IDS & set(row["ids"]))
                if row["qrs_ms"] is not None and ctrl["qrs_ms"] is not None:
                    deltas.append(row["qrs_ms"] - ctrl["qrs_ms"])
        n = max(1, len(rows))
        per_source = {}
        for src in sorted({r["source"] for r, _ in rows}):
            sel = [row for r, row in rows if r["source"] == src]
            per_source[src] = {"n": len(sel), "af": round(
                sum("s:af" in row["ids"] for row in sel) / len(sel), 2)}
        out[sc] = {
            "n": len(rows),
            "af": round(sum("s:af" in row["ids"] for _, row in rows) / n, 2),
            "flutter": sum("s:afl" in row["ids"] for _, row in rows),
            "sinus": sum(bool(SINUS_IDS & set(row["ids"])) for _, row in rows),
            "vt_wct": sum(bool(FLAG_IDS & set(row["ids"])) for _, row in rows),
            "rhythm_statements": dict(Counter(i for _, row in rows for i in row["ids"]
                                              if i in RHYTHM_IDS)),
            "new_conduction": dict(new_cond),
            "qrs_delta_ms": median(deltas) if deltas else None,
            # the rebuilt record's QRS against the source beat's own width: rebuilding
            # itself widens the learned QRS (see README, rebuilt rhythms)
            "qrs_minus_source_ms": qrs_minus_source(rows),
            "not_af": [r["record"] for r, row in rows if "s:af" not in row["ids"]],
            "per_source": per_source,
        }
    return out


def main(argv: list[str] | None = None) -> int:
    args = common.scenario_args(argv, __doc__, SCENARIOS, "af_bench")
    scenarios = tuple(args.scenarios)
    if "control" not in scenarios:
        scenarios = ("control",) + scenarios   # the reference for new statements
    paths = common.shared_record_paths()[:args.limit]
    results = [r for r in common.map_records("af", _one, paths, (scenarios, args.noise), args.jobs)
               if r is not None]
    summary = summarise(results, scenarios)
    print(common.table(["scenario", "n", "AF", "flutter", "sinus", "VT/WCT",
                        "QRS delta ms"],
                       [[sc, s["n"], s["af"], s["flutter"], s["sinus"], s["vt_wct"],
                         s["qrs_delta_ms"]] for sc, s in summary.items()], digits=2))
    for sc, s in summary.items():
        print(sc, "per source:", {k: v["af"] for k, v in s["per_source"].items()},
              "rhythm statements:", s["rhythm_statements"],
              "new conduction statements:", s["new_conduction"])
    path = common.write_json(args.out, {"summary": summary, "records": results})
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
