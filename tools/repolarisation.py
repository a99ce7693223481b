"""ST segment and T wave statements: ST elevation and depression by territory with reciprocal
change (UDMI 2018), T-wave inversion by territory, flat or low T waves (AHA/ACCF/HRS 2009
part IV) and the Brugada type 1 pattern (2013 expert consensus). The STEMI equivalents, LVH
with repolarisation abnormality and early repolarization are in :mod:`tools.morphology`.

Amplitudes are per lead, from :func:`tools.measure.lead_amplitudes` (median over dominant
beats, PR-segment baseline); none of this applies to amplitude-normalised records.
"""
from __future__ import annotations

import numpy as np

from tools.evidence import Statement
from tools.statements import (_CONTIGUOUS, LIMB, RECIPROCAL, TERRITORIES, UDMI, UDMI_PAIRS,
                              Features, _conf, _stmt)


def _contiguous_hits(leads: set[str], territory: list[str]) -> list[str]:
    """Leads of ``territory`` in ``leads`` with a UDMI-contiguous partner
    (:data:`tools.statements.UDMI_PAIRS`) also in ``leads``; the partner may lie in the
    neighbouring territory (V4 with V5)."""
    paired = {lead for pair in UDMI_PAIRS if all(x in leads for x in pair) for lead in pair}
    return [lead for lead in territory if lead in paired]


ESC_2012_RBBB = ("ESC 2012 STEMI guideline (Steg et al., Eur Heart J 33:2569, 2012): 'RBBB "
                 "usually will not hamper interpretation of ST-segment elevation'")
#: wide complexes whose ST segment the plain criteria cannot read: LBBB and ventricular
#: pacing (the modified Sgarbossa criteria apply: tools.morphology.stemi_equivalent), a
#: wide rhythm of possibly ventricular origin, pre-excitation
SECONDARY_ST = frozenset({"s:lbbb", "s:wide_rhythm", "s:wpw"})


