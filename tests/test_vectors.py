"""FAISS is derived from DuckDB: reconciled on open after a crash, rebuilt if corrupt."""

from __future__ import annotations

import numpy as np

from core.store import Store
from core.tropes.classifier import load_classifier
from indexers.pipeline import IndexOptions, index_paths
from tests.corpus import write_corpus

classifier = load_classifier()


def _indexed_store(tmp_path, embedder):
    write_corpus(tmp_path / "corpus")
    store = Store.open(tmp_path / "store")
    index_paths(
        store, embedder, classifier, [tmp_path / "corpus"], IndexOptions(dataset="d", embed="all")
    )
    ids = sorted(store.vectors.ids().tolist())
    store.close()
    return ids


def test_missing_vectors_are_added_from_stored_embeddings(tmp_path, embedder) -> None:
    ids = _indexed_store(tmp_path, embedder)
    with Store.open(tmp_path / "store", reconcile=False) as store:
        store.vectors.load()
        store.vectors.remove(np.array(ids[:3]))  # as if the process died before saving
        store.vectors.save()
    with Store.open(tmp_path / "store") as store:
        assert store.reconciliation is not None and store.reconciliation.added == 3
        assert sorted(store.vectors.ids().tolist()) == ids
        # The re-added vectors are the stored ones: a passage finds itself first.
        vec = store.embeddings(np.array([ids[0]]))
        _, found = store.vectors.search(vec, 1)
        assert int(found[0][0]) == ids[0]


def test_unknown_vectors_are_removed(tmp_path, embedder) -> None:
    ids = _indexed_store(tmp_path, embedder)
    with Store.open(tmp_path / "store", reconcile=False) as store:
        store.vectors.load()
        rng = np.random.default_rng(0)
        extra = rng.normal(size=(2, 384)).astype(np.float32)
        store.vectors.add(np.array([10_000, 10_001]), extra)  # from a rolled-back batch
        store.vectors.save()
    with Store.open(tmp_path / "store") as store:
        assert store.reconciliation is not None and store.reconciliation.removed == 2
        assert sorted(store.vectors.ids().tolist()) == ids


def test_corrupt_faiss_file_is_rebuilt(tmp_path, embedder) -> None:
    ids = _indexed_store(tmp_path, embedder)
    (tmp_path / "store" / "passages.faiss").write_bytes(b"garbage")
    with Store.open(tmp_path / "store") as store:
        assert store.reconciliation is not None and store.reconciliation.rebuilt
        assert sorted(store.vectors.ids().tolist()) == ids


def test_store_from_a_newer_schema_is_refused_clearly(tmp_path) -> None:
    import duckdb
    import pytest

    from core.errors import StoreError
    from tests.conftest import cli

    Store.open(tmp_path / "store").close()
    con = duckdb.connect(str(tmp_path / "store" / "tropescope.duckdb"))
    con.execute("INSERT INTO schema_version VALUES (99)")
    con.close()
    with pytest.raises(StoreError, match="newer than this tropescope understands"):
        Store.open(tmp_path / "store")
    result = cli("datasets", "--store", str(tmp_path / "store"), check=False)
    assert result.returncode == 2 and "newer than this tropescope" in result.stderr


def test_index_type_follows_size_and_keeps_ids_in_step(tmp_path) -> None:
    """Past the threshold the index becomes IVF; adds, removes, lookups and reloads still
    work by passage id. Synthetic clustered vectors: this is index logic, not the model."""
    from core.vectors import VectorIndex

    rng = np.random.default_rng(0)
    centres = rng.normal(size=(30, 384))
    x = centres[rng.integers(0, 30, 4000)] + 0.3 * rng.normal(size=(4000, 384))
    x = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    index = VectorIndex(384, tmp_path / "p.faiss", ann_threshold=2000, nprobe=16)
    index.add(np.arange(1, 1001), x[:1000])
    index.save()
    assert index.kind == "flat"
    index.add(np.arange(1001, 4001), x[1000:])
    index.save()
    assert index.kind == "ivf"
    exact = x[:200] @ x.T
    truth = np.argsort(-exact, axis=1)[:, :10] + 1
    _, got = index.search(x[:200], 10)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(got, truth, strict=True)])
    assert recall >= 0.9
    assert index.remove(np.array([5, 6])) == 2 and len(index) == 3998
    assert index.vector(5) is None and index.vector(7) is not None
    assert sorted(index.ids().tolist()) == [i for i in range(1, 4001) if i not in (5, 6)]
    index.save()
    again = VectorIndex(384, tmp_path / "p.faiss", ann_threshold=2000, nprobe=16)
    assert again.load() and again.kind == "ivf" and len(again) == 3998


def test_search_warm_up_skips_a_passage_the_index_lacks(tmp_path, embedder) -> None:
    from app.server import _warm_search

    ids = _indexed_store(tmp_path, embedder)
    with Store.open(tmp_path / "store", reconcile=False) as store:
        store.vectors.load()
        store.vectors.remove(np.array([ids[0]]))  # the first passage, which warm-up looks up
        _warm_search(store, embedder)  # a start-up nicety: must not stop the service starting
        assert len(store.vectors) == len(ids) - 1
