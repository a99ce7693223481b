"""The PhysioNet/CinC Challenge 2021 metric, computed here from engine statements.

The metric (Reyna et al., "Will Two Do? Varying Dimensions in Electrocardiography: The
PhysioNet/Computing in Cardiology Challenge 2021", CinC 2021) scores multi-label outputs over
26 SNOMED CT classes with a reward matrix (``data/cinc2021_weights.csv``, copied unchanged from
the official evaluation repository, BSD-2-Clause, see ``data/cinc2021_weights.LICENSE``):

* a class of the matrix is a set of equivalent codes (``a|b``); a record is positive for it
  when any of its codes is among the record's labels (or outputs);
* per record, a modified confusion matrix gets 1 / n for every (label class, output class)
  pair, n = the number of classes that are labelled or output (at least 1);
* observed = sum(weights * A); the score is normalised between the score of a classifier that
  always outputs only sinus rhythm (0) and the score of the true labels (1).

Codes outside the 26 classes are ignored on both sides, as in the official program. The
official program (../shared/tools/cinc2021-evaluation) is the judge: tests check that
:func:`challenge_score` equals its figure on the same outputs (:func:`write_official_outputs`
writes them in its format).
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

WEIGHTS_PATH = Path(__file__).with_name("data") / "cinc2021_weights.csv"
SINUS_RHYTHM = "426783006"


def load_weights(path: str | Path = WEIGHTS_PATH) -> tuple[list[frozenset[str]], np.ndarray]:
    """The scored classes (each a set of equivalent codes) and the reward matrix."""
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    classes = [frozenset(c.strip().split("|")) for c in rows[0][1:]]
    row_classes = [frozenset(r[0].strip().split("|")) for r in rows[1:]]
    if row_classes != classes:
        raise ValueError(f"{str(path)!r}: row and column classes differ")
    weights = np.array([[float(v) for v in r[1:]] for r in rows[1:]], dtype=float)
    return classes, weights


def one_hot(codes, classes: list[frozenset[str]]) -> np.ndarray:
    got = {str(c).strip() for c in codes}
    return np.array([bool(c & got) for c in classes], dtype=bool)


def _confusion(labels: np.ndarray, outputs: np.ndarray) -> np.ndarray:
    """The Challenge's modified multi-label confusion matrix (rows labels, columns outputs)."""
    n_cls = labels.shape[1]
    a = np.zeros((n_cls, n_cls))
    for lab, out in zip(labels, outputs):
        norm = float(max(np.sum(lab | out), 1))
        a += np.outer(lab, out) / norm
    return a


def challenge_score(truth: dict, predicted: dict, weights_path: str | Path = WEIGHTS_PATH
                    ) -> float | None:
    """Normalised Challenge 2021 metric over the records of ``truth``.

    Parameters
    ----------
    truth, predicted : ``{record: iterable of SNOMED CT codes}``; a record missing from
        ``predicted`` outputs nothing.

    Returns None for no records; 0.0 when the true labels score no better than always
    answering sinus rhythm (the official program's convention).
    """
    if not truth:
        return None
    classes, w = load_weights(weights_path)
    recs = list(truth)
    labels = np.array([one_hot(truth[r], classes) for r in recs])
    outputs = np.array([one_hot(predicted.get(r, ()), classes) for r in recs])
    sr = classes.index(next(c for c in classes if SINUS_RHYTHM in c))
    inactive = np.zeros_like(labels)
    inactive[:, sr] = True
    observed = float(np.nansum(w * _confusion(labels, outputs)))
    correct = float(np.nansum(w * _confusion(labels, labels)))
    base = float(np.nansum(w * _confusion(labels, inactive)))
    return 0.0 if correct == base else (observed - base) / (correct - base)


def source_of(record: str) -> str:
    """The Challenge source database from a record name's prefix (Reyna et al. 2021)."""
    for prefix, name in (("HR", "PTB-XL"), ("JS", "Chapman/Ningbo"), ("E", "Georgia"),
                         ("Q", "CPSC-Extra"), ("A", "CPSC"), ("S", "PTB"), ("I", "INCART")):
        if record.upper().startswith(prefix):
            return name
    return "other"


def write_official_outputs(out_dir: str | Path, predicted: dict,
                           weights_path: str | Path = WEIGHTS_PATH) -> Path:
    """One ``RECORD.csv`` per record in the official program's output format (line 1
    ``#RECORD``, then the scored class codes, binary outputs and probabilities)."""
    classes, _ = load_weights(weights_path)
    names = ["|".join(sorted(c)) for c in classes]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for rec, codes in predicted.items():
        hot = one_hot(codes, classes).astype(int)
        (out / f"{rec}.csv").write_text(
            f"#{rec}\n" + ",".join(names) + "\n" + ",".join(map(str, hot)) + "\n"
            + ",".join(f"{float(v):.1f}" for v in hot) + "\n", encoding="utf-8")
    return out
