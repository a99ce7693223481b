"""The grounded report agent: a LangGraph state machine around the tool declarations.

measure -> plan -> gather -> draft -> verify -> (repair -> verify) -> finalize | fallback

* ``measure`` calls the evidence engine (always; numbers only ever come from here).
* ``plan`` asks the LLM, with a forced tool call, which further tools to use (knowledge
  search queries, prior ECGs, the rendered page when the model accepts images); a plan that
  fails is replaced by the default plan and noted.
* ``gather`` runs those tools through LangChain ``StructuredTool`` objects generated from the
  declarations in :mod:`tools.registry`.
* ``draft``: code writes what is deterministic (one finding per statement, the measured
  intervals, the summary, the limitations: :func:`assistant.fallback.fallback_interpretation`)
  and the LLM writes what needs judgement, a :class:`~assistant.schemas.ReportDraft`: the
  impression (what the findings mean together, what to consider next, citing statement and
  knowledge ids) and the serial-comparison narrative. ``verify`` runs the deterministic
  verifier over all of it; one ``repair`` round gets the verifier's messages; if the draft
  still fails, ``fallback`` returns the deterministic interpretation (no impression) with
  ``grounding.fallback = true`` and the reasons. An unverified claim is never returned.
"""
from __future__ import annotations

import time
from typing import Any, Callable, TypedDict

from assistant import prompts
from assistant.config import Settings
from assistant.evidence_view import compare_with_prior, words_without_numbers
from assistant.fallback import fallback_interpretation, limitations, urgent_first
from assistant.llm import LLM, LLMError
from assistant.schemas import Grounding, Interpretation, ReportDraft
from assistant.verifier import verify

PLAN_TOOL = {
    "type": "function",
    "function": {
        "name": "plan",
        "description": "Choose the extra evidence to gather before writing the report.",
        "parameters": {
            "type": "object",
            "properties": {
                "knowledge_queries": {"type": "array", "items": {"type": "string"},
                                      "description": "up to 3 short questions (a few "
                                                     "words each) for the clinical "
                                                     "knowledge base"},
                "use_priors": {"type": "boolean",
                               "description": "compare with the patient's prior ECGs"},
                "use_similar": {"type": "boolean",
                                "description": "look up similar ECGs of other patients"},
            },
            "required": ["knowledge_queries", "use_priors", "use_similar"],
        },
    },
}


class AgentState(TypedDict, total=False):
    path: str
    fs: float | None
    prior_path: str | None
    patient_id: str | None
    analysis: dict
    plan: dict
    knowledge: list[dict]
    comparison: dict | None
    similar: list[dict]
    image: bytes | None
    draft: Interpretation | None
    reply: ReportDraft | None
    problems: list[str]
    attempts: int
    interpretation: Interpretation
    grounding: Grounding
    tool_calls: list[dict]
    notes: list[str]
    timings: dict[str, float]
    t0: float


def langchain_tools() -> dict[str, Any]:
    """LangChain tools generated from the registry's declarations (one per tool)."""
    from langchain_core.tools import StructuredTool

    import tools.api  # noqa: F401 - registers the declarations
    import tools.priors  # noqa: F401
    import tools.retrieval  # noqa: F401
    from tools.registry import TOOLS

    out = {}
    for name, spec in TOOLS.items():
        def run(_spec=spec, **kwargs):
            return _spec(kwargs).model_dump()
        out[name] = StructuredTool.from_function(func=run, name=name,
                                                 description=spec.description,
                                                 args_schema=spec.input_model)
    return out


