"""The clinical knowledge base: passages, abbreviation expansion, BM25/dense/hybrid search,
persistence and the ``search_knowledge`` tool.

Tests marked ``integration`` load the embedding model and Chroma (once per module); they run
in CI and are never skipped.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from knowledge import kb
from knowledge.abbreviations import expand
from knowledge.passages import Passage, get_passage, load_passages, passage_index

ROOT = Path(__file__).resolve().parents[1]

# The knowledge ids the evidence engine cites (tools/statements.py: knowledge_id = 'k:<sid>').
ENGINE_IDS = [
    "k:sr", "k:sb", "k:st", "k:sa", "k:af", "k:afl", "k:avb1", "k:spr", "k:wpw", "k:rbbb",
    "k:irbbb", "k:lbbb", "k:lafb", "k:lad", "k:rad", "k:lvh", "k:lqrsv", "k:lqt",
    "k:ste_inferior", "k:ste_lateral", "k:ste_anterior", "k:std_inferior", "k:std_lateral",
    "k:std_anterior", "k:tinv", "k:pvc", "k:pac", "k:paced", "k:lead_reversal",
    "k:poor_quality", "k:vt", "k:wct", "k:wide_rhythm", "k:nsvt", "k:svt", "k:junctional",
    "k:ectopic_atrial",
    "k:brady", "k:tachy", "k:avb2", "k:avb3", "k:lpfb", "k:ilbbb", "k:ivcd", "k:tab",
    "k:brugada",
    "k:lqrsv_prec", "k:stemi_equivalents", "k:rvh", "k:lv_strain", "k:sqt", "k:no_qrs",
    "k:q_waves", "k:early_repol", "k:rae",
]


def _engine_ids_from_source() -> set[str]:
    """Statement ids found in the engine's source (every tools/*.py module), so a new
    statement without a passage fails here too."""
    from tools import statements

    src = "\n".join(path.read_text(encoding="utf-8")
                    for path in sorted((ROOT / "tools").glob("*.py")))
    ids = {f"k:{s}" for s in re.findall(r'_stmt\(\s*"([a-z0-9_]+)"', src)}
    ids |= set(re.findall(r'knowledge_id="(k:[a-z0-9_]+)"', src))
    # statements declared in a loop over (id, label, SNOMED code) tuples
    ids |= {f"k:{s}" for s in re.findall(r'\("([a-z0-9_]+)", "[A-Z][^"]+", "\d+"\)', src)}
    ids |= {f"k:{kind}_{terr}" for kind in ("ste", "std") for terr in statements.TERRITORIES}
    return ids


# --- passages (no model) --------------------------------------------------------------------

def test_passages_validate_unique_and_enough():
    passages = load_passages()
    assert len(passages) >= 60
    ids = [p.id for p in passages]
    assert len(ids) == len(set(ids))
    for p in passages:
        assert 60 <= len(p.text.split()) <= 150, (p.id, len(p.text.split()))
        assert re.search(r"\b(19|20)\d\d\b", p.source), p.id
        assert p.tags and p.title


def test_every_engine_statement_has_a_passage():
    index = passage_index()
    assert not [i for i in ENGINE_IDS if i not in index]
    from_source = _engine_ids_from_source()
    assert set(ENGINE_IDS) <= from_source | {"k:poor_quality"}
    assert not sorted(from_source - set(index))


def test_clinical_topics_covered():
    index = passage_index()
    for pid in ("k:lpfb", "k:bifascicular", "k:avb2_mobitz1", "k:avb2_mobitz2", "k:avb3",
                "k:af_rate_control", "k:afl_typical", "k:rvh", "k:lae", "k:rae",
                "k:qtc_formulas", "k:hyperkalaemia", "k:hypokalaemia", "k:calcium",
                "k:axis_normal", "k:reciprocal_changes", "k:stemi_equivalents",
                "k:pericarditis_vs_stemi", "k:early_repol", "k:wellens", "k:brugada",
                "k:pacing_modes", "k:lead_reversal_other", "k:artefacts", "k:st_measurement",
                "k:heart_rate", "k:junctional", "k:svt", "k:vt_vs_svt", "k:sinus_node"):
        assert pid in index, pid


def test_engine_passages_state_the_engine_thresholds():
    assert "120 ms" in get_passage("k:lbbb").text
    assert "450 ms" in get_passage("k:lqt").text and "460 ms" in get_passage("k:lqt").text
    assert "3.5 mV" in get_passage("k:lvh").text and "2.0 mV" in get_passage("k:lvh").text
    assert "0.25 mV" in get_passage("k:ste_anterior").text
    assert "228 to" in get_passage("k:afl").text


def test_loader_names_the_bad_file_and_passage(tmp_path):
    good = json.loads((ROOT / "knowledge" / "passages.json").read_text())[:2]
    dup = tmp_path / "dup.json"
    dup.write_text(json.dumps(good + [good[0]]))
    with pytest.raises(ValueError, match=re.escape(good[0]["id"])):
        load_passages(dup)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{**good[0], "source": "no year here"}]))
    with pytest.raises(ValueError, match="bad.json"):
        load_passages(bad)
    with pytest.raises(KeyError, match="k:nope"):
        get_passage("k:nope")


def test_abbreviations_expand_in_documents_and_queries():
    assert "left bundle branch block" in expand("LBBB")
    assert "atrial fibrillation" in expand("rate control in afib")
    assert "corrected QT interval" in expand("QTc of 470")
    assert "left anterior descending" in expand("proximal LAD occlusion")
    assert "left axis deviation" in expand("LAD with LAFB")
    assert "left arm right arm" in expand("LA/RA reversal")
    assert expand("hyperkalaemia") == "hyperkalemia"
    assert expand("at the bedside") == "at the bedside"


def test_bm25_mode_needs_no_model_or_database(tmp_path):
    got = kb.query("Sokolow-Lyon voltage for LVH", k=3, mode="bm25", persist_dir=tmp_path)
    assert "k:lvh" in [p.id for p in got]
    assert kb.index_info(tmp_path) is None          # nothing was built
    with pytest.raises(ValueError, match="mode"):
        kb.query("x", mode="sparse")
    with pytest.raises(ValueError, match="k must be"):
        kb.query("x", k=0, mode="bm25")


def test_questions_file_is_consistent():
    data = json.loads((ROOT / "evals" / "knowledge_questions.json").read_text())
    qs = data["questions"]
    index = passage_index()
    assert sum(q["split"] == "dev" for q in qs) >= 30
    assert sum(q["split"] == "holdout" for q in qs) == 10
    assert len({q["id"] for q in qs}) == len(qs)
    for q in qs:
        assert q["expected"] and all(e in index for e in q["expected"]), q["id"]
        assert any(q["key_term"].lower() in index[e].text.lower() for e in q["expected"]), q["id"]


def test_search_knowledge_tool_is_declared():
    from pydantic import ValidationError

    from tools.registry import TOOLS
    from tools.retrieval import KnowledgeQuery, all_passage_ids
    from tools.retrieval import get_passage as tool_get

    spec = TOOLS["search_knowledge"]
    params = spec.json_schema()["function"]["parameters"]["properties"]
    assert set(params) == {"query", "k"}
    assert params["k"]["minimum"] == 1 and params["k"]["maximum"] == 10
    with pytest.raises(ValidationError):
        KnowledgeQuery(query="lbbb", k=11)
    p = tool_get("k:lbbb")
    assert p.id == "k:lbbb" and p.score is None and "Circulation 2009" in p.source
    assert tool_get("k:does_not_exist") is None
    assert set(ENGINE_IDS) <= set(all_passage_ids())


# --- integration: embedding model + Chroma ------------------------------------------------

@pytest.fixture(scope="module")
def kb_home(tmp_path_factory):
    """A home with a built knowledge base in ``<home>/chroma`` (model loaded once)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.setenv("ANONYMIZED_TELEMETRY", "False")
        home = tmp_path_factory.mktemp("ecg-home")
        n = kb.ingest(home / "chroma")
        assert n == len(load_passages())
        yield home


