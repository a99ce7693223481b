"""The learned signal encoder: a fixed-size embedding of a record and the encoder's own labels.

:func:`encode_record` returns an :class:`EncoderOutput`: an L2-normalised embedding (cosine
similarity = dot product), the model name (embeddings of different models are never
compared), the encoder's label probabilities and notes. This is the only module of the
project that imports torch, and only when a record is first encoded.

Default backend ``openecg-codec-v6``
------------------------------------
The backbone of the codec that ships inside the ``openecg`` wheel (``models/codec_v6.pt``,
1.16 M parameters, Apache-2.0; a single-lead transformer trained on LUDB/QTDB/ISP wave
boundaries, MIT-BIH/vitaldb beat classes and a hospital rhythm set; see its
``codec_v6_MODEL_CARD.md``). For each lead, resampled to 500 Hz and rank-normalised per
10-s window as the codec was trained:

1. the output of its last transformer layer, ``(500 patches x 128)`` per window, is pooled
   over time into mean and standard deviation (256 numbers per lead);
2. each of those 256 numbers is standardised with per-dimension statistics fitted on 100
   LUDB records without labels (``encoder_weights/openecg_codec_v6_pool.json``, made by
   ``scripts/train_encoder.py``);
3. leads are averaged within the limb group (I, II, III, aVR, aVL, aVF) and within the
   precordial group (V1-V6) and the two 256-vectors are concatenated (512 numbers). A group
   with no usable lead is 0 (the LUDB mean after standardisation: "no information"), a flat
   or non-finite lead is left out, and leads with other names (MLII, ...) are used as the
   limb group only when a record has no standard lead at all;
4. the 512-vector is L2-normalised and rounded to 6 decimals (bit-stable across runs).

Labels are the codec's rhythm head (sinus / avb / paced / afib / bbb / ventricular) on lead
II (else the first usable lead), softmax per sample averaged over the record: they sum to 1.
The embedding is amplitude-invariant (rank-normalised input), so voltage criteria are not in
it; those come from the measurements of :mod:`tools.engine`.

Other backends (a GPU host)
---------------------------
``ECG_ENCODER`` names the backend (default ``openecg-codec-v6``): a name registered in
:data:`BACKENDS` or ``package.module:ClassName`` of a class with the same ``encode_record``
contract. ``ECG_ENCODER_WEIGHTS`` is the weights file the user downloaded (nothing is ever
downloaded here) and ``ECG_ENCODER_DEVICE`` is ``auto`` (CUDA when available), ``cpu`` or
``cuda[:N]``. The ``exported`` backend runs any exported model, e.g. ECGFounder or MERL;
see ``encoder_weights/MODEL_CARD.md``. Environment variables are read when an encoder is first
requested, never at import time.

Example
-------
>>> from tools.record import load_record                                  # doctest: +SKIP
>>> out = encode_record(load_record("examples/ludb-1/1.hea"))             # doctest: +SKIP
>>> out.dim, out.model, max(out.labels, key=out.labels.get)               # doctest: +SKIP
(512, 'openecg-codec-v6/pool-limb-precordial-v1', 'sinus')
"""
from __future__ import annotations

import hashlib
import importlib
import json
import math
import os
import threading
import warnings
from pathlib import Path
from typing import Protocol

import numpy as np
from pydantic import BaseModel, Field

from tools.record import LIMB_LEADS, PRECORDIAL_LEADS, STANDARD_LEADS, Record
from tools.registry import tool

DEFAULT_BACKEND = "openecg-codec-v6"
WEIGHTS_DIR = Path(__file__).resolve().parent / "encoder_weights"
_POOL_STATS = WEIGHTS_DIR / "openecg_codec_v6_pool.json"
_CODEC_FS = 500.0
_WINDOW = 5000            # 10 s at 500 Hz: the codec's training window
_PATCH = 10               # samples per backbone token (50 tokens/s)
_MAX_WINDOWS = 3          # long records: 3 evenly spaced 10-s windows (time budget ~1 s)
_FLAT_MV = 0.02           # a lead whose peak-to-peak is below this carries no ECG
_RHYTHM = ("sinus", "avb", "paced", "afib", "bbb", "ventricular")  # codec rhythm head order
_LABEL_LEADS = ("II", "I", "aVF", "V5", "V1")  # II first: the head was validated on lead II