def st_t_statements(f: Features, stated: frozenset[str] | set[str] = frozenset()
                    ) -> list[Statement]:
    """ST elevation / depression at the J point with the UDMI 2018 thresholds, and T-wave
    inversion, in >= 2 contiguous leads of one territory. With a limb-lead reversal
    suspected, the limb leads' ST depression and T waves are not read, and their ST
    elevation is stated with that caveat.

    With QRS >= 120 ms only ST elevation is judged, and not at all with LBBB, ventricular
    pacing, a wide rhythm of unknown origin or pre-excitation (``stated``,
    :data:`SECONDARY_ST`), whose secondary ST-T changes the plain criteria misread (AHA
    2009 part IV). UDMI 2018 sets its criteria aside only in LVH and LBBB, and with RBBB
    'ST elevation' still reads (ESC 2012): before, every wide QRS set them aside, so RBBB
    or a nonspecific conduction delay hid an inferior ST elevation of 0.2-0.3 mV, and an
    ST elevation merging with the end of the QRS, which the delineator then measured
    >= 120 ms ('IVCD'), hid itself (benchmarks.stemi_bench). The ST depression and T
    inversion of a wide QRS are not stated: they are expected there (secondary)."""
    out, q = [], f.quality_factor
    if f.paced_qrs or (f.qrs_wide and stated & SECONDARY_ST):
        return out
    secondary = f.qrs_wide
    # V2-V3 limits by sex and age; with the sex not given, the women's (lowest) limit and,
    # with the age not given, the limit of men >= 40: a missed STEMI pattern is worse than
    # a false alarm
    men = f.sex == "M"
    young = f.age is not None and f.age < 40

    def ste_limit(lead):
        if lead in ("V2", "V3"):
            return 0.15 if not men else (0.25 if young else 0.2)
        return 0.1

    # with a limb-lead reversal suspected the limb leads' ST depression and T waves are not
    # read, but their ST elevation is, with a caveat: added inferior ST elevation made a
    # reversal look likely and so hid itself (Georgia E07514, benchmarks.stemi_bench's
    # first version)
    skip = set(LIMB) if f.reversal[0] else set()
    st = {lead: a["st_j_mv"] for lead, a in f.amp.items()
          if np.isfinite(a.get("st_j_mv", np.nan))}
    elev = {lead for lead, v in st.items() if lead != "aVR" and v >= ste_limit(lead)}
    # UDMI 2018: "new horizontal or downsloping ST depression >= 0.05 mV": the ST must not
    # rise between the J point and J + 60 ms (an upsloping J-point depression, normal at
    # fast rates, is not ischaemic ST depression)
    st60 = {lead: f.amp[lead].get("st60_mv", np.nan) for lead in st}
    dep = {lead for lead, v in st.items() if lead != "aVR" and lead not in skip
           and v <= -0.05 and np.isfinite(st60[lead]) and st60[lead] <= v}
    for terr, tl in TERRITORIES.items():
        for kind, sel, snomed, crit in (
                ("ste", elev, "164931005",
                 "ST elevation at the J point >= 0.1 mV (V2-V3: >= 0.2 mV men >= 40 y, "
                 "0.25 mV men < 40 y, 0.15 mV women"
                 + (" or sex not given" if f.sex is None else "") + ") in >= 2 contiguous "
                 "leads"),
                ("std", set() if secondary else dep, "429622005",
                 "horizontal or downsloping ST depression (J point >= 0.05 mV below baseline, "
                 "no rise to J + 60 ms) in >= 2 contiguous leads")):
            hit = _contiguous_hits(sel, tl)
            if hit:
                margin = max((st[lead] - ste_limit(lead)) if kind == "ste"
                             else (-st[lead] - 0.05) for lead in hit)
                recip = [lead for lead in RECIPROCAL.get(terr, ()) if lead in st
                         and lead not in skip and st[lead] <= -0.05] if kind == "ste" else []
                reversed_limbs = kind == "ste" and bool(skip & set(hit))
                ids = [f"m:amp.{lead}.st_j_mv" for lead in hit + recip] + \
                    ([f"m:amp.{lead}.st60_mv" for lead in hit] if kind == "std" else [])
                # reciprocal depression makes an occlusion more likely than pericarditis or
                # early repolarisation (UDMI 2018; 2013 ACCF/AHA STEMI guideline)
                label = (f"ST {'elevation' if kind == 'ste' else 'depression'}, {terr} leads"
                         + (" with reciprocal ST depression" if recip else ""))
                st_ = _stmt(f"{kind}_{terr}", label, snomed,
                            crit + (f"; reciprocal ST depression >= 0.05 mV in "
                                    f"{', '.join(recip)}" if recip else "")
                            + ("; QRS >= 120 ms without LBBB or pacing, where the "
                               "ST-elevation criteria still apply (UDMI 2018 sets them aside "
                               "only in LVH and LBBB; " + ESC_2012_RBBB + ")"
                               if secondary else "")
                            + ("; limb-lead reversal suspected: the limb leads' territory may "
                               "be misnamed, the elevation is stated all the same (a missed "
                               "occlusion is worse than a false alarm)"
                               if reversed_limbs else ""), UDMI, ids,
                            min(1.0, _conf(margin, 0.05, q) * (1.0 if recip else 0.9)),
                            hit + recip)
                out.append(st_.model_copy(update={"urgent": kind == "ste"}))
    # UDMI 2018: T inversion > 0.1 mV in two contiguous leads with a prominent R wave or R/S
    # > 1 (the R/S is the measurable one)
    tinv = set() if secondary else {
        lead for lead, a in f.amp.items()
        if lead not in ("aVR", "V1") and lead not in skip
        and a.get("t_mv", 0) < -0.1 and a.get("r_mv", 0) > -min(a.get("s_mv", 0.0), 0.0)}
    by_terr = {terr: _contiguous_hits(tinv, tl) for terr, tl in TERRITORIES.items()}
    by_terr = {terr: h for terr, h in by_terr.items() if h}
    hit = sorted({lead for h in by_terr.values() for lead in h})
    if len(hit) >= 2:
        worst = max(-f.amp[lead]["t_mv"] for lead in hit)
        # named by territory, as the ST statements are: the territory points to the
        # coronary artery when the cause is ischaemic (UDMI 2018)
        terrs = " and ".join(by_terr)
        out.append(_stmt("tinv", f"T-wave inversion, {terrs} leads", "59931005",
                         "T wave < -0.1 mV in >= 2 contiguous leads with R/S > 1 "
                         "(aVR and V1 excluded); " + "; ".join(
                             f"{terr}: {', '.join(h)}" for terr, h in by_terr.items()),
                         UDMI, [f"m:amp.{lead}.t_mv" for lead in hit],
                         _conf(worst - 0.1, 0.05, q) * 0.9, hit))
    return out


BRUGADA_SRC = ("HRS/EHRA/APHRS 2013 expert consensus on inherited primary arrhythmia syndromes "
               "(Priori et al., Heart Rhythm 10:1932, 2013)")


