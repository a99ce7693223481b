"""Wide-complex tachycardia discriminators measured from the signal.

In a regular tachycardia with QRS >= 120 ms the question is ventricular tachycardia (VT)
versus supraventricular tachycardia with aberrant conduction. The guideline's safety rule is
to treat a wide-complex tachycardia (WCT) as VT unless proven otherwise (2017 AHA/ACC/HRS
guideline for ventricular arrhythmias, Al-Khatib et al., Circulation 138:e272, 2018). The
published discriminators measured here, each a positive argument for VT:

* Brugada et al., "A new approach to the differential diagnosis of a regular tachycardia with
  a wide QRS complex", Circulation 83:1649-1659, 1991: step 1, no RS complex in any precordial
  lead; step 2, an RS interval (QRS onset to the nadir of S) > 100 ms in a precordial lead;
  step 3, AV dissociation (from :mod:`tools.atrial`); step 4, QRS morphology criteria for VT
  in both V1 (or V2) and V6: with a right bundle branch block-like QRS (positive in V1) the
  criteria of Wellens et al. 1978 (V1 monophasic R, QR or RS; V6 QS, QR or R smaller than
  S), with a left bundle branch block-like QRS those of Kindwall et al. (Am J Cardiol
  61:1279, 1988; V1 or V2 R wider than 30 ms or more than 60 ms from QRS onset to the S
  nadir; any Q wave in V6). The notched S downstroke of Kindwall's list is not assessed.
* Vereckei et al., "New algorithm using only lead aVR for differential diagnosis of wide QRS
  complex tachycardia", Heart Rhythm 5:89-98, 2008: step 1, an initial R wave in aVR (R or Rs:
  the R is the dominant wave); step 2, an initial r or q wider than 40 ms; step 4, vi/vt <= 1
  (voltage excursion of the first 40 ms over that of the last 40 ms of the QRS). Step 3, a
  notch on the initial downstroke of a predominantly negative QRS, is not assessed (no
  published size for the notch).
* Northwest ("extreme") frontal axis, -90..-180 deg, and negative or positive precordial
  concordance (Wellens et al., Am J Med 64:27, 1978; listed by the 2017 guideline).
* Capture and fusion beats (Wellens et al. 1978; manifestations of AV dissociation, Brugada
  1991 step 3): a clearly narrower complex ahead of the tachycardia's cycle
  (:func:`capture_beats`); the two are not told apart.

All amplitudes are against the beat's PR-level baseline, per dominant beat, then the median
over beats; positions are the reconciled global QRS boundaries.
"""
from __future__ import annotations

import numpy as np

from tools.measure import WIDER_MS

PRECORDIAL = ("V1", "V2", "V3", "V4", "V5", "V6")
_MIN_MV = 0.10          # smallest deflection counted as a wave (R, S, initial r/q)
#: a capture or fusion beat is at least this much narrower than the tachycardia's complexes:
#: the margin by which a beat is typed wider than the rest (tools.measure.mark_ectopy)
CAPTURE_NARROWER_MS = WIDER_MS


def capture_beats(beats, fs: float) -> list[int]:
    """Indices of capture or fusion beats in a wide rhythm (median QRS >= 120 ms): beats
    typed premature and supraventricular (:func:`tools.measure.mark_ectopy`: RR < 85 % of
    the median and a longer RR after) whose QRS is >= ``CAPTURE_NARROWER_MS`` narrower than
    the median. A sinus impulse that reaches the ventricles ahead of the next wide complex
    and conducts normally (capture), or meets the ventricular wavefront (fusion), shows the
    wide complexes arise below the AV node (Wellens et al., Am J Med 64:27, 1978): with a
    supraventricular tachycardia and a bundle branch block, fixed or rate-related, an
    earlier beat conducts no narrower (Ashman beats in an irregular rhythm are the other way
    round: the rule is only read in a regular wide tachycardia). Not 'QRS < 120 ms': an
    early beat lands on the previous complex's T wave, and on complexes rebuilt from the
    shared records a 96-ms conducted beat 80 % of a cycle early measured 120-128 ms
    (``benchmarks.wct_bench --capture``)."""
    widths = [(b.qrs_off - b.qrs_on) * 1000.0 / fs for b in beats]
    if len(widths) < 4:
        return []
    med = float(np.median(widths))
    if med < 120.0:
        return []
    return [b.index for b, w in zip(beats, widths) if b.kind == "supraventricular"
            and w <= med - CAPTURE_NARROWER_MS]


