"""Wide-complex tachycardia discriminators measured from the signal.

In a regular tachycardia with QRS >= 120 ms the question is ventricular tachycardia (VT)
versus supraventricular tachycardia with aberrant conduction. The guideline's safety rule is
to treat a wide-complex tachycardia (WCT) as VT unless proven otherwise (2017 AHA/ACC/HRS
guideline for ventricular arrhythmias, Al-Khatib et al., Circulation 138:e272, 2018). The
published discriminators measured here, each a positive argument for VT:

* Brugada et al., "A new approach to the differential diagnosis of a regular tachycardia with
  a wide QRS complex", Circulation 83:1649-1659, 1991: step 1, no RS complex in any precordial
  lead; step 2, an RS interval (QRS onset to the nadir of S) > 100 ms in a precordial lead;
  step 3, AV dissociation (from :mod:`tools.atrial`).
* Vereckei et al., "New algorithm using only lead aVR for differential diagnosis of wide QRS
  complex tachycardia", Heart Rhythm 5:89-98, 2008: step 1, an initial R wave in aVR; step 2,
  an initial r or q wider than 40 ms; step 4, vi/vt <= 1 (voltage excursion of the first
  40 ms over that of the last 40 ms of the QRS).
* Northwest ("extreme") frontal axis, -90..-180 deg, and negative or positive precordial
  concordance (Wellens et al., Am J Med 64:27, 1978; listed by the 2017 guideline).

All amplitudes are against the beat's PR-level baseline, per dominant beat, then the median
over beats; positions are the reconciled global QRS boundaries.
"""
from __future__ import annotations

import numpy as np

PRECORDIAL = ("V1", "V2", "V3", "V4", "V5", "V6")
_MIN_MV = 0.10          # smallest deflection counted as a wave (R, S, initial r/q)


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


def _avr(q: np.ndarray, fs: float) -> dict:
    """Vereckei's aVR features of one QRS: initial R, initial r/q width (ms), vi/vt."""
    w40 = max(2, int(round(0.040 * fs)))
    out = {"initial_r": False, "initial_wave_ms": None, "vi_vt": None}
    if q.size < 2 * w40:
        return out
    first = np.flatnonzero(np.abs(q) >= _MIN_MV)
    if first.size:
        sign = np.sign(q[first[0]])
        out["initial_r"] = bool(sign > 0)
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
                 "avr_vi_vt": None, "leads": []}
    if qrs_axis_deg is not None:
        out["northwest_axis"] = bool(-180.0 <= qrs_axis_deg < -90.0)
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
    if av_dissociation:
        args.append("AV dissociation (Brugada 1991 step 3)")
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
