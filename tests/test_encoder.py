"""The signal encoder (tools/encoder.py): contract, robustness, determinism, backend choice.

CPU only, no network; uses the two shipped example records and signals derived from them.
"""
from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from tools import encoder as E
from tools.record import Record, load_record
from tools.registry import TOOLS

ROOT = Path(__file__).resolve().parents[1]
LUDB_1 = ROOT / "examples" / "ludb-1" / "1.hea"
CINC = ROOT / "examples" / "cinc-E07500" / "E07500.hea"
RHYTHM = {"sinus", "avb", "paced", "afib", "bbb", "ventricular"}


@pytest.fixture(scope="module")
def enc():
    return E.get_encoder("openecg-codec-v6")


@pytest.fixture(scope="module")
def rec():
    return load_record(LUDB_1)


def _variant(rec: Record, *, leads=None, seconds=None, fs=None, names=None,
             gain=1.0) -> Record:
    from scipy.signal import resample_poly

    cols = [rec.sig_name.index(n) for n in leads] if leads else list(range(len(rec.sig_name)))
    sig = rec.signal[:, cols] * gain
    out_fs = rec.fs
    if fs:
        sig, out_fs = resample_poly(sig, int(fs), int(rec.fs), axis=0), float(fs)
    if seconds:
        n = int(seconds * out_fs)
        sig = np.resize(sig.T, (sig.shape[1], n)).T if n > sig.shape[0] else sig[:n]
    return Record(signal=np.ascontiguousarray(sig), fs=out_fs,
                  sig_name=names or [rec.sig_name[c] for c in cols])


def _cos(a, b) -> float:
    a, b = np.asarray(a), np.asarray(b)
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


def test_import_does_not_load_torch():
    code = "import sys, tools.encoder; print('torch' in sys.modules)"
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    assert res.stdout.strip() == "False"


@pytest.mark.parametrize("kw", [
    {},
    {"seconds": 4.0},                                   # shorter than a window
    {"seconds": 25.0},                                  # several windows
    {"fs": 250},                                        # resampled
    {"fs": 1000, "seconds": 6.0},
    {"leads": ["I", "II", "V1"]},                       # lead subset
    {"leads": ["V2", "V5"]},                            # no limb lead
    {"leads": ["II"]},                                  # single lead
    {"leads": ["II"], "names": ["MLII"]},               # non-standard name
])
def test_embedding_shape_is_constant_and_finite(enc, rec, kw):
    out = enc.encode_record(_variant(rec, **kw))
    assert out.dim == len(out.embedding) == 512
    emb = np.asarray(out.embedding)
    assert np.all(np.isfinite(emb))
    assert np.linalg.norm(emb) == pytest.approx(1.0, abs=1e-4)
    assert out.model == "openecg-codec-v6/pool-limb-precordial-v1"


def test_labels_are_probabilities(enc, rec):
    out = enc.encode_record(rec)
    assert set(out.labels) == RHYTHM
    assert all(0.0 <= p <= 1.0 for p in out.labels.values())
    assert sum(out.labels.values()) == pytest.approx(1.0, abs=1e-3)
    assert max(out.labels, key=out.labels.get) == "sinus"   # LUDB 1: sinus bradycardia


def test_deterministic_across_calls_and_instances(enc, rec):
    a = enc.encode_record(rec)
    b = enc.encode_record(rec)
    c = E.OpenEcgCodecEncoder().encode_record(rec)
    assert a.embedding == b.embedding == c.embedding
    assert a.labels == c.labels


def test_similarity_survives_resampling_and_gain(enc, rec):
    base = enc.encode_record(rec).embedding
    other = enc.encode_record(load_record(CINC)).embedding
    resampled = enc.encode_record(_variant(rec, fs=250)).embedding
    doubled = enc.encode_record(_variant(rec, gain=2.0)).embedding
    assert _cos(base, doubled) > 0.999            # rank-normalised input: gain-invariant
    assert _cos(base, resampled) > _cos(base, other)


