"""Diagnostic statements from measurements by published criteria.

Each statement names its criterion (with thresholds) and source, cites the evidence ids it
rests on and carries a confidence that reflects signal quality and the margin to the
threshold. Main sources:

* AHA/ACCF/HRS 2009 recommendations for the standardization and interpretation of the ECG:
  part III, intraventricular conduction disturbances (Surawicz et al., Circulation
  119:e235-e240); part IV, ST segment, T and U waves and the QT interval (Rautaharju et al.,
  Circulation 119:e241-e250); part V, chamber hypertrophy (Hancock et al., 119:e251-e261).
* Fourth Universal Definition of Myocardial Infarction (Thygesen et al., Eur Heart J
  40:237-269, 2019 / Circulation 2018) for ST elevation and depression thresholds.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tools.evidence import Statement

AHA_III = "AHA/ACCF/HRS 2009 recommendations, part III (Surawicz et al., Circulation 2009)"
AHA_IV = "AHA/ACCF/HRS 2009 recommendations, part IV (Rautaharju et al., Circulation 2009)"
AHA_V = "AHA/ACCF/HRS 2009 recommendations, part V (Hancock et al., Circulation 2009)"
UDMI = "Fourth Universal Definition of Myocardial Infarction (Thygesen et al., 2018)"
RHYTHM_SRC = ("AHA/ACCF/HRS 2009 recommendations, part I (Kligfield et al., Circulation 2007) "
              "and 2023 ACC/AHA/ACCP/HRS atrial fibrillation guideline (Joglar et al., 2024)")

# Contiguous lead groups (Cabrera order in the limb leads; adjacent precordial leads).
TERRITORIES = {
    "inferior": ["II", "III", "aVF"],
    "lateral": ["I", "aVL", "V5", "V6"],
    "anterior": ["V1", "V2", "V3", "V4"],
}
_CONTIGUOUS = [("aVL", "I"), ("I", "II"), ("II", "aVF"), ("aVF", "III"),
               ("V1", "V2"), ("V2", "V3"), ("V3", "V4"), ("V4", "V5"), ("V5", "V6"),
               ("V6", "I")]


@dataclass
class Features:
    """Everything the criteria read; values None when not measurable."""

    m: dict[str, float | None]                       # measurement name -> value
    amp: dict[str, dict[str, float]]                  # lead -> amplitudes (mV)
    terminal: dict[str, float]                        # lead -> terminal 40 ms QRS area
    usable: list[str]
    sex: str | None = None
    age: float | None = None
    p_ratio: float = 0.0                              # share of beats with a P wave
    pr_sd_ms: float | None = None
    afib_rule: bool = False                           # openecg RR-rule second opinion
    paced: bool = False
    flutter_atrial_rate: float | None = None
    n_ventricular: int = 0
    n_supraventricular: int = 0
    quality_factor: float = 1.0
    amplitude_normalised: bool = False                # per-lead normalised export: no mV criteria
    abstain: bool = False
    abstain_reason: str | None = None
    reversal: tuple[bool, str | None, str, float] = (False, None, "", 0.0)
    notes: list[str] = field(default_factory=list)


def _conf(margin: float, scale: float, q: float) -> float:
    """Confidence from the margin past a threshold (in units of measurement uncertainty
    ``scale``) times the record's quality factor: 0.5 at the threshold, ~0.95 at 3 scales."""
    return round(float(q / (1.0 + np.exp(-margin / scale * 1.0))) , 2)


def _stmt(sid, label, snomed, criterion, source, ids, conf, leads=()):
    return Statement(id=f"s:{sid}", label=label, snomed=snomed, criterion=criterion,
                     source=source, evidence_ids=list(ids), confidence=max(0.05, min(1.0, conf)),
                     leads=list(leads), knowledge_id=f"k:{sid}")


