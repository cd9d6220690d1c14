"""All FAISS detail in one place.

Passage vectors are L2-normalised, so inner product is cosine similarity.
FAISS ids are the DuckDB passage ids. The index is derived data: it is saved
atomically (write to a temporary file, fsync, rename) and reconciled with
DuckDB whenever the store opens.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.faults import crash_point

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reconciliation:
    added: int
    removed: int
    rebuilt: bool


def _faiss() -> Any:
    import faiss  # lazy: keeps `tropescope --help` fast

    return faiss


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class VectorIndex:
    """A FAISS index of passage vectors keyed by passage id."""

    def __init__(self, dim: int, path: Path) -> None:
        self.dim = dim
        self.path = path
        self._lock = threading.RLock()
        self._index = self._empty()
        self.dirty = False

    def _empty(self) -> Any:
        faiss = _faiss()
        return faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))

    @property
    def kind(self) -> str:
        return "flat"

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def load(self) -> bool:
        """Read the index file; return False (and stay empty) if it is missing or corrupt."""
        if not self.path.exists():
            return False
        faiss = _faiss()
        try:
            index = faiss.read_index(str(self.path))
        except Exception as exc:  # a truncated or foreign file: rebuild from DuckDB
            log.warning("FAISS file %s is unreadable (%s); it will be rebuilt", self.path, exc)
            return False
        if index.d != self.dim:
            log.warning(
                "FAISS file %s has dimension %d, not %d; rebuilding", self.path, index.d, self.dim
            )
            return False
        with self._lock:
            self._index = index
        return True

    def ids(self) -> np.ndarray:
        with self._lock:
            return _faiss().vector_to_array(self._index.id_map).astype(np.int64)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids) == 0:
            return
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        with self._lock:
            self._index.add_with_ids(vectors, np.ascontiguousarray(ids, dtype=np.int64))
            self.dirty = True

    def remove(self, ids: np.ndarray) -> int:
        if len(ids) == 0:
            return 0
        selector = _faiss().IDSelectorArray(np.ascontiguousarray(ids, dtype=np.int64))
        with self._lock:
            removed = int(self._index.remove_ids(selector))
            self.dirty = self.dirty or removed > 0
        return removed

    def search(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Return (scores, ids), each of shape (len(vectors), k); missing slots have id -1."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        with self._lock:
            k = max(1, min(k, max(1, int(self._index.ntotal))))
            scores, ids = self._index.search(vectors, k)
        return scores, ids

    def vector(self, passage_id: int) -> np.ndarray | None:
        """The stored vector of one id (None if the index does not hold it)."""
        with self._lock:
            try:
                return np.asarray(self._index.reconstruct(int(passage_id)), dtype=np.float32)
            except (RuntimeError, KeyError, IndexError):
                return None

    def save(self) -> None:
        """Write atomically: temporary file, fsync, rename, fsync the directory."""
        faiss = _faiss()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(self.path.suffix + ".tmp")
        with self._lock:
            faiss.write_index(self._index, str(tmp))
            count = int(self._index.ntotal)
            self.dirty = False
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        crash_point("faiss_save")
        os.replace(tmp, self.path)
        meta = {"kind": self.kind, "dim": self.dim, "vectors": count, "metric": "inner_product"}
        meta_tmp = self.path.with_suffix(".meta.json.tmp")
        meta_tmp.write_text(json.dumps(meta, indent=2))
        os.replace(meta_tmp, self.path.with_suffix(".meta.json"))
        _fsync_dir(self.path.parent)

    def reconcile(self, store_ids: np.ndarray, fetch_vectors: Any) -> Reconciliation:
        """Make the index hold exactly ``store_ids``.

        ``fetch_vectors(ids)`` returns the stored embeddings of those ids, in order.
        """
        present = self.ids()
        extra = np.setdiff1d(present, store_ids, assume_unique=False)
        missing = np.setdiff1d(store_ids, present, assume_unique=False)
        removed = self.remove(extra)
        for start in range(0, len(missing), 50_000):
            chunk = missing[start : start + 50_000]
            self.add(chunk, fetch_vectors(chunk))
        return Reconciliation(added=int(len(missing)), removed=removed, rebuilt=False)
