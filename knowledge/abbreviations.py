"""One abbreviation table for ECG text, applied to documents and queries alike.

all-MiniLM-L6-v2 has never learned that ``LBBB`` means left bundle branch block, and BM25
cannot match ``AFib`` with "atrial fibrillation" either. :func:`expand` keeps each abbreviation
and appends its expansion (``LBBB (left bundle branch block)``), after mapping British to
American spelling (``hyperkalaemia`` -> ``hyperkalemia``) so that both spellings meet. Change
the tables and the knowledge index rebuilds itself (their fingerprint is part of the content
hash in ``knowledge.kb``).
"""
from __future__ import annotations

import hashlib
import json
import re
from functools import lru_cache

# Matched case-sensitively: "AT", "PE", "SA" and friends are only abbreviations in capitals.
ABBREVIATIONS: dict[str, str] = {
    "AF": "atrial fibrillation",
    "AFib": "atrial fibrillation",
    "A-fib": "atrial fibrillation",
    "AFL": "atrial flutter",
    "AT": "atrial tachycardia",
    "MAT": "multifocal atrial tachycardia",
    "SVT": "supraventricular tachycardia",
    "PSVT": "paroxysmal supraventricular tachycardia",
    "AVNRT": "atrioventricular nodal re-entrant tachycardia",
    "AVRT": "atrioventricular re-entrant tachycardia",
    "VT": "ventricular tachycardia",
    "NSVT": "nonsustained ventricular tachycardia",
    "VF": "ventricular fibrillation",
    "WCT": "wide complex tachycardia",
    "TdP": "torsades de pointes",
    "AIVR": "accelerated idioventricular rhythm",
    "SR": "sinus rhythm",
    "NSR": "normal sinus rhythm",
    "SA": "sinoatrial",
    "SSS": "sick sinus syndrome",
    "AV": "atrioventricular",
    "AVB": "atrioventricular block",
    "CHB": "complete heart block",
    "BBB": "bundle branch block",
    "LBBB": "left bundle branch block",
    "RBBB": "right bundle branch block",
    "IRBBB": "incomplete right bundle branch block",
    "iRBBB": "incomplete right bundle branch block",
    "ICRBBB": "incomplete right bundle branch block",
    "ILBBB": "incomplete left bundle branch block",
    "LAFB": "left anterior fascicular block",
    "LAHB": "left anterior hemiblock fascicular block",
    "LPFB": "left posterior fascicular block",
    "LPHB": "left posterior hemiblock fascicular block",
    "IVCD": "intraventricular conduction delay",
    "NIVCD": "nonspecific intraventricular conduction delay",
    "WPW": "Wolff-Parkinson-White pre-excitation",
    "LGL": "Lown-Ganong-Levine short PR",
    "PVC": "premature ventricular complex",
    "PVCs": "premature ventricular complexes",
    "VPB": "ventricular premature beat",
    "VPC": "ventricular premature complex",
    "VEB": "ventricular ectopic beat",
    "PAC": "premature atrial complex",
    "PACs": "premature atrial complexes",
    "APC": "atrial premature complex",
    "APB": "atrial premature beat",
    "PJC": "premature junctional complex",
    "RAD": "right axis deviation",
    "LAD": "left axis deviation",               # or the artery: see _LAD_ARTERY
    "LVH": "left ventricular hypertrophy",
    "RVH": "right ventricular hypertrophy",
    "LAE": "left atrial enlargement",
    "RAE": "right atrial enlargement",
    "LV": "left ventricle",
    "RV": "right ventricle",
    "RVOT": "right ventricular outflow tract",
    "LA/RA": "left arm right arm electrode",
    "RA/LA": "right arm left arm electrode",
    "LA/LL": "left arm left leg electrode",
    "RA/LL": "right arm left leg electrode",
    "QTc": "corrected QT interval",
    "QTcF": "Fridericia corrected QT interval",
    "QTcB": "Bazett corrected QT interval",
    "LQTS": "long QT syndrome",
    "SQTS": "short QT syndrome",
    "MI": "myocardial infarction",
    "AMI": "acute myocardial infarction",
    "STEMI": "ST elevation myocardial infarction",
    "NSTEMI": "non-ST elevation myocardial infarction",
    "OMI": "occlusion myocardial infarction",
    "ACS": "acute coronary syndrome",
    "CAD": "coronary artery disease",
    "STE": "ST elevation",
    "STD": "ST depression",
    "TWI": "T wave inversion",
    "RCA": "right coronary artery",
    "LCx": "left circumflex artery",
    "LCX": "left circumflex artery",
    "LMCA": "left main coronary artery",
    "BER": "benign early repolarization",
    "ERP": "early repolarization pattern",
    "HCM": "hypertrophic cardiomyopathy",
    "DCM": "dilated cardiomyopathy",
    "ARVC": "arrhythmogenic right ventricular cardiomyopathy",
    "ARVD": "arrhythmogenic right ventricular dysplasia",
    "PE": "pulmonary embolism",
    "TCA": "tricyclic antidepressant",
    "ECG": "electrocardiogram",
    "EKG": "electrocardiogram",
    "ICD": "implantable cardioverter-defibrillator",
    "CRT": "cardiac resynchronization therapy biventricular pacing",
    "PPM": "permanent pacemaker",
    "VVI": "ventricular demand pacing mode",
    "VVIR": "rate-adaptive ventricular demand pacing mode",
    "AAI": "atrial demand pacing mode",
    "DDD": "dual chamber pacing mode",
    "DDDR": "rate-adaptive dual chamber pacing mode",
    "VOO": "asynchronous ventricular pacing mode",
    "DOO": "asynchronous dual chamber pacing mode",
    "NBG": "pacemaker code",
    "CTI": "cavotricuspid isthmus",
    "bpm": "beats per minute",
    "HR": "heart rate",
    "hyperK": "hyperkalemia",
    "hypoK": "hypokalemia",
    "hyperCa": "hypercalcemia",
    "hypoCa": "hypocalcemia",
}

