"""Uploaded ECG files: sanitised names, size limits and one-record checks (HTTP API).

File names never become paths: an upload keeps only its base name, which must be a plain
name of letters, digits, ``.``, ``_`` and ``-``; the files are written into a private
temporary folder (or kept as bytes in the report store) under that name.
"""
from __future__ import annotations

import re
from collections.abc import AsyncGenerator
from pathlib import Path

from fastapi import HTTPException, Request

_NAME_RE = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
# The formats of tools.record.load_record; WFDB data files travel with their .hea. A single
# file of any other name (a DICOM object 'IM0001', a MUSE export '.txt') is accepted too:
# vendor formats are recognised from the content, and load_record refuses anything else
# with a message naming the file.
WFDB_EXTS = {".hea", ".dat", ".mat"}
ONE_RECORD = ("a .hea with its .dat/.mat, or one .csv, .npy, .npz, .edf, .bdf, GE MUSE XML, "
              "Philips XML, DICOM ECG waveform or HL7 aECG file, or a paper ECG page (.pdf "
              "export, .png/.jpg scan or photo; digitised)")
MAX_FILES = 8
_MULTIPART_SLACK = 64 * 1024  # boundaries and part headers on top of the file bytes

UPLOAD_DOC = {"requestBody": {"required": True, "content": {"multipart/form-data": {
    "schema": {"type": "object", "required": ["files"], "properties": {"files": {
        "type": "array", "items": {"type": "string", "format": "binary"},
        "description": "the files of ONE record: a .hea with its .dat or .mat, or a single "
                       ".csv, .npy, .npz, .edf, .bdf, GE MUSE XML, Philips XML, DICOM ECG "
                       "waveform or HL7 aECG file (recognised from its content), or a paper "
                       "ECG page: a vector .pdf export or a .png/.jpg scan or photo, "
                       "digitised into a signal first"}}}}}}}


class _TooLarge(Exception):
    pass


def safe_name(raw: str | None) -> str:
    """The upload's base name, if it is a plain file name; else HTTP 400."""
    raw = raw or ""
    parts = re.split(r"[/\\]", raw)
    base = parts[-1]
    if ".." in parts or ".." in base or not _NAME_RE.match(base) or base.startswith("."):
        raise HTTPException(400, f"uploaded file name {raw!r} is not allowed: expected a plain "
                                 "name of letters, digits, '.', '_' or '-' (no directories)")
    return base


async def _limited(stream: AsyncGenerator[bytes, None], limit: int):
    total = 0
    async for chunk in stream:
        total += len(chunk)
        if total > limit:
            raise _TooLarge
        yield chunk


async def read_uploads(request: Request, max_mb: float) -> dict[str, bytes]:
    """The ``files`` parts of a multipart request: sanitised name -> bytes (HTTP 4xx on a
    bad request, 413 over ``max_mb`` in total)."""
    from starlette.datastructures import UploadFile
    from starlette.formparsers import MultiPartException, MultiPartParser

    limit = int(max_mb * 2**20)
    too_large = HTTPException(413, f"upload exceeds the limit of {max_mb:g} MB in total")
    if "multipart/form-data" not in request.headers.get("content-type", ""):
        raise HTTPException(400, "expected multipart/form-data with one or more 'files'")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + _MULTIPART_SLACK:
        raise too_large
    parser = MultiPartParser(request.headers, _limited(request.stream(),
                                                        limit + _MULTIPART_SLACK),
                             max_files=MAX_FILES, max_fields=MAX_FILES)
    try:
        form = await parser.parse()
    except _TooLarge:
        raise too_large from None
    except MultiPartException as exc:
        raise HTTPException(400, f"malformed multipart upload: {exc.message}") from None
    try:
        uploads = [f for f in form.getlist("files") if isinstance(f, UploadFile)]
        if not uploads:
            raise HTTPException(400, "no files uploaded: send one record as multipart field "
                                     f"'files' ({ONE_RECORD})")
        out: dict[str, bytes] = {}
        total = 0
        for up in uploads:
            name = safe_name(up.filename)
            if name in out:
                raise HTTPException(400, f"file {name!r} was uploaded twice")
            chunks = []
            while chunk := await up.read(1 << 20):
                total += len(chunk)
                if total > limit:
                    raise too_large
                chunks.append(chunk)
            out[name] = b"".join(chunks)
        return out
    finally:
        await form.close()


def primary(names: list[str]) -> str:
    """The file to load: the one .hea, else the single data file; else HTTP 400."""
    heas = [n for n in names if Path(n).suffix.lower() == ".hea"]
    if len(heas) > 1:
        raise HTTPException(400, f"several headers uploaded ({', '.join(heas)}); send one "
                                 "record per request")
    if heas:
        others = [n for n in names if Path(n).suffix.lower() not in WFDB_EXTS]
        if others:
            raise HTTPException(400, f"{', '.join(others)} do not belong to WFDB record "
                                     f"{heas[0]!r}; send one record per request")
        return heas[0]
    if len(names) == 1 and Path(names[0]).suffix.lower() not in WFDB_EXTS:
        return names[0]  # load_record recognises it, or refuses it naming the file
    if all(Path(n).suffix.lower() in (".dat", ".mat") for n in names):
        raise HTTPException(400, f"{', '.join(names)}: WFDB data without its header; upload "
                                 "the .hea too")
    raise HTTPException(400, f"{', '.join(names)}: expected the files of ONE record "
                             f"({ONE_RECORD})")


def write_files(files: dict[str, bytes], folder: Path) -> None:
    """Write already-sanitised ``files`` into ``folder`` (never outside it)."""
    for name, data in files.items():
        safe_name(name)
        with open(folder / name, "xb") as out:
            out.write(data)