class EncoderError(ValueError):
    """An encoder could not be chosen, loaded or run; the message says which and why."""


class EncoderOutput(BaseModel):
    embedding: list[float] = Field(description="L2-normalised embedding; cosine = dot product")
    dim: int = Field(description="length of the embedding (constant for a model)")
    model: str = Field(description="encoder name and version; compare embeddings of one model")
    labels: dict[str, float] = Field(description="the encoder's label probabilities (0..1)")
    notes: list[str] = Field(default_factory=list)


class EncodeInput(BaseModel):
    path: str = Field(description="path of the ECG file (.hea, .csv, .npy, .npz, .edf)")
    fs: float | None = Field(default=None, description="sampling rate in Hz when the file "
                                                         "does not store it (CSV, .npy)")


class EncoderBackend(Protocol):
    """What a backend implements. It is built as ``cls(weights=path_or_None, device=str)``."""

    name: str

    def encode_record(self, record: Record) -> EncoderOutput: ...


# --- backend choice --------------------------------------------------------------------------

BACKENDS: dict[str, str] = {
    "openecg-codec-v6": "tools.encoder:OpenEcgCodecEncoder",
    "exported": "tools.encoder:ExportedModelEncoder",
}
_CACHE: dict[tuple, EncoderBackend] = {}
_LOCK = threading.Lock()


def register_backend(name: str, target: str) -> None:
    """Register backend ``name`` as ``'package.module:ClassName'`` (imported on first use)."""
    if ":" not in target:
        raise EncoderError(f"backend {name!r}: expected 'package.module:ClassName', "
                           f"got {target!r}")
    BACKENDS[name] = target


def get_encoder(backend: str | None = None, *, weights: str | None = None,
                device: str | None = None) -> EncoderBackend:
    """The encoder named ``backend`` (else ``$ECG_ENCODER``, else the shipped default), loaded
    once and cached. ``weights`` / ``device`` default to ``$ECG_ENCODER_WEIGHTS`` /
    ``$ECG_ENCODER_DEVICE`` (``auto``)."""
    name = (backend or os.environ.get("ECG_ENCODER") or DEFAULT_BACKEND).strip()
    weights = weights or os.environ.get("ECG_ENCODER_WEIGHTS") or None
    device = (device or os.environ.get("ECG_ENCODER_DEVICE") or "auto").strip()
    key = (name, weights, device)
    with _LOCK:
        if key not in _CACHE:
            _CACHE[key] = _load_class(name)(weights=weights, device=device)
        return _CACHE[key]


def _load_class(name: str):
    target = BACKENDS.get(name, name if ":" in name else None)
    if target is None:
        raise EncoderError(f"unknown encoder backend {name!r} (ECG_ENCODER); expected one of "
                           f"{', '.join(sorted(BACKENDS))} or 'package.module:ClassName'")
    module, _, cls = target.partition(":")
    try:
        return getattr(importlib.import_module(module), cls)
    except (ImportError, AttributeError) as exc:
        raise EncoderError(f"encoder backend {name!r}: cannot import {target!r} "
                           f"({type(exc).__name__}: {exc})") from exc


def encode_record(record: Record, *, backend: str | None = None) -> EncoderOutput:
    """Embedding and label probabilities of ``record`` (see the module docstring)."""
    return get_encoder(backend).encode_record(record)


@tool("encode_ecg")
def encode_ecg(args: EncodeInput) -> EncoderOutput:
    """Learned signal embedding of an ECG record (a fixed-length vector for similarity
    search; cosine = dot product) and the encoder's own label probabilities (rhythm classes,
    0..1). The embedding is not a measurement and supports no finding by itself."""
    from tools.record import load_record

    return encode_record(load_record(args.path, fs=args.fs))


# --- shared signal helpers -------------------------------------------------------------------

def _torch(device: str, threads: int = 2):
    """torch, with ``threads`` CPU threads, and the resolved device string."""
    import torch

    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise EncoderError(f"device {device!r} requested (ECG_ENCODER_DEVICE) but torch sees "
                           "no CUDA device")
    return torch, device


def _resample(x: np.ndarray, fs_in: float, fs_out: float) -> np.ndarray:
    """Polyphase resampling along axis 0 (the same method as the delineator)."""
    if abs(fs_in - fs_out) < 1e-9:
        return np.asarray(x, float)
    from fractions import Fraction

    from scipy.signal import resample_poly

    frac = Fraction(fs_out / fs_in).limit_denominator(1000)
    return resample_poly(np.asarray(x, float), frac.numerator, frac.denominator, axis=0)