def rhythm_statements(f: Features) -> list[Statement]:
    m, q, out = f.m, f.quality_factor, []
    hr = m.get("hr_bpm")
    rr_ids = ["m:hr_bpm", "m:rr_cv", "m:rmssd_ms", "m:rr_nmasd", "m:p_wave_ratio"]
    if f.paced:
        out.append(_stmt("paced", "Paced rhythm", "10370003",
                         "pacemaker spikes (coinciding in >= 2 of II, V1, V5) on >= 50 % of beats",
                         "openecg pacer detector (center-surround spike score)",
                         ["m:pacing_spikes", "m:hr_bpm"], 0.9 * q))
        return out
    # Irregularly irregular: RR varies overall (CV, normalised RMSSD: Dash et al. 2009) AND most
    # successive RR differences are large (median |dRR| / median RR > 0.10), which separates
    # fibrillation from a regular rhythm interrupted by a few premature beats.
    irregular = ((m.get("rr_cv") or 0) > 0.08 and (m.get("nrmssd") or 0) > 0.08
                 and (m.get("nmasd") or 0) > 0.10)
    if f.flutter_atrial_rate is not None and f.p_ratio < 0.5:
        out.append(_stmt("afl", "Atrial flutter", "164890007",
                         "no consistent P waves and organised atrial (flutter) waves at "
                         "228-360 /min in >= 3 of II, III, aVF, V1", RHYTHM_SRC,
                         ["m:atrial_rate_bpm", "m:p_wave_ratio", "m:hr_bpm"], 0.7 * q))
        return out
    # P waves absent (found before < 30 % of beats), or scarce (< 50 %) with the independent
    # RR-rule detector agreeing.
    if irregular and (f.p_ratio < 0.3 or (f.p_ratio < 0.5 and f.afib_rule)):
        votes = 1 + int(f.afib_rule)
        out.append(_stmt("af", "Atrial fibrillation", "164889003",
                         "irregularly irregular RR (RR CV > 0.08, RMSSD/mean RR > 0.08, median "
                         "|successive RR difference|/median RR > 0.10) and no consistent P wave "
                         "(P before < 30 % of beats, or < 50 % with the RR-rule detector "
                         f"agreeing); RR-rule second opinion {'agrees' if f.afib_rule else 'disagrees'}",
                         RHYTHM_SRC, rr_ids, (0.6 + 0.15 * votes) * q))
        return out
    # Sinus: a P wave with a constant PR before most conducted beats (ventricular ectopics,
    # which have none, are left out of the P-wave ratio).
    sinus = f.p_ratio >= 0.5 and f.pr_sd_ms is not None and f.pr_sd_ms < 40
    p_axis = m.get("p_axis_deg")
    if sinus and p_axis is not None and not (-30 <= p_axis <= 120):
        sinus = False
        f.notes.append(f"P axis {p_axis:.0f} deg is not sinus (expected 0..+90)")
    if not sinus or hr is None:
        if f.p_ratio < 0.5 and not irregular:
            f.notes.append("regular rhythm without consistent P waves: rhythm not classified")
        return out
    ids = ["m:hr_bpm", "m:p_wave_ratio", "m:pr_ms", "m:p_axis_deg"]
    src = "AHA/ACCF/HRS 2009 recommendations, part I (Kligfield et al., Circulation 2007)"
    if hr < 60:
        out.append(_stmt("sb", "Sinus bradycardia", "426177001",
                         "sinus P waves and heart rate < 60 bpm", src, ids, _conf(60 - hr, 3, q)))
    elif hr > 100:
        out.append(_stmt("st", "Sinus tachycardia", "427084000",
                         "sinus P waves and heart rate > 100 bpm", src, ids,
                         _conf(hr - 100, 3, q)))
    else:
        out.append(_stmt("sr", "Sinus rhythm", "426783006",
                         "sinus P waves (upright in II, P axis 0..+90) and heart rate 60-100 bpm",
                         src, ids, _conf(min(hr - 60, 100 - hr), 3, q)))
    rng = m.get("rr_range_ms")
    if rng is not None and rng > 120 and f.n_supraventricular + f.n_ventricular == 0:
        out.append(_stmt("sa", "Sinus arrhythmia", "427393009",
                         "sinus rhythm with P-P (RR) variation > 120 ms", src,
                         ["m:rr_range_ms", "m:p_wave_ratio"], _conf(rng - 120, 30, q)))
    return out