@pytest.mark.integration
@pytest.mark.filterwarnings("ignore:legacy embedding function config")
def test_ingest_stores_every_passage_with_hash_in_cosine_space(kb_home):
    info = kb.index_info(kb_home / "chroma")
    assert info["count"] == len(load_passages())
    assert info["content_hash"] == kb.content_hash()
    col = kb._get_collection(kb._client(kb._resolve(kb_home / "chroma")))
    assert col.configuration["hnsw"]["space"] == "cosine"
    assert kb.ensure_index(kb_home / "chroma") is False      # fresh: no rebuild


@pytest.mark.integration
@pytest.mark.parametrize("question,expected", [
    ("complete left bundle branch block QRS duration", "k:lbbb"),
    ("QTc upper limit for women", "k:lqt"),
    ("Mobitz II second degree block", "k:avb2_mobitz2"),
    ("Sokolow-Lyon voltage criterion", "k:lvh"),
    ("LA/RA electrode reversal", "k:lead_reversal"),
    ("peaked T waves potassium", "k:hyperkalaemia"),
])
def test_hybrid_finds_expected_passage_in_top3(kb_home, question, expected):
    got = kb.query(question, k=3, mode="hybrid", persist_dir=kb_home / "chroma")
    assert expected in [p.id for p in got]
    assert [p.score for p in got] == sorted((p.score for p in got), reverse=True)


