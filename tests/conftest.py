"""Session-wide test settings."""
from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session", autouse=True)
def _one_embedded_model_copy(tmp_path_factory):
    """Every test home shares one assembled embedded model (1.1 GB) instead of one per home:
    three copies per run, kept for three runs, filled the CI disk (stop 21)."""
    if not os.environ.get("ECG_ASSISTANT_MODEL_DIR"):
        os.environ["ECG_ASSISTANT_MODEL_DIR"] = str(tmp_path_factory.getbasetemp() / "models")
    yield