def test_missing_groups_are_noted(enc, rec):
    out = enc.encode_record(_variant(rec, leads=["V2", "V5"]))
    assert any("no usable limb lead" in n for n in out.notes)
    assert np.allclose(out.embedding[:256], 0.0)
    flat = _variant(rec, leads=["I", "II"])
    flat.signal[:, 0] = 0.0
    out = enc.encode_record(flat)
    assert any("flat" in n and "I" in n for n in out.notes)


def test_all_flat_record_is_an_error(enc, rec):
    flat = _variant(rec, leads=["I", "II"])
    flat.signal[:] = 0.0
    with pytest.raises(E.EncoderError, match="no usable lead"):
        enc.encode_record(flat)


@pytest.mark.parametrize("path", [LUDB_1, CINC])
def test_tool_declaration(path):
    spec = TOOLS["encode_ecg"]
    assert spec.input_model is E.EncodeInput and spec.output_model is E.EncoderOutput
    assert "path" in spec.json_schema()["function"]["parameters"]["properties"]
    out = spec({"path": str(path)})
    payload = json.loads(out.model_dump_json())
    assert {"embedding", "model", "labels", "dim", "notes"} <= set(payload)
    assert len(payload["embedding"]) == payload["dim"] >= 16


def test_unknown_backend_is_a_clear_error(monkeypatch, rec):
    with pytest.raises(E.EncoderError, match=r"unknown encoder backend 'nope'.*openecg-codec-v6"):
        E.get_encoder("nope")
    monkeypatch.setenv("ECG_ENCODER", "ecgfounder-typo")
    with pytest.raises(ValueError, match="ecgfounder-typo"):
        E.encode_record(rec)
    with pytest.raises(E.EncoderError, match="cannot import 'no_such_pkg.mod:Cls'"):
        E.get_encoder("no_such_pkg.mod:Cls")


def test_exported_backend_needs_weights():
    with pytest.raises(E.EncoderError, match="ECG_ENCODER_WEIGHTS"):
        E.get_encoder("exported", weights=None)


def _tiny_model():
    import torch

    class Tiny(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.head = torch.nn.Linear(3, 2)

        def forward(self, x):
            feats = torch.cat([x.mean(-1), x.std(-1)], 1)       # (1, 6)
            return feats, self.head(x.mean(-1))

    torch.manual_seed(0)
    return Tiny().eval()


@pytest.mark.parametrize("fmt", ["pt2", "torchscript"])
def test_exported_backend_runs_a_user_model(tmp_path, monkeypatch, rec, fmt):
    import torch

    model = _tiny_model()
    if fmt == "pt2":
        path = tmp_path / "tiny.pt2"
        torch.export.save(torch.export.export(model, (torch.zeros(1, 3, 2500),)), str(path))
    else:
        path = tmp_path / "tiny.ts"
        with warnings.catch_warnings():  # TorchScript is deprecated in torch 2.13
            warnings.simplefilter("ignore", DeprecationWarning)
            torch.jit.script(model).save(str(path))
    path.with_suffix(".json").write_text(json.dumps({
        "name": f"tiny-{fmt}", "fs": 250, "n_samples": 2500, "leads": ["I", "II", "V9"],
        "labels": ["a", "b"], "activation": "softmax", "normalize": "zscore"}))
    monkeypatch.setenv("ECG_ENCODER", "exported")
    monkeypatch.setenv("ECG_ENCODER_WEIGHTS", str(path))
    monkeypatch.setenv("ECG_ENCODER_DEVICE", "cpu")
    out = E.encode_record(rec)
    assert out.model == f"tiny-{fmt}" and out.dim == 6
    assert set(out.labels) == {"a", "b"}
    assert sum(out.labels.values()) == pytest.approx(1.0, abs=1e-3)
    assert any("V9" in n for n in out.notes)
