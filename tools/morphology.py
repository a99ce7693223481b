"""Morphology statements beyond the basic ST-T rules: STEMI equivalents, right ventricular
hypertrophy, LVH with repolarisation abnormality, short QT and QT in a wide QRS.

Every threshold is a published one (sources on each function). All of them need millivolts
except the QT rules; :func:`tools.statements.derive_statements` calls the amplitude rules only
for files that are not amplitude-normalised.
"""
from __future__ import annotations

import numpy as np

from tools.conduction import READ_MV
from tools.evidence import Statement
from tools.statements import AHA_IV, AHA_V, LIMB, UDMI, Features, _axis_deviation, _conf, _stmt

SMITH_2012 = ("Smith-modified Sgarbossa criteria (Smith et al., Ann Emerg Med 60:766, 2012; "
              "Sgarbossa et al., NEJM 334:481, 1996; ventricular pacing: Dodd et al., "
              "Ann Emerg Med 2021)")
OKIN = ("LVH strain pattern: downsloping ST with an inverted asymmetric T opposite the QRS in "
        "V5/V6 (Okin et al., Circulation 113:67, 2006; AHA/ACCF/HRS 2009 part V)")
SQT_SRC = ("2022 ESC guidelines for ventricular arrhythmias and the prevention of sudden "
           "cardiac death (Zeppenfeld et al., Eur Heart J 43:3997): QTc <= 360 ms")
BOGOSSIAN = ("Bogossian et al., Heart Rhythm 11:2273, 2014 (QT - 0.485 x QRS in left bundle "
             "branch block and ventricular pacing); AHA/ACCF/HRS 2009 part IV")


def _finite(*xs) -> bool:
    return bool(np.isfinite(np.array(xs, dtype=float)).all())


def _polarity(a: dict) -> int:
    """+1 when the QRS is mainly positive (R larger than the deepest Q/S), -1 when mainly
    negative, 0 when equiphasic or unmeasured."""
    r, neg = a.get("r_mv", np.nan), -min(a.get("q_mv", 0.0), a.get("s_mv", 0.0))
    if not _finite(r, neg) or abs(r - neg) < 0.05:
        return 0
    return 1 if r > neg else -1