def conduction_statements(f: Features, sinus: bool) -> list[Statement]:
    m, q, out = f.m, f.quality_factor, []
    pr, qrs, axis = m.get("pr_ms"), m.get("qrs_ms"), m.get("qrs_axis_deg")
    if sinus and pr is not None:
        if pr > 200:
            out.append(_stmt("avb1", "First-degree AV block", "270492004",
                             "PR interval > 200 ms in sinus rhythm", AHA_III,
                             ["m:pr_ms"], _conf(pr - 200, 8, q)))
        elif pr < 120:
            wide = qrs is not None and qrs >= 110
            if wide:
                out.append(_stmt("wpw", "Ventricular pre-excitation pattern", "74390002",
                                 "PR < 120 ms with QRS >= 110 ms (delta wave not assessed: "
                                 "pattern only)", AHA_III, ["m:pr_ms", "m:qrs_ms"],
                                 0.6 * _conf(min(120 - pr, qrs - 110), 8, q)))
            out.append(_stmt("spr", "Short PR interval", "49578007",
                             "PR interval < 120 ms in sinus rhythm", AHA_III, ["m:pr_ms"],
                             _conf(120 - pr, 8, q)))
    if qrs is not None:
        out += _bundle_branch(f, qrs)
    if axis is not None:
        ids = ["m:qrs_axis_deg"]
        if -90 <= axis < -30:
            out.append(_stmt("lad", "Left axis deviation", "39732003",
                             "frontal QRS axis between -30 and -90 deg", AHA_III, ids,
                             _conf(-30 - axis, 6, q)))
        elif axis < -90:
            f.notes.append(f"QRS axis {axis:.0f} deg: right superior (extreme) axis")
        elif axis > 90:
            out.append(_stmt("rad", "Right axis deviation", "47665007",
                             "frontal QRS axis between +90 and +180 deg", AHA_III, ids,
                             _conf(axis - 90, 6, q)))
        if -90 <= axis <= -45 and (qrs is None or qrs < 120):
            avl, inf = f.amp.get("aVL", {}), f.amp.get("III", {})
            qr_avl = avl.get("r_mv", 0) > abs(avl.get("s_mv", 0))
            rs_inf = abs(inf.get("s_mv", 0)) > inf.get("r_mv", 0)
            if qr_avl and rs_inf:
                out.append(_stmt("lafb", "Left anterior fascicular block", "445118002",
                                 "QRS axis -45..-90 deg, qR in aVL, rS in III, QRS < 120 ms",
                                 AHA_III, ["m:qrs_axis_deg", "m:qrs_ms", "m:amp.aVL.r_mv",
                                           "m:amp.III.s_mv"], _conf(-45 - axis, 6, q),
                                 ["aVL", "III"]))
    return out


def _bundle_branch(f: Features, qrs: float) -> list[Statement]:
    """RBBB / LBBB from QRS duration and the direction of the terminal 40 ms of the QRS:
    terminal rightward-anterior forces (positive in V1, negative in I and V6) in RBBB;
    QS/rS in V1 with dominant broad R in I and V6 in LBBB (AHA 2009 part III)."""
    q, out = f.quality_factor, []
    t = f.terminal
    if not {"V1", "I", "V6"} & set(t):
        return out
    v1 = t.get("V1", t.get("V2"))
    lat = [t[lead] for lead in ("I", "V6", "V5") if lead in t]
    amp_v1 = f.amp.get("V1", f.amp.get("V2", {}))
    rbbb_morph = v1 is not None and v1 > 0 and lat and np.median(lat) < 0
    lbbb_morph = (v1 is not None and v1 < 0 and amp_v1.get("r_mv", 0) < abs(amp_v1.get("s_mv", 0))
                  and lat and np.median(lat) > 0
                  and all(f.amp.get(lead, {}).get("q_mv", 0) > -0.1 for lead in ("I", "V6")))
    ids = ["m:qrs_ms", "m:terminal_qrs.V1", "m:terminal_qrs.I", "m:terminal_qrs.V6"]
    if rbbb_morph and qrs >= 120:
        out.append(_stmt("rbbb", "Right bundle branch block", "59118001",
                         "QRS >= 120 ms with terminal positive forces in V1 (rsR') and terminal "
                         "S in I and V6", AHA_III, ids, _conf(qrs - 120, 8, q), ["V1", "I", "V6"]))
    elif rbbb_morph and 110 <= qrs < 120:
        out.append(_stmt("irbbb", "Incomplete right bundle branch block", "713426002",
                         "QRS 110-119 ms with RBBB morphology (terminal positive V1, terminal S in "
                         "I and V6)", AHA_III, ids, _conf(min(qrs - 110, 120 - qrs), 4, q) * 0.9,
                         ["V1", "I", "V6"]))
    elif lbbb_morph and qrs >= 120:
        out.append(_stmt("lbbb", "Left bundle branch block", "164909002",
                         "QRS >= 120 ms, QS or rS in V1, broad R without q in I and V6", AHA_III,
                         ids + ["m:amp.V1.r_mv", "m:amp.V1.s_mv"], _conf(qrs - 120, 8, q),
                         ["V1", "I", "V6"]))
    return out