class ReportAgent:
    """Builds grounded reports; ``llm`` may be None (deterministic report, noted)."""

    def __init__(self, settings: Settings, llm: LLM | None, *,
                 measure: Callable[[str, float | None], dict] | None = None,
                 progress: Callable[[str], None] | None = None):
        self.settings = settings
        self.llm = llm
        self._measure_fn = measure or _measure_file
        self._progress = progress or (lambda msg: None)
        self._tools: dict[str, Any] | None = None
        self.graph = self._build()

    # ------------------------------------------------------------------ graph
    def _build(self):
        from langgraph.graph import END, StateGraph

        g = StateGraph(AgentState)
        for name in ("measure", "plan", "gather", "draft", "verify", "repair", "fallback",
                     "finalize"):
            g.add_node(name, getattr(self, f"_{name}"))
        g.set_entry_point("measure")
        g.add_edge("measure", "plan")
        g.add_edge("plan", "gather")
        g.add_edge("gather", "draft")
        g.add_edge("draft", "verify")
        g.add_conditional_edges("verify", self._after_verify,
                                {"ok": "finalize", "repair": "repair", "fallback": "fallback"})
        g.add_edge("repair", "verify")
        g.add_edge("fallback", "finalize")
        g.add_edge("finalize", END)
        return g.compile()

    def run(self, path: str, *, fs: float | None = None, prior_path: str | None = None,
            patient_id: str | None = None) -> dict:
        """The report of one ECG: ``{record, evidence, statements, interpretation, grounding,
        timings, tool_calls, notes, llm}``."""
        state = self.graph.invoke({"path": path, "fs": fs, "prior_path": prior_path,
                                   "patient_id": patient_id, "tool_calls": [], "notes": [],
                                   "timings": {}, "attempts": 0, "t0": time.perf_counter()})
        return self._assemble(state)

    # ------------------------------------------------------------------ nodes
    def _tool(self, state: AgentState, name: str, **kwargs) -> dict:
        if self._tools is None:
            self._tools = langchain_tools()
        t = time.perf_counter()
        out = self._tools[name].invoke(kwargs)
        state["tool_calls"].append({"tool": name, "args": {k: v for k, v in kwargs.items()
                                                           if k != "store_dir"},
                                    "seconds": round(time.perf_counter() - t, 3)})
        return out

    def _measure(self, state: AgentState) -> dict:
        self._progress("measuring the ECG")
        t = time.perf_counter()
        analysis = self._measure_fn(state["path"], state.get("fs"))
        state["tool_calls"].append({"tool": "measure_ecg", "args": {"path": "<upload>"},
                                    "seconds": round(time.perf_counter() - t, 3)})
        comparison = None
        if state.get("prior_path"):
            prior = self._measure_fn(state["prior_path"], state.get("fs"))
            state["tool_calls"].append({"tool": "measure_ecg", "args": {"path": "<prior>"},
                                        "seconds": 0.0})
            comparison = compare_with_prior(analysis, prior)
        state["timings"]["measure_s"] = time.perf_counter() - t
        return {"analysis": analysis, "comparison": comparison,
                "tool_calls": state["tool_calls"], "timings": state["timings"]}

    def _writes(self, state: AgentState) -> bool:
        """Whether the LLM is asked to write (plan, impression) for this report."""
        return (self.llm is not None and self.settings.impression_by_llm
                and not state["analysis"]["quality"].get("abstain"))

    def _plan(self, state: AgentState) -> dict:
        default = {"knowledge_queries": [], "use_priors": bool(state.get("patient_id")),
                   "use_similar": False, "source": "default"}
        if not self._writes(state):
            return {"plan": default}
        self._progress("planning")
        t = time.perf_counter()
        labels = ", ".join(s["label"] for s in state["analysis"]["statements"]) or "none"
        msg = [{"role": "system", "content": "You plan evidence gathering for an ECG report."},
               {"role": "user", "content": f"Engine statements: {labels}. Patient id known: "
                                           f"{bool(state.get('patient_id'))}. Choose the "
                                           "knowledge questions and whether to use priors."}]
        try:
            res = self.llm.chat(msg, tools=[PLAN_TOOL], max_tokens=160,
                                tool_choice={"type": "function", "function": {"name": "plan"}})
            # llama.cpp's server ignores a named tool_choice and the 1.5B model then writes
            # the call as JSON text: read it from there (same arguments, same checks)
            args = res.tool_calls[0]["arguments"] if res.tool_calls else \
                tool_call_from_text(res.content, "plan")
            plan = {"knowledge_queries": [str(q)[:200] for q in
                                          (args.get("knowledge_queries") or [])][:3],
                    "use_priors": bool(args.get("use_priors")) and bool(state.get("patient_id")),
                    "use_similar": bool(args.get("use_similar")), "source": "llm"}
        except (LLMError, IndexError, AttributeError, TypeError) as exc:
            state["notes"].append(f"planning by the LLM failed ({exc}); default plan used")
            plan = default
        state["timings"]["plan_s"] = time.perf_counter() - t
        return {"plan": plan, "notes": state["notes"], "timings": state["timings"]}

    def _gather(self, state: AgentState) -> dict:
        self._progress("gathering knowledge and priors")
        analysis, plan = state["analysis"], state["plan"]
        knowledge: dict[str, dict] = {}
        from tools.retrieval import get_passage

        for s in analysis.get("statements", []):
            kid = s.get("knowledge_id")
            p = get_passage(kid) if kid else None
            if p is not None:
                knowledge[p.id] = p.model_dump()
        for q in plan.get("knowledge_queries", []):
            try:
                for p in self._tool(state, "search_knowledge", query=q, k=2)["passages"]:
                    knowledge.setdefault(p["id"], p)
            except Exception as exc:  # retrieval trouble must not block the report
                state["notes"].append(f"knowledge search failed: {type(exc).__name__}")
        comparison = state.get("comparison")
        # A patient id always brings its priors (serial comparison is the point of giving
        # one); the plan only decides the optional lookups.
        if comparison is None and state.get("patient_id"):
            comparison = self._prior_comparison(state)
        image = None
        if self._writes(state) and self.llm.accepts_images:
            image = _render_png(state["path"], state.get("fs"), analysis)
            state["tool_calls"].append({"tool": "render_ecg", "args": {"path": "<upload>"},
                                        "seconds": 0.0})
        return {"knowledge": list(knowledge.values())[:8], "comparison": comparison,
                "image": image, "tool_calls": state["tool_calls"], "notes": state["notes"]}

    def _prior_comparison(self, state: AgentState) -> dict | None:
        try:
            out = self._tool(state, "priors_for_patient", patient_id=state["patient_id"])
        except Exception as exc:
            state["notes"].append(f"prior lookup failed: {type(exc).__name__}: {exc}")
            return None
        reports = out.get("reports") or []
        if not reports:
            state["notes"].append("no stored prior ECG for this patient")
            return None
        last = reports[-1]
        prior = {"measurements": {k: {"value": v} for k, v in last["measurements"].items()},
                 "statements": last["statements"]}
        return compare_with_prior(state["analysis"], prior, last.get("date", ""))

    def _messages(self, state: AgentState) -> list[dict]:
        """The impression prompt: the statements, their knowledge and the comparison, but no
        measurements - the findings (code) carry the numbers, and given numbers the 1.5B
        model copied and misquoted them into every impression (benchmarks: 0 of 12 passed)."""
        statements = state["analysis"].get("statements", [])
        user = prompts.render("report", statements=statements,
                              knowledge=[{"id": k["id"], "text": words_without_numbers(
                                  k.get("text", ""), 60)} for k in state.get("knowledge", [])],
                              comparison=state.get("comparison"),
                              images=bool(state.get("image")),
                              urgent=any(st.get("urgent") for st in statements))
        return [{"role": "system", "content": prompts.render("system")},
                {"role": "user", "content": user}]

    def _draft(self, state: AgentState) -> dict:
        if not self._writes(state):
            return {"draft": None, "attempts": 0}
        self._progress("writing the interpretation")
        return self._ask_llm(state, self._messages(state))

    def _ask_llm(self, state: AgentState, messages: list[dict]) -> dict:
        t = time.perf_counter()
        images = [state["image"]] if state.get("image") else None
        reply = None
        try:
            reply, res = self.llm.structured(messages, ReportDraft, images=images)
            reply = _clean_ids(reply)
            # the deterministic parts by code, the impression and comparison narrative by the
            # LLM; the verifier checks the whole
            # (the comparison table's own sentence when the model wrote no narrative)
            draft = fallback_interpretation(state["analysis"]).model_copy(update={
                "impression": reply.impression,
                "comparison_with_prior": (reply.comparison_with_prior or
                                          _comparison_text(state["comparison"]))
                if state.get("comparison") else None})
            tokens = state["timings"].setdefault("llm_tokens", {"prompt": 0, "cached": 0,
                                                                "generated": 0})
            tokens["prompt"] += res.prompt_tokens
            tokens["cached"] += res.cached_tokens
            tokens["generated"] += res.completion_tokens
        except LLMError as exc:
            state["notes"].append(f"LLM draft failed: {exc}")
            draft = None
        key = "draft_s" if state.get("attempts", 0) == 0 else "repair_s"
        state["timings"][key] = time.perf_counter() - t
        return {"draft": draft, "reply": reply, "attempts": state.get("attempts", 0) + 1,
                "notes": state["notes"], "timings": state["timings"]}

    def _verify(self, state: AgentState) -> dict:
        draft = state.get("draft")
        if draft is None:
            return {"problems": ["no draft from the LLM"]}
        report = dict(state["analysis"])
        report["comparison"] = (state.get("comparison") or {}).get("entries", {})
        problems, _, _ = verify(draft, report, knowledge_ids=_known_knowledge_ids())
        if not draft.impression:
            problems.append("the draft has no impression")
        return {"problems": problems}

    def _after_verify(self, state: AgentState) -> str:
        if not state["problems"]:
            return "ok"
        budget_left = self.settings.report_budget_s - (time.perf_counter() - state["t0"])
        if state.get("draft") is not None and state.get("attempts", 0) < 2 and \
                budget_left > state["timings"].get("draft_s", 0.0):
            return "repair"
        return "fallback"

    def _repair(self, state: AgentState) -> dict:
        self._progress("repairing the draft")
        messages = self._messages(state)
        messages.append({"role": "assistant", "content": state["reply"].model_dump_json()})
        messages.append({"role": "user", "content": prompts.render(
            "repair", problems=state["problems"][:12])})
        return self._ask_llm(state, messages)

    def _fallback(self, state: AgentState) -> dict:
        interp = fallback_interpretation(state["analysis"])
        if state.get("comparison"):
            interp.comparison_with_prior = _comparison_text(state["comparison"])
        reasons = list(state.get("problems") or [])
        if state.get("draft") is not None and state.get("attempts", 0) < 2:
            reasons.append(f"no repair round: it would exceed the "
                           f"{self.settings.report_budget_s:.0f}-s report budget")
        if state["analysis"]["quality"].get("abstain"):
            reasons = ["engine abstained: deterministic report"]
        elif not self.settings.impression_by_llm:
            reasons = ["deterministic report: the embedded model does not write the "
                       "impression (ECG_ASSISTANT_LLM_IMPRESSION=on asks it anyway; README: "
                       "\"The LLM's impression\")"]
        elif self.llm is None:
            reasons = ["no LLM configured: deterministic report"]
        g = Grounding(passed=True, fallback=True, attempts=state.get("attempts", 0),
                      problems=reasons)
        return {"interpretation": interp, "grounding": g}

    def _finalize(self, state: AgentState) -> dict:
        if state.get("grounding") is not None:
            return {}
        draft = state["draft"]
        # limitations are the engine's (excluded leads, abstention, notes): the model is not
        # asked for them and anything it wrote there is dropped (it once listed a negative
        # flutter check as a "limitation"; nothing in that field was verified)
        lims = limitations(state["analysis"])
        draft = urgent_first(draft.model_copy(update={"limitations": lims}), state["analysis"])
        g = Grounding(passed=True, fallback=False, repaired=state.get("attempts", 1) > 1,
                      attempts=state.get("attempts", 1),
                      checked_findings=len(draft.findings) + len(draft.impression))
        return {"interpretation": draft, "grounding": g}

    def _assemble(self, state: AgentState) -> dict:
        from tools.evidence import evidence_index

        analysis = state["analysis"]
        evidence = evidence_index(analysis)
        evidence.update((state.get("comparison") or {}).get("entries", {}))
        timings = {k: (round(v, 3) if isinstance(v, float) else v)
                   for k, v in state["timings"].items()}
        timings["total_s"] = round(time.perf_counter() - state["t0"], 3)
        return {
            "record": analysis["record"], "evidence": evidence,
            "statements": analysis["statements"],
            "interpretation": state["interpretation"].model_dump(),
            "grounding": state["grounding"].model_dump(), "timings": timings,
            "tool_calls": state["tool_calls"], "notes": analysis.get("notes", []) +
            state["notes"], "knowledge": state.get("knowledge", []),
            "llm": None if self.llm is None else {
                "base_url": self.llm.base_url, "model": self.llm.model,
                "images": bool(state.get("image")),
                "mode": "signal evidence + 12-lead image" if state.get("image")
                else "text only (signal evidence)"},
        }