def stemi_equivalent(f: Features, stated: set[str]) -> list[Statement]:
    """One urgent statement, 's:stemi_eq', naming every STEMI-equivalent pattern met.

    * Left bundle branch block or ventricular pacing (where the plain ST rules do not apply):
      the Smith-modified Sgarbossa criteria, any of (1) concordant ST elevation >= 0.1 mV in
      any lead with a positive QRS; (2) concordant ST depression >= 0.1 mV in V1-V3 with a
      negative QRS; (3) ST elevation >= 0.1 mV that is >= 25 % of the preceding S depth
      (ST/S <= -0.25) in a lead with a negative QRS.
    * Narrow QRS: ST depression >= 0.1 mV in >= 8 leads with ST elevation >= 0.1 mV in aVR
      and/or V1 (left main or multivessel ischaemia, UDMI 2018); horizontal or downsloping ST
      depression >= 0.05 mV in >= 2 of V1-V3 with upright T waves, deepest in V1-V3 among the
      precordial leads (posterior, 'inferobasal', ischaemia, UDMI 2018).

    A missed occlusion is worse than a false alarm: the statement asks for action (posterior
    leads, a repeat ECG, troponin), not a diagnosis, and always heads the report.
    """
    if f.amplitude_normalised:
        return []
    amp, q, wide = f.amp, f.quality_factor, f.qrs_wide
    if f.reversal[0]:
        # a suspected limb-lead swap leaves the chest leads as recorded
        amp = {lead: a for lead, a in amp.items() if lead not in LIMB}
    found, ids, leads, margins = [], [], [], []
    if "s:lbbb" in stated or f.paced_qrs:
        conc_e, conc_d, disc = [], [], []
        for lead, a in amp.items():
            j, pol = a.get("st_j_mv", np.nan), _polarity(a)
            if not np.isfinite(j) or pol == 0:
                continue
            s = min(a.get("q_mv", 0.0), a.get("s_mv", 0.0))
            if pol > 0 and j >= 0.1:
                conc_e.append(lead)
                margins.append(j - 0.1)
            elif pol < 0 and lead in ("V1", "V2", "V3") and j <= -0.1:
                conc_d.append(lead)
                margins.append(-j - 0.1)
            elif pol < 0 and j >= 0.1 and s < 0 and j / s <= -0.25:
                disc.append(lead)
                margins.append(min(j - 0.1, (j / -s - 0.25) * 0.4))
        where = "ventricular pacing" if f.paced_qrs else "left bundle branch block"
        for name, hit in (("concordant ST elevation >= 0.1 mV", conc_e),
                          ("concordant ST depression >= 0.1 mV in V1-V3", conc_d),
                          ("excessively discordant ST elevation (ST/S <= -0.25)", disc)):
            if hit:
                found.append(f"{name} in {', '.join(hit)} ({where}; modified Sgarbossa)")
                leads += hit
                ids += [f"m:amp.{x}.{k}" for x in hit for k in ("st_j_mv", "r_mv", "s_mv")]
        source = SMITH_2012
    elif not wide:
        source = UDMI
        depressed = [x for x, a in amp.items() if x not in ("aVR", "V1")
                     and a.get("st_j_mv", np.nan) <= -0.1]
        up = [x for x in ("aVR", "V1") if amp.get(x, {}).get("st_j_mv", np.nan) >= 0.1]
        if len(depressed) >= 8 and up:
            found.append(f"ST depression >= 0.1 mV in {len(depressed)} leads "
                         f"({', '.join(depressed)}) with ST elevation in {', '.join(up)} "
                         "(left main or multivessel ischaemia)")
            leads += depressed + up
            ids += [f"m:amp.{x}.st_j_mv" for x in depressed + up]
            margins.append(len(depressed) - 8 + 0.5)
        post = []
        for x in ("V1", "V2", "V3"):
            a = amp.get(x, {})
            j, st60, t = a.get("st_j_mv", np.nan), a.get("st60_mv", np.nan), a.get("t_mv", np.nan)
            if _finite(j, st60, t) and j <= -0.05 and st60 <= j and t > 0:
                post.append(x)
        contiguous = any(a in post and b in post for a, b in (("V1", "V2"), ("V2", "V3")))
        deepest = min((a.get("st_j_mv", np.inf) for x, a in amp.items()
                       if x in ("V1", "V2", "V3", "V4", "V5", "V6")), default=np.inf)
        if contiguous and min(amp[x]["st_j_mv"] for x in post) <= deepest:
            found.append(f"horizontal or downsloping ST depression >= 0.05 mV with upright T in "
                         f"{', '.join(post)}, deepest in V1-V3 (posterior ischaemia; record "
                         "V7-V9: ST elevation >= 0.05 mV confirms it)")
            leads += post
            ids += [f"m:amp.{x}.{k}" for x in post for k in ("st_j_mv", "st60_mv", "t_mv")]
            margins.append(-min(amp[x]["st_j_mv"] for x in post) - 0.05)
    else:
        return []
    if not found:
        return []
    return [Statement(id="s:stemi_eq",
                      label="STEMI-equivalent pattern: possible acute coronary occlusion",
                      snomed="", criterion="; ".join(found), source=source,
                      evidence_ids=list(dict.fromkeys(ids)),
                      confidence=round(max(0.05, _conf(max(margins), 0.05, q) * 0.9), 2),
                      leads=list(dict.fromkeys(leads)), knowledge_id="k:stemi_equivalents",
                      urgent=True)]


def rvh(f: Features, stated: set[str]) -> list[Statement]:
    """Right ventricular hypertrophy (AHA/ACCF/HRS 2009 part V lists the criteria; each
    alone has low specificity): right axis deviation (QRS axis > +90 deg) together with
    R(V1) >= 0.7 mV or R(V1) + S(V5 or V6) > 1.05 mV (Sokolow & Lyon, Am Heart J 38:273,
    1949). Adults only (right dominance is normal in children), QRS < 120 ms (a right bundle
    branch block raises R' in V1)."""
    axis = f.m.get("qrs_axis_deg")
    v1 = f.amp.get("V1")
    if (axis is None or not v1 or f.qrs_wide
            or (f.age is not None and f.age < 18)):
        return []
    # the right axis deviation must hold by both axis estimates (as for the axis statement
    # itself, tools.statements: a borderline axis is no deviation)
    net = f.m.get("qrs_axis_amplitude_deg")
    if not all(_axis_deviation(x) == "rad" for x in (axis, net) if x is not None):
        return []
    r1 = v1.get("r_mv", np.nan)
    s56 = max((-f.amp[x].get("s_mv", 0.0) for x in ("V5", "V6") if x in f.amp), default=np.nan)
    hits, ids = [], ["m:qrs_axis_deg", "m:amp.V1.r_mv"] + (
        ["m:qrs_axis_amplitude_deg"] if net is not None else [])
    if np.isfinite(r1) and r1 >= 0.7:
        hits.append("R(V1) >= 0.7 mV")
    if _finite(r1, s56) and r1 + s56 > 1.05:
        hits.append("R(V1) + S(V5 or V6) > 1.05 mV")
        ids += [f"m:amp.{x}.s_mv" for x in ("V5", "V6") if x in f.amp]
    if not hits:
        return []
    margin = max(r1 - 0.7, (r1 + s56 - 1.05) if np.isfinite(s56) else -1.0)
    return [_stmt("rvh", "Right ventricular hypertrophy by voltage and axis", "89792004",
                  "QRS axis > +90 deg with " + " or ".join(hits) + f" ({f.narrow_text}, adult)",
                  AHA_V, ids, _conf(margin, 0.15, f.quality_factor) * 0.8,
                  ["V1", "V5", "V6"])]