def _rs(q: np.ndarray, fs: float) -> tuple[bool, float | None, int]:
    """(RS complex present, RS interval ms, polarity) of one lead's QRS: an R >= 0.1 mV
    followed by an S <= -0.1 mV; the interval runs from QRS onset to the S nadir. Polarity
    +1 when the positive deflection is >= 2x the negative, -1 for the reverse, else 0."""
    if q.size < 3:
        return False, None, 0
    ir = int(np.argmax(q))
    r = float(q[ir])
    after = q[ir:]
    i_s = ir + int(np.argmin(after))
    s = float(q[i_s])
    present = r >= _MIN_MV and s <= -_MIN_MV
    neg = -float(q.min())
    pol = 1 if r >= 2 * max(neg, 0.0) and r >= _MIN_MV else \
        (-1 if neg >= 2 * max(r, 0.0) and neg >= _MIN_MV else 0)
    return present, (i_s * 1000.0 / fs if present else None), pol


def _waves(q: np.ndarray) -> list[tuple[int, int, int, int]]:
    """(sign, start, end, peak index) of the QRS's waves: runs of one sign whose peak reaches
    ``_MIN_MV``, neighbours of one sign (split by a smaller deflection) merged."""
    sign = np.sign(q)
    cuts = np.flatnonzero(np.diff(sign) != 0) + 1
    out: list[list[int]] = []
    for a, b in zip(np.r_[0, cuts], np.r_[cuts, q.size] - 1):
        k = int(a) + int(np.argmax(np.abs(q[a:b + 1])))
        if sign[a] == 0 or abs(q[k]) < _MIN_MV:
            continue
        if out and out[-1][0] == sign[a]:
            prev = out[-1]
            out[-1] = [prev[0], prev[1], int(b), prev[3] if abs(q[prev[3]]) >= abs(q[k]) else k]
        else:
            out.append([int(sign[a]), int(a), int(b), k])
    return [tuple(w) for w in out]


def _step4_leads(q: dict[str, np.ndarray], fs: float) -> tuple[bool, str] | None:
    """Brugada's step 4 on one beat's V1, V2 and V6 QRS (dict by lead): (met, the shape
    read), None when V1 or V6 is missing or has no wave."""
    if "V1" not in q or "V6" not in q:
        return None
    waves = {lead: _waves(x) for lead, x in q.items()}
    if not waves["V1"] or not waves["V6"]:
        return None
    pattern = {lead: "".join("+" if w[0] > 0 else "-" for w in ws) for lead, ws in waves.items()}
    v6, ms = q["V6"], 1000.0 / fs
    if q["V1"].max() >= -q["V1"].min():
        # RBBB-like: V1 monophasic R, QR or RS (not the triphasic rsR' of aberrancy); V6 QS,
        # QR, or an R smaller than the S after it
        v1_ok = pattern["V1"] in ("+", "-+", "+-")
        r6 = max((v6[w[3]] for w in waves["V6"] if w[0] > 0), default=0.0)
        s6 = min((v6[w[3]] for w in waves["V6"] if w[0] < 0 and w[1] > np.argmax(v6)),
                 default=0.0)
        v6_ok = pattern["V6"] in ("-", "-+") or r6 < -s6
        return bool(v1_ok and v6_ok), f"RBBB-like: V1 {pattern['V1']}, V6 {pattern['V6']}"
    # LBBB-like: in V1 or V2 an initial R > 30 ms or > 60 ms from QRS onset to the S nadir;
    # any Q wave in V6
    v12_ok = False
    for lead in ("V1", "V2"):
        ws = waves.get(lead) or []
        if ws and ws[0][0] > 0 and (ws[0][2] - ws[0][1] + 1) * ms > 30:
            v12_ok = True
        deepest = min((w for w in ws if w[0] < 0), key=lambda w: q[lead][w[3]], default=None)
        if deepest is not None and deepest[3] * ms > 60:
            v12_ok = True
    v6_ok = pattern["V6"].startswith("-")
    return bool(v12_ok and v6_ok), f"LBBB-like: V1 {pattern['V1']}, V6 {pattern['V6']}"


