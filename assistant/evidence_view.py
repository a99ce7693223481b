"""What the LLM sees of the evidence, and the comparison with a prior ECG.

Only engine output goes into prompts: measurements (with ids), statements, quality and
knowledge passages. File names, header comments and prior free text are never included, so
an instruction hidden in them cannot reach the model.
"""
from __future__ import annotations

from assistant import prompts

KEY_MEASUREMENTS = ("hr_bpm", "rr_cv", "pr_ms", "p_ms", "qrs_ms", "qt_ms", "qtc_ms",
                    "qtc_bazett_ms", "p_axis_deg", "qrs_axis_deg", "t_axis_deg",
                    "p_wave_ratio", "atrial_rate_bpm", "sokolow_lyon_mv", "cornell_mv",
                    "n_ventricular_beats", "n_supraventricular_beats")
_COMPARED = (("hr_bpm", "heart rate", "bpm"), ("pr_ms", "PR", "ms"), ("qrs_ms", "QRS", "ms"),
             ("qt_ms", "QT", "ms"), ("qtc_ms", "QTc", "ms"), ("qrs_axis_deg", "QRS axis", "deg"))


def fmt_value(v: float | None, unit: str) -> str:
    if v is None:
        return "not measurable"
    text = f"{v:.0f}" if unit in ("ms", "bpm", "deg", "count", "/min") else f"{v:g}"
    return f"{text} {unit}" if unit not in ("ratio", "bool", "count") else text


def selected_measurements(report: dict) -> list[dict]:
    """Key measurements plus every measurement a statement cites, as prompt lines."""
    m = report.get("measurements", {})
    names = [n for n in KEY_MEASUREMENTS if n in m]
    for s in report.get("statements", []):
        for eid in s.get("evidence_ids", []):
            name = eid.removeprefix("m:")
            if eid.startswith("m:") and name in m and name not in names:
                names.append(name)
    out = []
    for n in names:
        e = m[n]
        text = fmt_value(e.get("value"), e.get("unit", ""))
        if e.get("value") is None and e.get("reason"):
            text += f" ({e['reason']})"
        elif e.get("leads") and len(e["leads"]) <= 4:
            text += f" (leads {', '.join(e['leads'])})"
        out.append({"id": e["id"], "text": text})
    return out


def compare_with_prior(now: dict, prior: dict, prior_date: str = "") -> dict:
    """Deterministic serial comparison: measurement changes and new / resolved statements,
    each an evidence entry with an id (``c:...``) the interpretation can cite."""
    items, entries = [], {}
    m_now, m_prior = now.get("measurements", {}), prior.get("measurements", {})
    for name, label, unit in _COMPARED:
        a = (m_now.get(name) or {}).get("value")
        b = (m_prior.get(name) or {}).get("value") if isinstance(m_prior.get(name), dict) \
            else m_prior.get(name)
        if a is None or b is None:
            continue
        delta = round(a - b, 1)
        entries[f"c:{name}.prior"] = {"id": f"c:{name}.prior", "value": b, "unit": unit,
                                     "leads": [], "label": f"prior {label}"}
        entries[f"c:{name}.change"] = {"id": f"c:{name}.change", "value": delta,
                                      "unit": unit, "leads": [], "label": f"{label} change",
                                      "evidence_ids": [f"m:{name}", f"c:{name}.prior"]}
        items.append({"id": f"c:{name}.change",
                      "text": f"{label} {fmt_value(a, unit)} now vs {fmt_value(b, unit)} "
                              f"before (change {delta:+g} {unit}; prior value id "
                              f"c:{name}.prior)"})
    now_s = {s["id"]: s["label"] for s in now.get("statements", [])}
    prior_s = {s["id"]: s["label"] for s in prior.get("statements", [])}
    for sid in sorted(set(now_s) - set(prior_s)):
        cid = f"c:new.{sid}"
        entries[cid] = {"id": cid, "label": f"new since prior: {now_s[sid]}",
                        "evidence_ids": [sid], "leads": []}
        items.append({"id": cid, "text": f"new since the prior ECG: {now_s[sid]}"})
    for sid in sorted(set(prior_s) - set(now_s)):
        cid = f"c:resolved.{sid}"
        entries[cid] = {"id": cid, "label": f"no longer present: {prior_s[sid]}",
                        "evidence_ids": [], "leads": []}
        items.append({"id": cid, "text": f"on the prior ECG but not now: {prior_s[sid]}"})
    return {"prior_date": prior_date, "items": items, "entries": entries}


def evidence_text(report: dict, *, knowledge: list[dict] = (), comparison: dict | None = None
                  ) -> str:
    """The EVIDENCE block shared by the report and the question prompts."""
    short = [{"id": k["id"], "source": k.get("source", ""),
              "text": _first_words(k.get("text", ""), 40)} for k in knowledge][:5]
    return prompts.render(
        "evidence", record=report["record"], quality=report["quality"],
        measurements=selected_measurements(report),
        statements=report.get("statements", []), knowledge=short,
        comparison=comparison)


def words_without_numbers(text: str, n: int) -> str:
    """The sentences of a knowledge passage that hold no number (lead names aside), up to
    about ``n`` words: what a condition means and what to do, without thresholds a small
    model would copy as if measured."""
    import re

    from assistant.verifier import has_number

    out, count = [], 0
    for sent in re.split(r"(?<=[.!?])\s+", text.strip()):
        if has_number(sent):
            continue
        words = len(sent.split())
        if out and count + words > n:
            break
        out.append(sent)
        count += words
    return " ".join(out)


def _first_words(text: str, n: int) -> str:
    """The first sentences of a passage, up to about ``n`` words (keeps the CPU prompt short;
    the full passage stays available by id)."""
    words = text.split()
    if len(words) <= n:
        return text
    cut = " ".join(words[:n])
    end = cut.rfind(". ")
    return cut[:end + 1] if end > len(cut) // 2 else cut + " ..."