def voltage_statements(f: Features) -> list[Statement]:
    m, q, out = f.m, f.quality_factor, []
    sl, cornell = m.get("sokolow_lyon_mv"), m.get("cornell_mv")
    cornell_lim = 2.0 if f.sex == "F" else 2.8
    if sl is not None and sl >= 3.5:
        out.append(_stmt("lvh", "Left ventricular hypertrophy by voltage", "164873001",
                         "Sokolow-Lyon S(V1) + max R(V5, V6) >= 3.5 mV", AHA_V,
                         ["m:sokolow_lyon_mv"], _conf(sl - 3.5, 0.3, q) * 0.9, ["V1", "V5", "V6"]))
    elif cornell is not None and cornell > cornell_lim:
        out.append(_stmt("lvh", "Left ventricular hypertrophy by voltage", "164873001",
                         f"Cornell R(aVL) + S(V3) > {cornell_lim} mV "
                         f"({'women' if f.sex == 'F' else 'men or sex unknown'})",
                         AHA_V, ["m:cornell_mv"], _conf(cornell - cornell_lim, 0.3, q) * 0.9,
                         ["aVL", "V3"]))
    limb = [v for k, v in f.amp.items() if k in ("I", "II", "III", "aVR", "aVL", "aVF")]
    prec = [v for k, v in f.amp.items() if k.startswith("V")]
    limb_pp = [a["r_mv"] - min(a["q_mv"], a["s_mv"]) for a in limb]
    prec_pp = [a["r_mv"] - min(a["q_mv"], a["s_mv"]) for a in prec]
    low_limb = len(limb_pp) >= 4 and max(limb_pp) < 0.5
    low_prec = len(prec_pp) >= 4 and max(prec_pp) < 1.0
    if low_limb or low_prec:
        where = " and ".join(w for w, x in (("limb", low_limb), ("precordial", low_prec)) if x)
        margin = min([0.5 - max(limb_pp)] if low_limb else [1.0 - max(prec_pp)])
        out.append(_stmt("lqrsv", "Low QRS voltage", "251146004",
                         "QRS amplitude < 0.5 mV in every limb lead or < 1.0 mV in every "
                         f"precordial lead (met in {where} leads)", AHA_V,
                         ["m:qrs_amplitude_max_limb_mv", "m:qrs_amplitude_max_precordial_mv"],
                         _conf(margin, 0.05, q)))
    qtc = m.get("qtc_ms")
    wide = (m.get("qrs_ms") or 0) >= 120
    if qtc is not None and wide:
        f.notes.append("QRS >= 120 ms: QT prolongation not assessed (a wide QRS lengthens QT; "
                       "AHA/ACCF/HRS 2009 part IV advises JT or QRS-adjusted QT)")
    elif qtc is not None:
        lim = 450 if f.sex == "M" else 460
        if qtc >= lim:
            out.append(_stmt("lqt", "Prolonged QT interval", "111975006",
                             f"QTc (Fridericia) >= {lim} ms "
                             f"({'men' if f.sex == 'M' else 'women or sex unknown'}), "
                             "QRS < 120 ms", AHA_IV, ["m:qtc_ms", "m:qt_ms", "m:hr_bpm"],
                             _conf(qtc - lim, 10, q)))
    return out


def _contiguous_groups(leads: set[str]) -> list[list[str]]:
    """Leads of ``leads`` that have a contiguous neighbour also in ``leads``."""
    hits = {a for a, b in _CONTIGUOUS if a in leads and b in leads}
    hits |= {b for a, b in _CONTIGUOUS if a in leads and b in leads}
    return sorted(hits)


