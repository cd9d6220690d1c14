"""Near-duplicate clusters among a dataset's stored documents (the unique narratives that
duplicate-adjusted prevalence counts). Recomputed after each indexing run that changed
the dataset: MinHash LSH over each document's word 3-grams, so it stays linear."""

from __future__ import annotations

import pyarrow as pa

from core.neardup import duplicate_groups
from core.store import Store

CORPUS_THRESHOLD = 0.5  # the batch dedup's default, calibrated on labelled pairs


def cluster_dataset(store: Store, dataset: str, threshold: float = CORPUS_THRESHOLD) -> int:
    """Rewrite the dataset's clusters; return how many documents have a near-duplicate."""
    rows = (
        store.cursor()
        .execute(
            "SELECT p.document_id, string_agg(p.text, ' ' ORDER BY p.ordinal) FROM passages p "
            "JOIN shards s ON s.id = p.shard_id WHERE s.dataset = ? AND s.status = 'complete' "
            "GROUP BY 1 ORDER BY 1",
            [dataset],
        )
        .fetchall()
    )
    ids = [r[0] for r in rows]
    groups = duplicate_groups((r[1] for r in rows), threshold)
    members = [(ids[i], ids[g[0]]) for g in groups for i in g]
    with store.transaction() as cur:
        cur.execute(
            "DELETE FROM document_clusters WHERE document_id IN (SELECT d.id FROM documents d "
            "JOIN shards s ON s.id = d.shard_id WHERE s.dataset = ?)",
            [dataset],
        )
        if members:
            table = pa.table(
                {"document_id": [m[0] for m in members], "cluster": [m[1] for m in members]}
            )
            cur.register("new_clusters", table)
            cur.execute("INSERT INTO document_clusters SELECT * FROM new_clusters")
            cur.unregister("new_clusters")
    return len(members)