def lv_strain(f: Features, stated: set[str]) -> list[Statement]:
    """LVH with repolarisation abnormality ('strain'): voltage LVH already stated and, in V5
    or V6 with a mainly positive QRS, ST depressed at the J point and descending to J + 60 ms
    into a T wave <= -0.1 mV (Okin 2006). Not with left bundle branch block, whose own
    secondary ST-T change explains the pattern (AHA 2009 part IV)."""
    if "s:lvh" not in stated or "s:lbbb" in stated:
        return []
    hits = []
    for x in ("V5", "V6"):
        a = f.amp.get(x)
        if not a or _polarity(a) <= 0:
            continue
        j, st60, t = a.get("st_j_mv", np.nan), a.get("st60_mv", np.nan), a.get("t_mv", np.nan)
        if _finite(j, st60, t) and j <= 0.0 and st60 < j and t <= -0.1:
            hits.append(x)
    if not hits:
        return []
    worst = max(-f.amp[x]["t_mv"] for x in hits)
    return [_stmt("lv_strain", "Left ventricular hypertrophy with repolarisation abnormality "
                  "(strain pattern)", "370365005",
                  f"LVH voltage criteria met, and downsloping ST into an inverted T <= -0.1 mV "
                  f"opposite a positive QRS in {', '.join(hits)}", OKIN,
                  ["s:lvh"] + [f"m:amp.{x}.{k}" for x in hits
                               for k in ("st_j_mv", "st60_mv", "t_mv", "r_mv")],
                  _conf(worst - 0.1, 0.05, f.quality_factor) * 0.85, hits)]


def qt_statements(f: Features, stated: set[str]) -> list[Statement]:
    """Short QT (QTc <= 360 ms; narrow QRS, 50-100 bpm, where rate correction is most
    reliable, AHA 2009 part IV) and a prolonged QRS-adjusted QTc in left bundle branch block
    or ventricular pacing (Bogossian 2014; the sex limits of part IV). Other wide QRS keep the
    note that QT was not assessed."""
    m, q, out = f.m, f.quality_factor, []
    qtc, qrs, hr = m.get("qtc_ms"), m.get("qrs_ms"), m.get("hr_bpm")
    if qtc is not None and qrs is not None and qrs < 120 and not f.paced_qrs and \
            hr is not None and 50 <= hr <= 100 and qtc <= 360:
        out.append(_stmt("sqt", "Short QT interval", "77867006",
                         "QTc (Fridericia) <= 360 ms with QRS < 120 ms at 50-100 bpm; a short "
                         "QT syndrome needs more than the ECG (symptoms, family history, "
                         "genetics)", SQT_SRC, ["m:qtc_ms", "m:qt_ms", "m:hr_bpm"],
                         _conf(360 - qtc, 10, q) * 0.85))
    adj = m.get("qtc_qrs_adjusted_ms")
    if adj is not None and ("s:lbbb" in stated or f.paced_qrs):
        lim = 450 if f.sex == "M" else 460
        if adj >= lim:
            out.append(_stmt("lqt", "Prolonged QT interval (QRS-adjusted)", "111975006",
                             f"QRS-adjusted QTc (QT - 0.485 x QRS, Fridericia) >= {lim} ms "
                             f"({'men' if f.sex == 'M' else 'women or sex unknown'}) in "
                             + ("ventricular pacing" if f.paced_qrs else
                                "left bundle branch block"),
                             BOGOSSIAN + "; " + AHA_IV,
                             ["m:qtc_qrs_adjusted_ms", "m:qt_ms", "m:qrs_ms", "m:hr_bpm"],
                             _conf(adj - lim, 10, q) * 0.85))
    return out