def _comparison_text(comparison: dict) -> str:
    """The serial comparison as code writes it: the comparison table's items."""
    return "; ".join(i["text"] for i in comparison["items"])


def tool_call_from_text(text: str, name: str) -> dict:
    """The arguments of a call to tool ``name`` written as JSON text (``{"name": ...,
    "arguments": {...}}``, ``{"tool_call": {...}}``, possibly in a code fence); {} if none."""
    import json
    import re

    m = re.search(r"\{.*\}", text or "", re.DOTALL)
    if not m:
        return {}
    try:
        obj = json.loads(m.group(0))
    except json.JSONDecodeError:
        return {}
    obj = obj.get("tool_call", obj) if isinstance(obj, dict) else {}
    if isinstance(obj, dict) and obj.get("name") == name and isinstance(obj.get("arguments"),
                                                                          dict):
        return obj["arguments"]
    return {}


def _clean_ids(draft: ReportDraft) -> ReportDraft:
    """Small models glue values to ids ('m:qrs_ms=103'): keep the id token only. The claim
    itself is untouched and still verified."""
    import re

    def clean(ids):
        out = []
        for e in ids:
            m = re.match(r"\s*([a-z]:[A-Za-z0-9_.:-]+?)(?:[=\s(].*)?$", str(e))
            out.append(m.group(1) if m else str(e))
        return list(dict.fromkeys(out))

    def split(f):
        # a knowledge id listed among the evidence ids goes to the knowledge ids (where an
        # unknown one still fails the verifier)
        ids = clean(f.evidence_ids)
        return f.model_copy(update={
            "evidence_ids": [e for e in ids if not e.startswith("k:")],
            "knowledge_ids": clean(f.knowledge_ids + [e for e in ids if e.startswith("k:")])})

    return draft.model_copy(update={"impression": [split(f) for f in draft.impression]})


def _measure_file(path: str, fs: float | None) -> dict:
    from tools.engine import analyze
    from tools.record import load_record

    return analyze(load_record(path, fs=fs)).to_dict()


def _render_png(path: str, fs: float | None, analysis: dict) -> bytes | None:
    import tempfile
    from pathlib import Path

    from tools.record import load_record
    from tools.render import render_ecg_page

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "page.png"
        render_ecg_page(load_record(path, fs=fs), analysis, out)
        return out.read_bytes()


def _known_knowledge_ids() -> set[str] | None:
    try:
        from tools.retrieval import all_passage_ids
        return set(all_passage_ids())
    except Exception:
        return None
