"""Build knowledge/seed_priors.jsonl.gz: the bundled prior-report seed.

For every record in ../shared/data (LUDB and PhysioNet/CinC 2021; licenses ODC-By 1.0 and
CC BY 4.0, see examples/ATTRIBUTION.md) it stores the engine's measurements and statements,
the dataset's expert labels (LUDB diagnoses, CinC SNOMED codes mapped to names) and the
encoder embedding, so that a fresh install can find similar ECGs without the datasets.
Label text from the files is data: it is stored verbatim (cleaned, length-limited).

    .venv/bin/python scripts/build_prior_seed.py [--data ../shared/data]
"""
from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    from evals.labels import parse_header, read_dx_mapping
    from evals.ludb import read_labels
    from tools.encoder import encode_record
    from tools.engine import analyze
    from tools.priors import report_from_analysis
    from tools.record import load_record

    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--out", default=str(ROOT / "knowledge" / "seed_priors.jsonl.gz"))
    args = ap.parse_args()
    data = Path(args.data).resolve()
    ludb = read_labels(data / "ludb" / "ludb.csv")
    dx = read_dx_mapping(data / "cinc2021")
    jobs = [(p, "ludb") for p in sorted((data / "ludb" / "data").glob("*.hea"))]
    jobs += [(p, "cinc") for p in sorted((data / "cinc2021").glob("*.hea"))]
    rows = []
    for i, (path, kind) in enumerate(jobs, 1):
        print(f"[{i}/{len(jobs)}] {path.name}", file=sys.stderr, flush=True)
        record = load_record(path)
        d = analyze(record).to_dict()
        enc = encode_record(record)
        if kind == "ludb":
            lab = ludb[int(path.stem)]
            labels = [line for col, lines in lab.raw.items()
                      if col not in ("ID", "Sex", "Age") for line in lines if line]
            patient = f"ludb-{path.stem}"
        else:
            hdr = parse_header(path)
            labels = [dx.get(c, {}).get("name", c) for c in sorted(hdr.dx)]
            patient = f"cinc-{path.stem}"
        rep = report_from_analysis(d, patient_id=patient, report_id=f"seed-{patient}",
                                   model=enc.model, origin="seed", expert_labels=labels)
        rows.append({"report": rep.model_dump(), "embedding": enc.embedding})
    with gzip.open(args.out, "wt", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row) + "\n")
    print(f"wrote {len(rows)} seed reports to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
