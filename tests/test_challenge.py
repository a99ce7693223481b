"""The Challenge 2021 metric of the statements suite against the official scoring program
(../shared/tools/cinc2021-evaluation, unchanged) on the same outputs."""
from __future__ import annotations

import importlib.util
import random
import shutil
from pathlib import Path

import pytest

from evals import challenge as C
from evals.labels import parse_header

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
OFFICIAL = SHARED / "tools" / "cinc2021-evaluation"
CINC = SHARED / "data" / "cinc2021"

pytestmark = pytest.mark.integration


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.fail(f"{str(path)!r} missing: ../shared must sit beside the checkout")
    return path


def _official(monkeypatch, tmp_path, truth: dict, predicted: dict) -> float:
    """The official evaluate_model() on labels written as '#Dx:' headers and outputs
    written by :func:`evals.challenge.write_official_outputs`."""
    labels = tmp_path / "labels"
    labels.mkdir()
    for rec in truth:
        text = (CINC / f"{rec}.hea").read_text()
        (labels / f"{rec}.hea").write_text(text.replace("# Dx:", "#Dx:"))
    outputs = C.write_official_outputs(tmp_path / "outputs", predicted)
    spec = importlib.util.spec_from_file_location("cinc_official",
                                                  _need(OFFICIAL / "evaluate_model.py"))
    mod = importlib.util.module_from_spec(spec)
    monkeypatch.syspath_prepend(str(OFFICIAL))
    monkeypatch.chdir(OFFICIAL)  # the program opens 'weights.csv' from the working folder
    spec.loader.exec_module(mod)
    return float(mod.evaluate_model(str(labels), str(outputs))[-1])


def _truth() -> dict:
    return {h.stem: set(parse_header(h).dx) for h in sorted(_need(CINC).glob("*.hea"))}


def test_vendored_weights_are_the_official_ones():
    assert C.WEIGHTS_PATH.read_bytes() == _need(OFFICIAL / "weights.csv").read_bytes()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_metric_equals_official_program(monkeypatch, tmp_path, seed):
    truth = _truth()
    classes, _ = C.load_weights()
    scored = sorted(c for cls in classes for c in cls)
    rng = random.Random(seed)
    predicted = {}
    for rec, codes in truth.items():  # drop some labels, add some wrong classes
        keep = {c for c in codes if rng.random() > 0.3}
        extra = {rng.choice(scored) for _ in range(rng.randint(0, 2))}
        predicted[rec] = keep | extra
    ours = C.challenge_score(truth, predicted)
    official = _official(monkeypatch, tmp_path, truth, predicted)
    assert ours == pytest.approx(official, abs=1e-12)
    assert 0.0 < ours < 1.0


def test_metric_end_points(monkeypatch, tmp_path):
    truth = _truth()
    assert C.challenge_score(truth, truth) == pytest.approx(1.0)
    sinus = {r: {C.SINUS_RHYTHM} for r in truth}
    assert C.challenge_score(truth, sinus) == pytest.approx(0.0, abs=1e-12)
    nothing = {r: set() for r in truth}
    ours = C.challenge_score(truth, nothing)
    assert ours < 0.0
    assert ours == pytest.approx(_official(monkeypatch, tmp_path, truth, nothing), abs=1e-12)


def test_sources():
    assert C.source_of("HR06000") == "PTB-XL"
    assert C.source_of("E07500") == "Georgia"
    assert C.source_of("JS20000") == "Chapman/Ningbo"
    assert C.source_of("A0001") == "CPSC"
