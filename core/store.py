"""The store: one directory holding a DuckDB file (the source of truth) and a
FAISS index of passage vectors (derived, reconciled on open).

DuckDB allows one read-write process; inside that process, ``Store`` hands out
a cursor per caller and serialises writers with ``write_lock``.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np

from core.errors import StoreError, StoreLocked
from core.schema import EMBEDDING_DIM, migrate
from core.settings import Settings
from core.vectors import ANN_THRESHOLD, NPROBE, Reconciliation, VectorIndex

log = logging.getLogger(__name__)

DB_NAME = "tropescope.duckdb"
FAISS_NAME = "passages.faiss"


class Store:
    def __init__(self, directory: Path, con: duckdb.DuckDBPyConnection, vectors: VectorIndex):
        self.directory = directory
        self._con = con
        self.vectors = vectors
        self.write_lock = threading.RLock()
        self.reconciliation: Reconciliation | None = None

    # -- opening -----------------------------------------------------------------
    @classmethod
    def open_with(cls, settings: Settings) -> Store:
        """Open the store a Settings object names, with its index settings."""
        return cls.open(
            settings.store, ann_threshold=settings.ann_threshold, nprobe=settings.ann_nprobe
        )

    @classmethod
    def open(
        cls,
        directory: Path,
        *,
        reconcile: bool = True,
        ann_threshold: int = ANN_THRESHOLD,
        nprobe: int = NPROBE,
    ) -> Store:
        directory = Path(directory)
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create store directory {directory}: {exc}") from exc
        db_path = directory / DB_NAME
        try:
            con = duckdb.connect(str(db_path))
        except duckdb.IOException as exc:
            text = str(exc)
            if "lock" in text.lower():
                raise StoreLocked(
                    f"the store {directory} is held by another process (a running "
                    "`tropescope serve`?); submit work to it or stop it first",
                    {"store": str(directory)},
                ) from exc
            raise StoreError(f"cannot open {db_path}: {text}") from exc
        try:
            migrate(con)
        except Exception:
            con.close()
            raise
        vectors = VectorIndex(EMBEDDING_DIM, directory / FAISS_NAME, ann_threshold, nprobe)
        store = cls(directory, con, vectors)
        store._discard_interrupted_shards()
        if reconcile:
            store.reconcile_vectors()
        return store

    def close(self) -> None:
        with self.write_lock:
            if self.vectors.dirty:
                self.vectors.save()
            self._con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- access ------------------------------------------------------------------
    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor of its own for the calling thread (DuckDB cursors are not shared)."""
        return self._con.cursor()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One write transaction, serialised with every other writer in this process."""
        with self.write_lock:
            cur = self._con.cursor()
            cur.execute("BEGIN TRANSACTION")
            try:
                yield cur
            except duckdb.IOException as exc:  # disk full, store directory not writable
                _rollback(cur)
                raise StoreError(f"cannot write to the store {self.directory}: {exc}") from exc
            except BaseException:
                _rollback(cur)
                raise
            else:
                try:
                    cur.execute("COMMIT")
                except duckdb.Error as exc:
                    _rollback(cur)
                    raise StoreError(f"cannot commit to the store {self.directory}: {exc}") from exc
            finally:
                cur.close()

    # -- maintenance ---------------------------------------------------------------
    def _discard_interrupted_shards(self) -> None:
        """A shard left 'running' by a crashed writer: drop its rows so it is redone cleanly."""
        with self.transaction() as cur:
            stale = [
                r[0]
                for r in cur.execute("SELECT id FROM shards WHERE status = 'running'").fetchall()
            ]
            for shard_id in stale:
                delete_shard_rows(cur, shard_id)
                cur.execute(
                    "UPDATE shards SET status = 'interrupted', error = 'the writer stopped before "
                    "this shard committed; it will be redone' WHERE id = ?",
                    [shard_id],
                )
        if stale:
            log.warning("discarded %d interrupted shard(s): %s", len(stale), stale)

    def reconcile_vectors(self) -> Reconciliation:
        """Load FAISS and make it hold exactly the stored passages."""
        with self.write_lock:
            loaded = self.vectors.load()
            cur = self.cursor()
            ids = cur.sql("SELECT id FROM passages ORDER BY id").fetchnumpy()["id"].astype(np.int64)
            result = self.vectors.reconcile(ids, lambda chunk: self.embeddings(chunk))
            self.reconciliation = Reconciliation(result.added, result.removed, rebuilt=not loaded)
            if result.added or result.removed or not loaded:
                log.info("FAISS reconciled: +%d -%d", result.added, result.removed)
                self.vectors.save()
            return self.reconciliation

    def embeddings(self, ids: np.ndarray) -> np.ndarray:
        """Stored embeddings of ``ids``, in the order given."""
        if len(ids) == 0:
            return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
        cur = self.cursor()
        table = cur.sql(
            "SELECT p.id, p.embedding FROM passages p "
            "JOIN (SELECT unnest(?::BIGINT[]) AS id) w USING (id)",
            params=[ids.tolist()],
        ).to_arrow_table()
        got = table.column("id").to_numpy()
        flat = table.column("embedding").combine_chunks().flatten().to_numpy()
        vectors = flat.reshape(len(got), EMBEDDING_DIM).astype(np.float32)
        order = {int(pid): i for i, pid in enumerate(got)}
        return vectors[[order[int(i)] for i in ids]]

    def passage_texts(self, ids: np.ndarray) -> list[str]:
        """Stored passage texts of ``ids``, in the order given."""
        rows = (
            self.cursor()
            .execute(
                "SELECT p.id, p.text FROM passages p "
                "JOIN (SELECT unnest(?::BIGINT[]) AS id) w USING (id)",
                [ids.tolist()],
            )
            .fetchall()
        )
        by_id = dict(rows)
        return [by_id[int(i)] for i in ids]

    def next_id(self, cur: duckdb.DuckDBPyConnection, table: str) -> int:
        rows = cur.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}").fetchall()
        row = rows[0] if rows else None
        return int(row[0]) if row else 1


def _rollback(cur: duckdb.DuckDBPyConnection) -> None:
    with contextlib.suppress(duckdb.Error):  # a failed commit already ended the transaction
        cur.execute("ROLLBACK")


def delete_shard_rows(cur: duckdb.DuckDBPyConnection, shard_id: int) -> np.ndarray:
    """Remove every row a shard wrote (its counters row stays, to be reset by the caller).

    Returns the ids of the passages removed, for the caller to drop from FAISS.
    """
    ids = cur.execute("SELECT id FROM passages WHERE shard_id = ?", [shard_id]).fetchnumpy()["id"]
    owned = "(SELECT id FROM passages WHERE shard_id = ?)"
    cur.execute(f"DELETE FROM passage_tropes WHERE passage_id IN {owned}", [shard_id])
    cur.execute(f"DELETE FROM passage_labels WHERE passage_id IN {owned}", [shard_id])
    cur.execute("DELETE FROM shard_months WHERE shard_id = ?", [shard_id])
    cur.execute(
        "DELETE FROM document_clusters WHERE document_id IN "
        "(SELECT id FROM documents WHERE shard_id = ?)",
        [shard_id],
    )
    cur.execute("DELETE FROM passages WHERE shard_id = ?", [shard_id])
    cur.execute("DELETE FROM documents WHERE shard_id = ?", [shard_id])
    cur.execute("DELETE FROM shard_bad_records WHERE shard_id = ?", [shard_id])
    return np.asarray(ids, dtype=np.int64)