MINNESOTA = ("Minnesota Code 1-1 and 1-2, Q and QS patterns (Prineas, Crow & Zhang, The "
             "Minnesota Code Manual of Electrocardiographic Findings, 2nd ed., Springer 2010)")
#: a QS complex has no R wave: no positive deflection of half a millimetre (the reading
#: resolution, tools.conduction.READ_MV) anywhere in the QRS
QS_MAX_R_MV = READ_MV
#: contiguous lead pairs and the territory each names, by UDMI 2018's Q-wave groupings (any
#: two of II, III, aVF; I with aVL; neighbours in V1-V6). Not the ST rules' Cabrera-order
#: pairs (tools.statements._CONTIGUOUS): those join V6 to I and leave II apart from III
Q_PAIRS = (("V2", "V3", "anterior"), ("V3", "V4", "anterior"), ("II", "aVF", "inferior"),
           ("II", "III", "inferior"), ("III", "aVF", "inferior"), ("I", "aVL", "lateral"),
           ("V4", "V5", "lateral"), ("V5", "V6", "lateral"))
#: conduction and rhythm that change the initial QRS forces, so Q waves do not mean infarction
#: (UDMI 2018: left bundle branch block, LVH, pre-excitation; Minnesota: not coded with WPW
#: or complete LBBB); paced and ventricular rhythms never reach this rule
Q_CONFOUNDERS = ("s:lbbb", "s:ilbbb", "s:wpw", "s:lvh", "s:lv_strain")


def q_wave_leads(sh: dict[str, dict], normalised: bool) -> dict[str, dict]:
    """Per lead, whether its median QRS meets the UDMI 2018 Q-wave criterion and a Minnesota
    Code 1-1/1-2 Q or QS code, with the figures behind them.

    UDMI 2018 (ECG changes of prior MI): a Q wave > 20 ms (or a QS complex) in V2-V3;
    elsewhere a Q >= 30 ms and >= 0.1 mV deep, or a QS complex (III counts as the partner
    of II or aVF in the inferior group). Minnesota (a Q or QS must be >= 0.1 mV deep):
    I, II, V6: Q >= 30 ms, or Q >= 20 ms with Q/R >= 1/3, or QS in I/II; V2-V5: Q >= 30
    ms, or Q >= 20 ms with Q/R >= 1/3, QS in all of V1-V3 (1-2-7); aVF: Q >= 40 ms; III: Q
    >= 40 ms with a Q in aVF; aVL: Q >= 40 ms with R >= 0.3 mV. Codes not applied (the
    safe direction: fewer statements): 1-1-6 (QS after an R to the right), 1-2-6 (Q >= 0.5
    mV in III or aVF) and 1-2-8 (R amplitude falling between V5 and V6). A QS has no
    positive deflection of 0.05 mV. On
    amplitude-normalised files the millivolt parts cannot be checked: Q/R >= 1/3 then stands
    for the depth, a QS is a QRS without any positive wave of 10 % of its range, and aVL
    (which needs R >= 0.3 mV) is not coded."""
    def qs(lead):
        s = sh.get(lead)
        return bool(s) and s["lobes"] == "-" and (
            normalised or (s["r_height"] < QS_MAX_R_MV and s["q_depth"] >= 0.1))

    def q_ms(lead):
        s = sh.get(lead)
        if not s or s["q_ms"] <= 0 or s["lobes"] == "-":
            return 0.0
        deep = s["q_depth"] >= s["r_height"] / 3.0 if normalised else s["q_depth"] >= 0.1
        return s["q_ms"] if deep else 0.0

    def ratio(lead):
        s = sh[lead]
        return s["q_depth"] >= s["r_height"] / 3.0

    def minnesota(lead):
        q = q_ms(lead)
        if lead in ("I", "II", "V6"):
            return (qs(lead) and lead != "V6") or q >= 30 or (q >= 20 and ratio(lead))
        if lead in ("V2", "V3", "V4", "V5"):
            return (q >= 30 or (q >= 20 and ratio(lead))
                    or (lead in ("V2", "V3") and all(qs(x) for x in ("V1", "V2", "V3"))))
        if lead == "aVF":
            return q >= 40
        if lead == "III":
            return q >= 40 and q_ms("aVF") > 0
        if lead == "aVL":
            return not normalised and q >= 40 and sh[lead]["r_height"] >= 0.3
        return False

    out = {}
    for lead, s in sh.items():
        if lead in ("V1", "aVR"):
            continue
        q = q_ms(lead)
        udmi = qs(lead) or (q > 20 if lead in ("V2", "V3") else q >= 30)
        out[lead] = {"udmi": udmi, "minnesota": minnesota(lead), "both": udmi and minnesota(lead),
                     "qs": qs(lead),
                     "q_ms": s["q_ms"], "q_depth": s["q_depth"], "r_height": s["r_height"]}
    return out


