"""All FAISS detail in one place.

Passage vectors are L2-normalised, so inner product is cosine similarity.
FAISS ids are the DuckDB passage ids. The index is derived data: it is saved
atomically (write to a temporary file, fsync, rename) and reconciled with
DuckDB whenever the store opens.

Index type follows size: exact search (flat) below ``ann_threshold`` vectors; an
inverted-file index (IVF-Flat, inner product, ``nprobe`` lists searched) from
there on, trained on a sample of the stored vectors and retrained when the
store has grown fourfold since. Both support adding and removing ids, which
shard redos and reconciliation need; the bench measures IVF recall against
exact search.
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

from core.errors import StoreError
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


ANN_THRESHOLD = 200_000
NPROBE = 32


class VectorIndex:
    """A FAISS index of passage vectors keyed by passage id."""

    def __init__(
        self, dim: int, path: Path, ann_threshold: int = ANN_THRESHOLD, nprobe: int = NPROBE
    ) -> None:
        self.dim = dim
        self.path = path
        self.ann_threshold = ann_threshold
        self.nprobe = nprobe
        self._lock = threading.RLock()
        self._index = self._empty()
        self._trained_on = 0
        self.dirty = False

    def _empty(self) -> Any:
        faiss = _faiss()
        return faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))

    @property
    def kind(self) -> str:
        return "ivf" if self._ivf() is not None else "flat"

    def _ivf(self) -> Any:
        faiss = _faiss()
        return self._index if isinstance(self._index, faiss.IndexIVF) else None

    def _all(self) -> tuple[np.ndarray, np.ndarray]:
        """(ids, vectors) of everything in the index."""
        faiss = _faiss()
        ids = self.ids()
        if self._ivf() is None:
            flat = faiss.downcast_index(self._index.index)
            vectors = flat.reconstruct_n(0, flat.ntotal) if flat.ntotal else np.zeros((0, self.dim))
            return ids, np.asarray(vectors, dtype=np.float32)
        vectors = (
            np.vstack([self._index.reconstruct(int(i))[None, :] for i in ids])
            if len(ids)
            else np.zeros((0, self.dim), dtype=np.float32)
        )
        return ids, vectors.astype(np.float32)

    def _build_ivf(self, ids: np.ndarray, vectors: np.ndarray) -> Any:
        faiss = _faiss()
        n = len(ids)
        nlist = int(min(8_192, max(64, np.sqrt(n))))
        index = faiss.index_factory(self.dim, f"IVF{nlist},Flat", faiss.METRIC_INNER_PRODUCT)
        sample = np.random.default_rng(0).permutation(n)[: min(n, 50 * nlist)]
        index.train(np.ascontiguousarray(vectors[sample]))
        index.set_direct_map_type(faiss.DirectMap.Hashtable)
        index.add_with_ids(np.ascontiguousarray(vectors), np.ascontiguousarray(ids))
        index.nprobe = self.nprobe
        log.info("built IVF index: %d vectors, %d lists", n, nlist)
        return index

    def maybe_change_type(self) -> bool:
        """Switch flat -> IVF past the threshold (or retrain an IVF that grew 4x)."""
        n = len(self)
        grown = self._ivf() is not None and n >= 4 * max(self._trained_on, 1)
        if n < self.ann_threshold or (self._ivf() is not None and not grown):
            return False
        with self._lock:
            ids, vectors = self._all()
            self._index = self._build_ivf(ids, vectors)
            self._trained_on = n
            self.dirty = True
        return True

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
            if self._ivf() is not None:
                index.nprobe = self.nprobe
                self._trained_on = int(index.ntotal)
        return True

    def ids(self) -> np.ndarray:
        faiss = _faiss()
        with self._lock:
            ivf = self._ivf()
            if ivf is None:
                return faiss.vector_to_array(self._index.id_map).astype(np.int64)
            lists = ivf.invlists
            parts = [
                faiss.rev_swig_ptr(lists.get_ids(i), lists.list_size(i)).copy()
                for i in range(ivf.nlist)
                if lists.list_size(i)
            ]
            return (
                np.sort(np.concatenate(parts)).astype(np.int64) if parts else np.zeros(0, np.int64)
            )

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
        self.maybe_change_type()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(self.path.suffix + ".tmp")
        try:
            with self._lock:
                faiss.write_index(self._index, str(tmp))
                count = int(self._index.ntotal)
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            crash_point("faiss_save")
            os.replace(tmp, self.path)
        except (OSError, RuntimeError) as exc:  # disk full, directory not writable
            tmp.unlink(missing_ok=True)
            raise StoreError(f"cannot save the FAISS index {self.path}: {exc}") from exc
        self.dirty = False
        meta = {
            "kind": self.kind,
            "dim": self.dim,
            "vectors": count,
            "metric": "inner_product",
            "nprobe": self.nprobe if self.kind == "ivf" else None,
        }
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
