"""Tool declarations of the evidence engine (one pydantic input, one output, a docstring).

Importing this module registers the tools in :data:`tools.registry.TOOLS`.
"""
from __future__ import annotations

from pydantic import BaseModel, Field

from tools.registry import tool


class MeasureInput(BaseModel):
    path: str = Field(description="path of the ECG file (.hea, .csv, .npy, .npz, .edf)")
    fs: float | None = Field(default=None, description="sampling rate in Hz when the file "
                                                         "does not store it (CSV, .npy)")


class MeasureOutput(BaseModel):
    record: dict
    quality: dict
    measurements: dict[str, dict]
    statements: list[dict]
    delineation: dict[str, dict]
    beats: list[dict]
    notes: list[str]
    timings: dict[str, float]
    engine: dict


@tool("measure_ecg")
def measure_ecg(args: MeasureInput) -> MeasureOutput:
    """Measure a 12-lead ECG and state findings with cited evidence: per-lead quality,
    wave boundaries, global intervals (ms), axes (deg), amplitudes (mV), and diagnostic
    statements with SNOMED CT codes, criteria and evidence ids."""
    from tools.engine import analyze
    from tools.record import load_record

    return MeasureOutput(**analyze(load_record(args.path, fs=args.fs)).to_dict())