@pytest.mark.integration
def test_dense_scores_are_cosine_similarities(kb_home):
    got = kb.query("atrial fibrillation irregularly irregular", k=5, mode="dense",
                   persist_dir=kb_home / "chroma")
    assert len(got) == 5 and all(-1.0 <= p.score <= 1.0 for p in got)
    assert "k:af" in [p.id for p in got]


@pytest.mark.integration
def test_tool_searches_the_default_home(kb_home, monkeypatch):
    from tools.registry import TOOLS

    monkeypatch.setenv("ECG_ASSISTANT_HOME", str(kb_home))
    out = TOOLS["search_knowledge"]({"query": "Wellens biphasic T waves V2 V3", "k": 2})
    assert len(out.passages) == 2 and out.passages[0].id.startswith("k:")
    assert "k:wellens" in [p.id for p in out.passages]
    assert kb.index_info(kb_home / "chroma")["count"] == len(load_passages())


@pytest.mark.integration
def test_persisted_index_is_reused_by_a_new_process(kb_home):
    script = (
        "import json, sys\n"
        "from knowledge import kb\n"
        "def no_rebuild(*a, **k): raise SystemExit('rebuilt although the index was fresh')\n"
        "kb.ingest = no_rebuild\n"
        "got = kb.query('left posterior fascicular block', k=3, mode='dense',\n"
        "               persist_dir=sys.argv[1])\n"
        "print(json.dumps([p.id for p in got]))\n")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}
    res = subprocess.run([sys.executable, "-c", script, str(kb_home / "chroma")], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "k:lpfb" in json.loads(res.stdout.strip().splitlines()[-1])


@pytest.mark.integration
def test_first_query_builds_and_a_changed_file_rebuilds(kb_home, tmp_path):
    rows = json.loads((ROOT / "knowledge" / "passages.json").read_text())
    keep = [r for r in rows if r["id"] in ("k:lbbb", "k:rbbb", "k:af", "k:lqt", "k:wellens")]
    small = tmp_path / "small.json"
    small.write_text(json.dumps(keep))
    where = tmp_path / "chroma"
    assert kb.index_info(where) is None
    got = kb.query("left bundle branch block", k=2, persist_dir=where, passages_path=small)
    assert got[0].id == "k:lbbb"
    info = kb.index_info(where)
    assert info["count"] == 5 and info["content_hash"] == kb.content_hash(small)
    assert kb.ensure_index(where, passages_path=small) is False

    small.write_text(json.dumps(keep[:4]))                  # the file changed: rebuild
    got = kb.query("T waves", k=10, persist_dir=where, passages_path=small)
    assert {p.id for p in got} <= {r["id"] for r in keep[:4]}
    info = kb.index_info(where)
    assert info["count"] == 4 and info["content_hash"] == kb.content_hash(small)
    assert isinstance(got[0], Passage)