def st_t_statements(f: Features) -> list[Statement]:
    """ST elevation / depression (UDMI 2018 thresholds, measured at J+60 ms) and T-wave
    inversion in >= 2 contiguous leads; suppressed when QRS >= 120 ms or paced, where
    secondary ST-T changes are expected (AHA 2009 part IV)."""
    out, q = [], f.quality_factor
    if f.paced or (f.m.get("qrs_ms") or 0) >= 120:
        return out
    men = f.sex != "F"
    young = f.age is not None and f.age < 40

    def ste_limit(lead):
        if lead in ("V2", "V3"):
            return 0.15 if not men else (0.25 if young else 0.2)
        return 0.1

    st = {lead: a["st60_mv"] for lead, a in f.amp.items() if np.isfinite(a.get("st60_mv", np.nan))}
    elev = {lead for lead, v in st.items() if lead != "aVR" and v >= ste_limit(lead)}
    dep = {lead for lead, v in st.items() if lead != "aVR" and v <= -0.05}
    for terr, tl in TERRITORIES.items():
        for kind, sel, snomed, crit in (
                ("ste", elev, "164931005",
                 "ST elevation at J+60 ms >= 0.1 mV (V2-V3: >= 0.2 mV men >= 40 y, 0.25 mV men "
                 "< 40 y, 0.15 mV women) in >= 2 contiguous leads"),
                ("std", dep, "429622005", "ST depression at J+60 ms >= 0.05 mV in >= 2 "
                                          "contiguous leads")):
            hit = [lead for lead in _contiguous_groups(sel) if lead in tl]
            if len(hit) >= 2:
                worst = max(abs(st[lead]) for lead in hit)
                base = ste_limit(hit[0]) if kind == "ste" else 0.05
                out.append(_stmt(f"{kind}_{terr}",
                                 f"ST {'elevation' if kind == 'ste' else 'depression'}, "
                                 f"{terr} leads", snomed, crit, UDMI,
                                 [f"m:amp.{lead}.st60_mv" for lead in hit],
                                 _conf(worst - base, 0.05, q) * 0.9, hit))
    tinv = {lead for lead, a in f.amp.items()
            if lead not in ("aVR", "V1") and a.get("t_mv", 0) <= -0.1 and a.get("r_mv", 0) > 0.2}
    hit = _contiguous_groups(tinv)
    if len(hit) >= 2 and hit != ["III"]:
        worst = max(-f.amp[lead]["t_mv"] for lead in hit)
        out.append(_stmt("tinv", "T-wave inversion", "59931005",
                         "T wave <= -0.1 mV in >= 2 contiguous leads with R > 0.2 mV "
                         "(aVR and V1 excluded)", UDMI, [f"m:amp.{lead}.t_mv" for lead in hit],
                         _conf(worst - 0.1, 0.05, q) * 0.9, hit))
    return out


def ectopy_statements(f: Features) -> list[Statement]:
    out, q = [], f.quality_factor
    if f.n_ventricular:
        out.append(_stmt("pvc", "Premature ventricular complexes", "427172004",
                         "beats typed ventricular by the openecg beat head or >= 40 ms wider than "
                         "the dominant QRS without a preceding P wave", AHA_III,
                         ["m:n_ventricular_beats"], min(0.9, 0.6 + 0.1 * f.n_ventricular) * q))
    if f.n_supraventricular:
        out.append(_stmt("pac", "Premature atrial complexes", "284470004",
                         "narrow beats with RR < 85 % of the median RR followed by a longer RR",
                         RHYTHM_SRC, ["m:n_supraventricular_beats"],
                         min(0.85, 0.55 + 0.1 * f.n_supraventricular) * q))
    return out


def derive_statements(f: Features) -> list[Statement]:
    """All statements for a record; abstains (one 'poor quality' statement) when quality does."""
    if f.abstain:
        return [Statement(id="s:poor_quality", label="Poor quality: cannot interpret",
                          snomed="", criterion=f.abstain_reason or "too few usable leads",
                          source="project quality rule (tools.quality)",
                          evidence_ids=["q:record"], confidence=0.95,
                          knowledge_id="k:poor_quality")]
    out = rhythm_statements(f)
    sinus = any(s.id in ("s:sr", "s:sb", "s:st") for s in out)
    out += conduction_statements(f, sinus)
    if not f.amplitude_normalised:
        out += voltage_statements(f)
        out += st_t_statements(f)
    else:
        out += [s for s in voltage_statements(f) if s.id == "s:lqt"]
    out += ectopy_statements(f)
    suspected, kind, evidence, conf = f.reversal
    if suspected:
        out.append(_stmt("lead_reversal", f"Limb-lead reversal suspected ({kind or 'LA/RA'})",
                         "251139008", evidence or "lead I inverted with upright aVR",
                         "Batchvarov, Malik, Camm, Europace 9:1081, 2007",
                         ["q:limb_lead_reversal"], conf))
    return out