# Also matched in any letter case ("lbbb", "Afib", "qtc"): none of these is an English word.
CASE_INSENSITIVE = {
    "AFib", "SVT", "AVNRT", "AVRT", "NSVT", "LBBB", "RBBB", "IRBBB", "LAFB", "LPFB", "IVCD",
    "WPW", "PVC", "PVCs", "PAC", "PACs", "LVH", "RVH", "QTc", "STEMI", "NSTEMI", "LQTS", "ECG",
    "EKG", "HCM", "ARVC", "TdP", "AIVR", "CHB", "LAHB",
}

# British -> American spelling (applied first; both documents and queries).
SPELLING: list[tuple[str, str]] = [
    (r"aemia", "emia"), (r"ischaem", "ischem"), (r"haem", "hem"), (r"oedema", "edema"),
    (r"oesophag", "esophag"), (r"paediatric", "pediatric"), (r"isation", "ization"),
    (r"artefact", "artifact"), (r"apnoea", "apnea"), (r"manoeuvre", "maneuver"),
    (r"sulphate", "sulfate"), (r"fibre", "fiber"), (r"centre", "center"),
]

# "proximal LAD", "LAD occlusion", "LAD artery": the left anterior descending artery.
_LAD_ARTERY = re.compile(r"(proximal|mid|distal|wraparound)\s+$|^\s+(artery|occlusion|lesion|"
                         r"stenosis|territory|disease|culprit|branch)", re.IGNORECASE)


def fingerprint() -> str:
    """Short hash of the tables (part of the knowledge index's content hash)."""
    blob = json.dumps([ABBREVIATIONS, sorted(CASE_INSENSITIVE), SPELLING], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


@lru_cache(maxsize=1)
def _compiled() -> tuple[re.Pattern, dict[str, str], list[tuple[re.Pattern, str]]]:
    keys = sorted(ABBREVIATIONS, key=len, reverse=True)
    alts = [f"(?i:{re.escape(k)})" if k in CASE_INSENSITIVE else re.escape(k) for k in keys]
    pattern = re.compile(r"(?<![A-Za-z0-9])(" + "|".join(alts) + r")(?![A-Za-z0-9])")
    lower = {k.lower(): k for k in CASE_INSENSITIVE}
    spelling = [(re.compile(a, re.IGNORECASE), b) for a, b in SPELLING]
    return pattern, lower, spelling


def normalise_spelling(text: str) -> str:
    """British to American spelling for the words in :data:`SPELLING`."""
    for pat, repl in _compiled()[2]:
        text = pat.sub(lambda m, r=repl: _same_case(m.group(0), r), text)
    return text


def expand(text: str) -> str:
    """``text`` with American spelling and each abbreviation followed by its expansion.

    >>> expand("LBBB or AFib?")
    'LBBB (left bundle branch block) or AFib (atrial fibrillation)?'
    >>> expand("proximal LAD occlusion")
    'proximal LAD (left anterior descending coronary artery) occlusion'
    """
    pattern, lower, _ = _compiled()
    text = normalise_spelling(text)

    def repl(m: re.Match) -> str:
        word = m.group(1)
        key = word if word in ABBREVIATIONS else lower.get(word.lower(), word)
        meaning = ABBREVIATIONS.get(key)
        if meaning is None:
            return word
        if key == "LAD" and (_LAD_ARTERY.search(m.string[max(0, m.start() - 12):m.start()])
                             or _LAD_ARTERY.search(m.string[m.end():m.end() + 12])):
            meaning = "left anterior descending coronary artery"
        return f"{word} ({meaning})"

    return pattern.sub(repl, text)


def _same_case(found: str, repl: str) -> str:
    return repl.capitalize() if found[:1].isupper() else repl