def _avr(q: np.ndarray, fs: float) -> dict:
    """Vereckei's aVR features of one QRS: initial R, initial r/q width (ms), vi/vt."""
    w40 = max(2, int(round(0.040 * fs)))
    out = {"initial_r": False, "initial_wave_ms": None, "vi_vt": None}
    if q.size < 2 * w40:
        return out
    first = np.flatnonzero(np.abs(q) >= _MIN_MV)
    if first.size:
        sign = np.sign(q[first[0]])
        # step 1 is an initial *R*: a dominant R (R or Rs complex); a small initial r before
        # a deeper S (rS) is step 2's 'initial r', judged by its width (Vereckei 2008 asks
        # for both, which would be one question if any initial r counted in step 1)
        out["initial_r"] = bool(sign > 0 and q.max() >= -q.min())
        # width of the initial r or q: until the signal crosses back through the baseline
        # into a wave of the other sign (>= 0.1 mV); a QS complex has no separate q wave
        rest = q[first[0]:]
        cross = np.flatnonzero(np.sign(rest) != sign)
        if cross.size and np.max(-sign * rest[cross[0]:]) >= _MIN_MV:
            out["initial_wave_ms"] = (first[0] + int(cross[0])) * 1000.0 / fs
    vi = float(np.ptp(q[:w40]))
    vt = float(np.ptp(q[-w40:]))
    out["vi_vt"] = vi / vt if vt > 1e-6 else None
    return out