def _windows(n: int) -> tuple[list[int], int]:
    """Window starts and the number of valid samples per window for ``n`` samples at 500 Hz:
    one window when ``n`` <= 10 s, else up to 3 evenly spaced full windows."""
    if n <= _WINDOW:
        return [0], n
    k = min(math.ceil(n / _WINDOW), _MAX_WINDOWS)
    return sorted({int(round(s)) for s in np.linspace(0, n - _WINDOW, k)}), _WINDOW


def _usable(record: Record) -> tuple[dict[str, np.ndarray], list[str]]:
    """Leads worth encoding by name, and notes on the ones left out."""
    leads, flat = {}, []
    for j, name in enumerate(record.sig_name):
        x = np.asarray(record.signal[:, j], float)
        if not np.all(np.isfinite(x)) or np.ptp(x) < _FLAT_MV:
            flat.append(name)
        elif name not in leads:
            leads[name] = x
    notes = [f"leads left out (flat or non-finite): {', '.join(flat)}"] if flat else []
    return leads, notes


# --- default backend: openecg codec v6 ---------------------------------------------------------

class _StopForward(Exception):
    """Raised by a forward hook once the backbone output is captured (skips the heads)."""


class OpenEcgCodecEncoder:
    """Pooled hidden states of openecg's codec_v6 backbone and its rhythm head (module doc)."""

    name = "openecg-codec-v6/pool-limb-precordial-v1"
    dim = 512

    def __init__(self, weights: str | None = None, device: str = "auto", *,
                 pool_stats: Path | None = _POOL_STATS):
        self._torch, self.device = _torch("cpu" if device == "auto" else device)
        from openecg.layered import load_codec

        ckpt = Path(weights) if weights else _codec_path()
        if not ckpt.is_file():
            raise EncoderError(f"{str(ckpt)!r}: openecg codec checkpoint not found")
        with warnings.catch_warnings():  # torch's nested-tensor notice on norm_first layers
            warnings.simplefilter("ignore", UserWarning)
            self.model = load_codec(str(ckpt), device=self.device)
        cfg = getattr(self.model, "model_config", {})
        if cfg.get("d_model") != 128 or cfg.get("patch_size") != _PATCH:
            raise EncoderError(f"{str(ckpt)!r}: expected a codec with d_model 128 and patch "
                               f"size {_PATCH}, got {cfg.get('d_model')}/{cfg.get('patch_size')}")
        self.ckpt = ckpt
        # pool_stats=None (scripts/train_encoder.py, while fitting them): no standardisation
        self.center, self.scale, self.notes = (_pool_stats(pool_stats, ckpt) if pool_stats
                                               else (0.0, 1.0, []))

    def encode_record(self, record: Record) -> EncoderOutput:
        names, groups, per_lead, x500, starts, valid, notes = self.lead_features(record)
        per_lead = (per_lead - self.center) / self.scale
        parts = []
        for g in ("limb", "precordial"):
            idx = [names.index(n) for n in groups[g]]
            if idx:
                parts.append(per_lead[idx].mean(0))
            else:
                parts.append(np.zeros(per_lead.shape[1]))
                notes.append(f"no usable {g} lead: that half of the embedding is 0")
        emb = np.concatenate(parts)
        emb = emb / max(float(np.linalg.norm(emb)), 1e-12)
        label_lead = next((n for n in _LABEL_LEADS if n in names), names[0])
        labels = self._rhythm(x500[:, names.index(label_lead)], starts, valid)
        notes += self.notes + [
            f"labels: codec_v6 rhythm head on lead {label_lead}; 'paced' is unreliable "
            "(codec model card: use the pacing-spike detector), 'bbb' has AUROC ~0.95 on "
            "lead II only",
            f"{len(names)} leads, {len(starts)} window(s) of 10 s at 500 Hz"
            + ("" if abs(record.fs - _CODEC_FS) < 1e-9 else f" (resampled from {record.fs:g} Hz)")
            + ("; shorter than 10 s: tiled to 10 s, pooled over the real part"
               if valid < _WINDOW else ""),
            "amplitude-invariant (rank-normalised input): voltages are not in the embedding"]
        return EncoderOutput(embedding=[round(float(v), 6) for v in emb], dim=emb.size,
                             model=self.name, labels=labels, notes=notes)

    def lead_features(self, record: Record):
        """Unstandardised per-lead features ``(n_leads, 256)`` with the lead names, groups,
        the 500-Hz signal, window starts, valid samples per window and notes."""
        leads, notes = _usable(record)
        std = [n for n in leads if n in STANDARD_LEADS]
        if not std and leads:
            notes.append(f"no standard lead names; {', '.join(leads)} used as the limb group")
            groups = {"limb": list(leads), "precordial": []}
        else:
            groups = {"limb": [n for n in LIMB_LEADS if n in leads],
                      "precordial": [n for n in PRECORDIAL_LEADS if n in leads]}
        names = groups["limb"] + groups["precordial"]
        if not names:
            raise EncoderError(f"{record.source or 'record'!r}: no usable lead to encode "
                               "(all flat or non-finite)")
        x500 = _resample(np.stack([leads[n] for n in names], 1), record.fs, _CODEC_FS)
        starts, valid = _windows(x500.shape[0])
        per_lead = self._per_lead_stats(x500, starts, valid)
        return names, groups, per_lead, x500, starts, valid, notes

    def _batch(self, x: np.ndarray, starts: list[int], valid: int):
        """(n_windows, 5000) rank-normalised float32 tensor of one lead."""
        from openecg.dsp import rank_normalize

        segs = []
        for s in starts:
            seg = x[s:s + valid]
            # A short record is tiled to one 10-s window (the codec only saw full windows;
            # tools.delineate does the same); only its real part is pooled.
            segs.append(rank_normalize(np.resize(seg, _WINDOW)))
        return self._torch.from_numpy(np.stack(segs).astype(np.float32)).to(self.device)

    def _per_lead_stats(self, x500: np.ndarray, starts: list[int], valid: int) -> np.ndarray:
        """Mean and SD over time of the last transformer layer, per lead: (n_leads, 256)."""
        torch = self._torch
        batch = torch.cat([self._batch(x500[:, j], starts, valid) for j in range(x500.shape[1])])
        captured = []

        def hook(_module, _inputs, output):
            captured.append(output)
            raise _StopForward

        handle = self.model.upper_transformer.register_forward_hook(hook)
        try:
            with torch.inference_mode():
                self.model(batch, torch.zeros(batch.shape[0], dtype=torch.long,
                                              device=self.device))
        except _StopForward:
            pass
        finally:
            handle.remove()
        if not captured:
            raise EncoderError(f"{self.ckpt.name}: the backbone's last transformer layer was "
                               "not reached (openecg model layout changed?)")
        h = captured[0].float().cpu().numpy()                       # (leads*windows, 500, 128)
        h = h[:, :math.ceil(valid / _PATCH)]
        h = h.reshape(x500.shape[1], len(starts) * h.shape[1], h.shape[2])
        return np.concatenate([h.mean(1), h.std(1)], axis=1).astype(np.float64)

    def _rhythm(self, x: np.ndarray, starts: list[int], valid: int) -> dict[str, float]:
        torch = self._torch
        with torch.inference_mode():
            batch = self._batch(x, starts, valid)
            _, _, rhythm = self.model(batch, torch.zeros(batch.shape[0], dtype=torch.long,
                                                         device=self.device))
            p = torch.softmax(rhythm.float(), -1)[:, :valid].mean((0, 1)).cpu().numpy()
        return {k: round(float(v), 4) for k, v in zip(_RHYTHM, p)}


