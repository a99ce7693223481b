"""A quick subset of the hostile-input benchmark (benchmarks/fuzz_bench.py runs 10,000):
generated uploads of every accepted format are accepted as valid records or refused with a
RecordError naming the file, never anything else; posted to the API they get 200 or a 4xx
with a message, never a 5xx."""
from __future__ import annotations

from collections import Counter

import pytest

from evals import hostile


@pytest.fixture(scope="module")
def seed_files(tmp_path_factory):
    return hostile.seeds(tmp_path_factory.mktemp("seeds"))


def test_every_format_seed_is_accepted(seed_files):
    for kind, files in seed_files.items():
        outcome, detail = hostile.check(hostile.Upload(dict(files), kind, "seed"))
        assert outcome == "accepted", (kind, detail)


def test_generated_hostile_inputs_never_crash_the_loaders(seed_files):
    seen: Counter = Counter()
    for up in hostile.generate(seed_files, 400, seed=7):
        outcome, detail = hostile.check(up)
        assert outcome != "crash", (up.kind, up.how, detail)
        seen[outcome] += 1
    assert seen["refused"] > 100 and seen["accepted"] > 10  # the mutations bite, seeds pass


def test_generated_hostile_uploads_get_no_5xx(seed_files, tmp_path):
    from benchmarks.fuzz_bench import _client

    client = _client(tmp_path)
    for up in hostile.generate(seed_files, 40, seed=11):
        r = client.post("/v1/reports",
                        files=[("files", (name, data)) for name, data in up.files.items()],
                        params={"fs": "500"} if any(k.endswith(".npy") for k in up.files)
                        else None)
        assert r.status_code < 500, (up.kind, up.how, r.text[:300])
        if r.status_code >= 400:
            assert r.json()["detail"], (up.kind, up.how)