def wct_discriminators(sig: np.ndarray, usable: list[str], beats, fs: float,
                       qrs_axis_deg: float | None) -> dict:
    """The discriminators above from the dominant beats; a key is None when the lead(s) it
    needs are not usable."""
    from tools.measure import dominant, in_lead, isoelectric

    dom = [b for b in dominant(beats) if b.qrs_off > b.qrs_on]
    out: dict = {"northwest_axis": None, "concordance": None, "rs_absent": None,
                 "rs_max_ms": None, "avr_initial_r": None, "avr_initial_wave_ms": None,
                 "avr_vi_vt": None, "morphology_vt": None, "morphology": None, "leads": [],
                 "capture_beats": []}
    if qrs_axis_deg is not None:
        out["northwest_axis"] = bool(-180.0 <= qrs_axis_deg < -90.0)
    out["capture_beats"] = capture_beats(beats, fs)
    if not dom:
        return out
    x = sig - isoelectric(sig, beats, fs)
    # on a page printed lead by lead each lead has the beats printed in it
    drawn = {lead: [b for b in dom if in_lead(x[:, usable.index(lead)], b, fs)]
             for lead in usable}
    prec = [lead for lead in PRECORDIAL if lead in usable and drawn[lead]]
    if len(prec) == 6:
        per_lead = {}
        for lead in prec:
            j = usable.index(lead)
            vals = [_rs(x[b.qrs_on:b.qrs_off + 1, j], fs) for b in drawn[lead]]
            present = sum(v[0] for v in vals) > len(vals) / 2
            rs_ms = [v[1] for v in vals if v[1] is not None]
            pol = int(np.sign(np.median([v[2] for v in vals])))
            per_lead[lead] = (present, float(np.median(rs_ms)) if rs_ms else None, pol)
        out["rs_absent"] = not any(v[0] for v in per_lead.values())
        rs = [v[1] for v in per_lead.values() if v[0] and v[1] is not None]
        out["rs_max_ms"] = max(rs) if rs else None
        pols = {v[2] for v in per_lead.values()}
        out["concordance"] = ("positive" if pols == {1} else
                              "negative" if pols == {-1} else "none")
        out["leads"] += prec
        step4 = [_step4_leads({lead: x[b.qrs_on:b.qrs_off + 1, usable.index(lead)]
                               for lead in ("V1", "V2", "V6") if b in drawn[lead]}, fs)
                 for b in dom]
        step4 = [v for v in step4 if v is not None]
        if step4:
            met = bool(sum(v[0] for v in step4) > len(step4) / 2)
            shapes = [v[1] for v in step4 if v[0] == met]  # the shape the verdict rests on
            out["morphology_vt"] = met
            out["morphology"] = max(set(shapes), key=shapes.count)
    if "aVR" in usable and drawn["aVR"]:
        j = usable.index("aVR")
        feats = [_avr(x[b.qrs_on:b.qrs_off + 1, j], fs) for b in drawn["aVR"]]
        out["avr_initial_r"] = sum(f["initial_r"] for f in feats) > len(feats) / 2
        widths = [f["initial_wave_ms"] for f in feats if f["initial_wave_ms"] is not None]
        out["avr_initial_wave_ms"] = float(np.median(widths)) if widths else None
        ratios = [f["vi_vt"] for f in feats if f["vi_vt"] is not None]
        out["avr_vi_vt"] = float(np.median(ratios)) if ratios else None
        out["leads"].append("aVR")
    return out


def vt_arguments(d: dict, av_dissociation: bool | None) -> list[str]:
    """The discriminators that argue for VT, in words with their source."""
    args = []
    if d.get("rs_absent"):
        args.append("no RS complex in any precordial lead (Brugada 1991 step 1)")
    if d.get("rs_max_ms") is not None and d["rs_max_ms"] > 100:
        args.append(f"RS interval {d['rs_max_ms']:.0f} ms > 100 ms (Brugada 1991 step 2)")
    captures = d.get("capture_beats") or []
    if captures:
        with_av = " with AV dissociation" if av_dissociation else ""
        args.append(f"{len(captures)} capture or fusion beat(s), early and >= "
                    f"{CAPTURE_NARROWER_MS:.0f} ms narrower than the wide complexes (Wellens "
                    f"1978){with_av} (Brugada 1991 step 3)")
    elif av_dissociation:
        args.append("AV dissociation (Brugada 1991 step 3)")
    if d.get("morphology_vt"):
        args.append(f"QRS morphology criteria for VT in V1-V2 and V6, {d['morphology']} "
                    "(Brugada 1991 step 4)")
    if d.get("avr_initial_r"):
        args.append("initial R wave in aVR (Vereckei 2008 step 1)")
    elif d.get("avr_initial_wave_ms") is not None and d["avr_initial_wave_ms"] > 40:
        args.append(f"initial r/q in aVR {d['avr_initial_wave_ms']:.0f} ms > 40 ms "
                    "(Vereckei 2008 step 2)")
    if d.get("avr_vi_vt") is not None and d["avr_vi_vt"] <= 1.0:
        args.append(f"vi/vt in aVR {d['avr_vi_vt']:.2f} <= 1 (Vereckei 2008 step 4)")
    if d.get("northwest_axis"):
        args.append("northwest frontal axis (-90..-180 deg)")
    if d.get("concordance") in ("positive", "negative"):
        args.append(f"{d['concordance']} precordial concordance")
    return args