def q_wave_statements(f: Features, stated: set[str]) -> list[Statement]:
    """Pathological Q waves by territory: two contiguous leads that each meet the UDMI 2018
    Q-wave criterion *and* a Minnesota Code Q/QS code (:func:`q_wave_leads`). In I, II and
    V4-V6 Minnesota accepts whatever UDMI does; where a small q is normal it is stricter (a Q
    in aVF from 40 ms, in III only with one in aVF, in aVL only from 40 ms with a tall R, in
    V2-V3 Q/R >= 1/3 below 30 ms): on the shared CinC records, which carry no Q-wave label,
    UDMI alone was met on 12 of 50, both together on 3. The statement says infarction of
    undetermined age: Q waves form within hours of an occlusion, so with ST elevation they
    belong to an evolving infarction, not a scar. With a limb-lead reversal suspected the
    limb leads are not read (a swapped lead I or aVL makes a QS of its own)."""
    if any(s in stated for s in Q_CONFOUNDERS) or (f.m.get("qrs_ms") is None):
        return []
    shapes = f.shapes
    if f.reversal[0]:
        shapes = {k: v for k, v in shapes.items() if k not in LIMB}
    leads = q_wave_leads(shapes, f.amplitude_normalised)
    found: dict[str, list[str]] = {}
    for a, b, terr in Q_PAIRS:
        if all(leads.get(x, {}).get("both") for x in (a, b)):
            found.setdefault(terr, [])
            found[terr] += [x for x in (a, b) if x not in found[terr]]
    # the QS in V1 behind Minnesota 1-2-7 (QS in all of V1-V3) is evidence too
    v1 = shapes.get("V1")
    v1_qs = bool(v1) and v1["lobes"] == "-"
    out = []
    for terr, ls in found.items():
        def fig(x):
            d = leads[x]
            if d["qs"]:
                return f"{x} QS"
            r = f", Q/R {d['q_depth'] / d['r_height']:.2f}" if d["r_height"] > 0 else ""
            depth = "" if f.amplitude_normalised else f" {d['q_depth']:.2f} mV"
            return f"{x} Q {d['q_ms']:.0f} ms{depth}{r}"

        margins = [30.0 if leads[x]["qs"] else
                   leads[x]["q_ms"] - (20.0 if x in ("V2", "V3") else 30.0) for x in ls]
        crit = ("Q waves in two contiguous leads meeting both the UDMI 2018 criterion (Q > 20 "
                "ms in V2-V3, >= 30 ms and >= 0.1 mV elsewhere, or QS) and a Minnesota Code "
                "1-1/1-2 Q or QS code: " + "; ".join(fig(x) for x in ls)
                + ("; amplitudes normalised per lead: Q/R >= 1/3 stands for the 0.1 mV depth"
                   if f.amplitude_normalised else "")
                + ("; LVH cannot be excluded (no millivolts)" if f.amplitude_normalised
                   else ""))
        out.append(Statement(
            id=f"s:q_{terr}",
            label=f"Pathological Q waves, {terr} leads: myocardial infarction of "
                  "undetermined age possible",
            snomed="164917005", criterion=crit, source=f"{UDMI}; {MINNESOTA}",
            evidence_ids=[f"m:q_wave.{x}" for x in ls] + [f"m:qrs_shape.{x}" for x in ls]
            + (["m:qrs_shape.V1"] if v1_qs and {"V2", "V3"} & set(ls) else []) + ["m:qrs_ms"],
            confidence=round(max(0.05, _conf(min(margins), 8.0, f.quality_factor) * 0.8), 2),
            leads=ls, knowledge_id="k:q_waves"))
    return out


MACFARLANE = ("Macfarlane et al., The early repolarization pattern: a consensus paper, J Am "
              "Coll Cardiol 66:470, 2015")