def brugada_statements(f: Features, stated: set[str] = frozenset()) -> list[Statement]:
    """Type 1 (coved) Brugada pattern: J-point (ST) elevation >= 0.2 mV in V1 or V2, the ST
    descending from the J point to J + 60 ms (coved, not saddleback) into a negative T wave.
    Needs millivolts; not with pacing, a ventricular or undetermined wide rhythm, LBBB or
    pre-excitation (:data:`SECONDARY_ST`), whose right precordial ST is secondary, nor with a
    complete RBBB, whose terminal R' in V1-V2 lands on the J point and descends into the
    block's own negative T (an atypical RBBB is the pattern's first differential; rebuilt
    variants of the RBBB records E07509/E07510 read 'Brugada' 8 times). A wide QRS alone
    does not exclude it: the 2013 consensus sets no QRS limit."""
    out, q = [], f.quality_factor
    if f.paced_qrs or f.amplitude_normalised or stated & (SECONDARY_ST | {"s:rbbb"}):
        return out
    hits = []
    for lead in ("V1", "V2"):
        a = f.amp.get(lead)
        if not a:
            continue
        j, st60, t = a.get("st_j_mv", np.nan), a.get("st60_mv", np.nan), a.get("t_mv", np.nan)
        if np.isfinite([j, st60, t]).all() and j >= 0.2 and st60 < j and t < 0:
            hits.append(lead)
    if hits:
        worst = max(f.amp[lead]["st_j_mv"] for lead in hits)
        out.append(_stmt("brugada", "Brugada type 1 (coved) pattern", "418818005",
                         f"J-point elevation >= 0.2 mV descending (coved) into a negative T "
                         f"wave in {', '.join(hits)}", BRUGADA_SRC,
                         [f"m:amp.{lead}.{k}" for lead in hits
                          for k in ("st_j_mv", "st60_mv", "t_mv")],
                         _conf(worst - 0.2, 0.05, q) * 0.8, hits))
    return out


RAUTAHARJU_2009 = ("AHA/ACCF/HRS 2009 recommendations, part IV: the ST segment, T and U waves "
                   "and the QT interval (Rautaharju et al., Circulation 119:e241, 2009)")
#: leads where the T wave is normally upright, so that a flat or low one is abnormal (part IV);
#: aVL only where its R wave is >= 0.5 mV (a small QRS in aVL carries a small T normally:
#: Minnesota Code 5-3, Prineas, Crow & Zhang, 2nd ed., 2010)
FLAT_T_LEADS = ("I", "II", "aVL", "V4", "V5", "V6")


def flat_t_statements(f: Features, stated: set[str]) -> list[Statement]:
    """Flat or low T waves (AHA/ACCF/HRS 2009 part IV): a T wave is flat when its peak lies
    between -0.1 and +0.1 mV, low when it is under 10 % of the R wave of the same lead, in
    I, II, aVL, V4-V6. Stated when >= 2 contiguous of these leads show it, as the T-wave
    inversion statement asks, so that one lead's noise or a T axis that happens to be
    perpendicular to one lead does not make a statement. Not stated with QRS >= 120 ms or
    pacing (secondary T changes), nor when T-wave inversion already covers the T waves, nor
    beside ST elevation: the T amplitude is read from the baseline, so an elevated ST segment
    carries the T with it, and a nonspecific statement must not crowd an urgent one.

    It replaced Minnesota Code 5-3/5-4 (|T| < 0.05 mV, T/R < 1/20 with R >= 1.0 mV), a
    population-survey code stricter than the clinical definition: on the 50 CinC records it
    stated 0 of 10 labelled T-wave abnormalities."""
    out, q = [], f.quality_factor
    if f.paced_qrs or f.qrs_wide or "s:tinv" in stated or \
            any(x.startswith("s:ste_") for x in stated):
        return out
    skip = set(LIMB) if f.reversal[0] else set()
    margin = {}  # mV inside the flat or the low limit, whichever is wider
    for lead in FLAT_T_LEADS:
        a = f.amp.get(lead)
        if a is None or lead in skip or not np.isfinite(a.get("t_mv", np.nan)):
            continue
        t, r = a["t_mv"], a.get("r_mv", 0.0)
        if lead == "aVL" and r < 0.5:
            continue
        inside = [0.1 - abs(t)] if -0.1 < t < 0.1 else []
        inside += [0.1 * r - t] if 0 < t < 0.1 * r else []
        if inside:
            margin[lead] = max(inside)
    pairs = [(x, y) for x, y in _CONTIGUOUS if x in margin and y in margin]
    hit = sorted({lead for pair in pairs for lead in pair}, key=FLAT_T_LEADS.index)
    if hit:
        # as sure as the clearer pair's less clear lead: T amplitudes carry ~0.03 mV of noise
        sure = max(min(margin[x], margin[y]) for x, y in pairs)
        out.append(_stmt("tab", "T-wave abnormality: flat or low T waves", "164934002",
                         f"T flat (-0.1 < T < 0.1 mV) or low (T < 10 % of R) in "
                         f"{', '.join(hit)} (>= 2 contiguous of I, II, aVL with R >= 0.5 mV, "
                         f"V4-V6)", RAUTAHARJU_2009, [f"m:amp.{lead}.t_mv" for lead in hit]
                         + [f"m:amp.{lead}.r_mv" for lead in hit],
                         min(0.85, _conf(sure, 0.03, q)), hit))
    return out