def _codec_path() -> Path:
    import openecg

    return Path(openecg.__file__).resolve().parent / "models" / "codec_v6.pt"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _pool_stats(path: Path, ckpt: Path) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Per-dimension centre and scale of the pooled per-lead features (shipped JSON)."""
    if not Path(path).is_file():
        raise EncoderError(f"{str(path)!r} missing: run scripts/train_encoder.py "
                           "(or reinstall; it ships in tools/encoder_weights/)")
    blob = json.loads(Path(path).read_text(encoding="utf-8"))
    center, scale = np.asarray(blob["center"], float), np.asarray(blob["scale"], float)
    if center.shape != (256,) or scale.shape != (256,) or np.any(scale <= 0):
        raise EncoderError(f"{str(path)!r}: expected 256 centres and positive scales")
    notes = []
    if blob.get("codec_sha256") and blob["codec_sha256"] != _sha256(ckpt):
        notes.append(f"{ckpt.name} differs from the checkpoint the pooling statistics were "
                     "fitted on: refit with scripts/train_encoder.py")
    return center, scale, notes


# --- plug-in backend: any exported torch model (ECGFounder, MERL, ...) -----------------------

class ExportedModelEncoder:
    """A model the user exported, with a JSON sidecar describing its input.

    ``weights`` is ``model.pt2`` (``torch.export.save``, preferred) or a TorchScript file
    (``torch.jit.save``, any other suffix); beside it ``model.json`` holds ``name``,
    ``fs`` (Hz), ``n_samples``, ``leads`` (input order), ``labels`` (output order),
    ``activation`` (``sigmoid`` | ``softmax``) and ``normalize`` (``zscore`` | ``none``).
    ``forward(x)`` takes ``(1, n_leads, n_samples)`` float32 in mV and returns the embedding
    ``(1, D)`` or a tuple ``(embedding (1, D), logits (1, n_labels))``.
    """

    def __init__(self, weights: str | None = None, device: str = "auto"):
        if not weights:
            raise EncoderError("backend 'exported' needs ECG_ENCODER_WEIGHTS: the path of "
                               "the exported model (.pt2 or TorchScript) with its .json "
                               "sidecar beside it")
        path = Path(weights)
        meta_path = path.with_suffix(".json")
        for p in (path, meta_path):
            if not p.is_file():
                raise EncoderError(f"{str(p)!r}: not found (exported encoder backend)")
        self.meta = json.loads(meta_path.read_text(encoding="utf-8"))
        missing = {"name", "fs", "n_samples", "leads"} - set(self.meta)
        if missing:
            raise EncoderError(f"{str(meta_path)!r}: missing keys {sorted(missing)}")
        self._torch, self.device = _torch(device)
        torch = self._torch
        try:
            if path.suffix == ".pt2":
                self.model = torch.export.load(str(path)).module().to(self.device)
            else:
                with warnings.catch_warnings():  # TorchScript is deprecated, still supported
                    warnings.simplefilter("ignore", DeprecationWarning)
                    self.model = torch.jit.load(str(path), map_location=self.device).eval()
        except Exception as exc:  # noqa: BLE001 - a bad file fails in many ways
            raise EncoderError(f"{str(path)!r}: not a torch.export (.pt2) or TorchScript "
                               f"model ({type(exc).__name__}: {exc})") from exc
        self.name = str(self.meta["name"])

    def encode_record(self, record: Record) -> EncoderOutput:
        leads, notes = _usable(record)
        m = self.meta
        n, want = int(m["n_samples"]), list(m["leads"])
        absent = [lead for lead in want if lead not in leads]
        if len(absent) == len(want):
            raise EncoderError(f"{record.source or 'record'!r}: none of the leads {want} "
                               "is usable")
        if absent:
            notes.append(f"leads absent, fed as zeros: {', '.join(absent)}")
        x = np.stack([leads.get(lead, np.zeros(record.n_samples)) for lead in want], 1)
        x = _resample(x, record.fs, float(m["fs"]))
        if x.shape[0] >= n:                       # centre crop
            s = (x.shape[0] - n) // 2
            x = x[s:s + n]
        else:                                     # tile, as for the default backend
            notes.append(f"shorter than {n} samples: tiled")
            x = np.resize(x.T, (x.shape[1], n)).T
        if m.get("normalize", "none") == "zscore":
            x = (x - x.mean(0)) / np.maximum(x.std(0), 1e-6)
        torch = self._torch
        with torch.inference_mode():
            out = self.model(torch.from_numpy(x.T[None].astype(np.float32)).to(self.device))
        emb, logits = (out if isinstance(out, (tuple, list)) else (out, None))[:2]
        emb = emb.float().reshape(-1).cpu().numpy()
        emb = emb / max(float(np.linalg.norm(emb)), 1e-12)
        labels: dict[str, float] = {}
        if logits is not None and m.get("labels"):
            z = logits.float().reshape(-1)
            p = torch.softmax(z, 0) if m.get("activation") == "softmax" else torch.sigmoid(z)
            labels = {k: round(float(v), 4) for k, v in zip(m["labels"], p.cpu().numpy())}
        return EncoderOutput(embedding=[round(float(v), 6) for v in emb], dim=emb.size,
                             model=self.name, labels=labels, notes=notes)