#: contiguous inferior/lateral pairs (V1-V3 excluded: Macfarlane 2015)
J_PAIRS = (("II", "aVF", "inferior"), ("III", "aVF", "inferior"), ("II", "III", "inferior"),
           ("I", "aVL", "lateral"), ("V4", "V5", "lateral"), ("V5", "V6", "lateral"),
           ("I", "V6", "lateral"))


def early_repolarization(f: Features, stated: set[str]) -> list[Statement]:
    """Early repolarization pattern (Macfarlane 2015): an end-QRS notch on the R-wave
    downslope with Jp >= 0.1 mV in >= 2 contiguous inferior or lateral leads, QRS < 120 ms
    measured in the leads without a notch (``m:qrs_without_j_ms``), no bundle branch block or
    pre-excitation. The slurred form is not detected (:func:`tools.conduction.end_qrs_notch`).

    Not stated where any ST elevation is stated: a benign reading must not
    stand beside (or instead of) a possible occlusion, which heads the report; the J waves
    are then noted. Limb leads are not read with a limb-lead reversal suspected."""
    jw = dict(f.j_waves)
    if f.reversal[0]:
        jw = {k: v for k, v in jw.items() if k not in LIMB}
    qrs = f.m.get("qrs_without_j_ms") or f.m.get("qrs_ms")
    if f.amplitude_normalised or not jw or qrs is None or qrs + f.interval_margin_ms >= 120:
        return []
    if any(s in stated for s in ("s:rbbb", "s:lbbb", "s:ilbbb", "s:wpw")):
        return []  # a terminal notch of delayed conduction, not early repolarization
    found: dict[str, list[str]] = {}
    for a, b, terr in J_PAIRS:
        if all(x in jw and jw[x]["jp_mv"] >= 0.1 for x in (a, b)):
            found.setdefault(terr, [])
            found[terr] += [x for x in (a, b) if x not in found[terr]]
    # any ST elevation or STEMI equivalent blocks it (the ST territories and the J-wave
    # pairs do not share boundaries: V4 is anterior for the one and lateral for the other)
    ste = any(x.startswith("s:ste_") for x in stated) or "s:stemi_eq" in stated
    blocked = list(found) if ste else []
    if blocked:
        f.notes.append("end-QRS notch (J waves) in the "
                       + " and ".join(blocked) + " leads: early repolarization not stated "
                       "beside ST elevation (an occlusion is not excluded)")
    leads = [x for t, ls in found.items() if t not in blocked for x in ls]
    if not leads:
        return []
    figs = "; ".join(f"{x} {jw[x]['kind']} Jp {jw[x]['jp_mv']:.2f} mV" for x in leads)
    terr = " and ".join(t for t in found if t not in blocked)
    margin = min(jw[x]["jp_mv"] for x in leads) - 0.1
    return [Statement(
        id="s:er", label=f"Early repolarization pattern ({terr} leads)", snomed="428417006",
        criterion="end-QRS notch on the R-wave downslope with Jp >= 0.1 mV in >= 2 contiguous "
                  f"inferior/lateral leads, QRS {qrs:.0f} ms < 120 ms (leads without a notch): "
                  f"{figs}",
        source=MACFARLANE,
        evidence_ids=[f"m:j_wave.{x}" for x in leads]
        + ["m:qrs_without_j_ms" if f.m.get("qrs_without_j_ms") else "m:qrs_ms"],
        confidence=round(max(0.05, _conf(margin, 0.05, f.quality_factor) * 0.8), 2),
        leads=leads, knowledge_id="k:early_repol")]


def right_atrial_abnormality(f: Features, stated: set[str]) -> list[Statement]:
    """Right atrial abnormality (P pulmonale): P amplitude in II > 0.25 mV (AHA/ACCF/HRS 2009
    part V, Hancock et al.), in a sinus or atrial rhythm. Not where the P wave starts on the
    preceding T wave in half the beats or more (the T adds to the P amplitude then)."""
    p_ii = f.m.get("p_ii_mv")
    if (f.amplitude_normalised or p_ii is None or p_ii <= 0.25
            or (f.p_on_t_share or 0.0) >= 0.5 or f.p_set_aside):
        return []
    return [_stmt("rae", "Right atrial abnormality (peaked P wave in II)", "446358003",
                  f"P amplitude in II {p_ii:.2f} mV > 0.25 mV (median P wave, above the level "
                  "at its onset), sinus or atrial rhythm", AHA_V, ["m:p_ii_mv"],
                  _conf(p_ii - 0.25, 0.03, f.quality_factor) * 0.8, ["II"])]
