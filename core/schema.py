"""Numbered schema migrations for the store's DuckDB file.

Each entry upgrades the schema by one version; ``migrate`` applies the missing
ones in order and refuses a file written by a newer tropescope.
"""

from __future__ import annotations

import duckdb

from core.errors import StoreError

EMBEDDING_DIM = 384

MIGRATIONS: list[str] = [
    # 1: datasets, shards with counters, documents, passages.
    f"""
    CREATE TABLE datasets (
        name        VARCHAR PRIMARY KEY,
        created_at  TIMESTAMP DEFAULT current_timestamp
    );
    CREATE SEQUENCE shard_ids START 1;
    CREATE TABLE shards (
        id            BIGINT PRIMARY KEY DEFAULT nextval('shard_ids'),
        dataset       VARCHAR NOT NULL,
        dump          VARCHAR NOT NULL,
        path          VARCHAR NOT NULL,
        format        VARCHAR NOT NULL,
        fingerprint   VARCHAR NOT NULL,
        size_bytes    BIGINT,
        mtime_ns      BIGINT,
        status        VARCHAR NOT NULL,      -- running | complete | failed
        error         VARCHAR,
        documents     BIGINT DEFAULT 0,      -- records read with a usable text
        characters    BIGINT DEFAULT 0,
        bad_records   BIGINT DEFAULT 0,
        candidates    BIGINT DEFAULT 0,      -- passed the AI-relevance prefilter
        audited       BIGINT DEFAULT 0,      -- rejected by the prefilter, sampled for audit
        stored_documents BIGINT DEFAULT 0,
        passages      BIGINT DEFAULT 0,
        embed_mode    VARCHAR,
        audit_rate    DOUBLE,
        started_at    TIMESTAMP,
        finished_at   TIMESTAMP,
        UNIQUE (dataset, dump, path)
    );
    CREATE TABLE shard_bad_records (
        shard_id  BIGINT NOT NULL,
        reason    VARCHAR NOT NULL,
        count     BIGINT NOT NULL,
        PRIMARY KEY (shard_id, reason)
    );
    CREATE TABLE documents (
        id          BIGINT PRIMARY KEY,
        shard_id    BIGINT NOT NULL,
        ordinal     BIGINT NOT NULL,         -- position of the record in its shard
        source_id   VARCHAR NOT NULL,
        url         VARCHAR,
        date        VARCHAR,
        characters  BIGINT NOT NULL,
        candidate   BOOLEAN NOT NULL,        -- passed the prefilter
        audit       BOOLEAN NOT NULL         -- stored only because of the audit sample
    );
    CREATE TABLE passages (
        id          BIGINT PRIMARY KEY,
        document_id BIGINT NOT NULL,
        shard_id    BIGINT NOT NULL,
        ordinal     INTEGER NOT NULL,
        char_start  INTEGER NOT NULL,
        char_end    INTEGER NOT NULL,
        tokens      INTEGER NOT NULL,
        text        VARCHAR NOT NULL,
        embedding   FLOAT[{EMBEDDING_DIM}] NOT NULL
    );
    CREATE INDEX passages_shard ON passages (shard_id);
    CREATE INDEX documents_shard ON documents (shard_id);
    """,
    # 2: trope scores per passage, custom tropes, per-month denominators.
    """
    CREATE TABLE passage_labels (
        passage_id  BIGINT PRIMARY KEY,
        ai_score    FLOAT NOT NULL,
        ai_related  BOOLEAN NOT NULL,
        polarity    VARCHAR NOT NULL         -- misaligned | aligned | neutral | none
    );
    CREATE TABLE passage_tropes (            -- only scores >= 0.05 (and every label)
        passage_id  BIGINT NOT NULL,
        trope       VARCHAR NOT NULL,
        score       FLOAT NOT NULL,
        label       BOOLEAN NOT NULL,
        PRIMARY KEY (passage_id, trope)
    );
    CREATE TABLE custom_tropes (
        id          VARCHAR PRIMARY KEY,
        polarity    VARCHAR NOT NULL,
        name        VARCHAR NOT NULL,
        definition  VARCHAR NOT NULL,
        examples    VARCHAR[] NOT NULL,
        negatives   VARCHAR[] NOT NULL,
        coef        FLOAT[384] NOT NULL,
        intercept   DOUBLE NOT NULL,
        threshold   DOUBLE NOT NULL,
        created_at  TIMESTAMP DEFAULT current_timestamp
    );
    CREATE TABLE store_state (
        key    VARCHAR PRIMARY KEY,
        value  VARCHAR NOT NULL
    );
    CREATE TABLE shard_months (             -- denominators by the month of each record's date
        shard_id    BIGINT NOT NULL,
        month       VARCHAR NOT NULL,        -- YYYY-MM, or 'unknown'
        documents   BIGINT NOT NULL,
        candidates  BIGINT NOT NULL,
        audited     BIGINT NOT NULL,
        PRIMARY KEY (shard_id, month)
    );
    """,
    # 3: ingest jobs run by the server's background worker.
    """
    CREATE TABLE jobs (
        id            VARCHAR PRIMARY KEY,
        status        VARCHAR NOT NULL,      -- queued | running | complete | failed
        dataset       VARCHAR NOT NULL,
        dump          VARCHAR NOT NULL,
        paths         VARCHAR[] NOT NULL,
        options       VARCHAR NOT NULL,      -- JSON
        shards_total  INTEGER DEFAULT 0,
        shards_done   INTEGER DEFAULT 0,
        shards_failed INTEGER DEFAULT 0,
        documents     BIGINT DEFAULT 0,
        passages      BIGINT DEFAULT 0,
        error         VARCHAR,
        created_at    TIMESTAMP DEFAULT current_timestamp,
        started_at    TIMESTAMP,
        finished_at   TIMESTAMP
    );
    """,
    # 4: near-duplicate clusters among a dataset's stored documents.
    """
    CREATE TABLE document_clusters (
        document_id BIGINT PRIMARY KEY,      -- only documents with a near-duplicate
        cluster     BIGINT NOT NULL          -- the smallest document id of its cluster
    );
    """,
    # 5: classifier error rates measured on a labelled sample of the store's own corpus
    # (`tropescope calibrate`); the prevalence correction prefers them to the head's.
    """
    CREATE TABLE classifier_rates (
        head_version VARCHAR NOT NULL,       -- taxonomy version the head was trained on
        trope        VARCHAR NOT NULL,
        true_pos     BIGINT NOT NULL,
        false_neg    BIGINT NOT NULL,
        true_neg     BIGINT NOT NULL,
        false_pos    BIGINT NOT NULL,
        source       VARCHAR NOT NULL,       -- the labelled file they were measured on
        created_at   TIMESTAMP DEFAULT current_timestamp,
        PRIMARY KEY (head_version, trope)
    );
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)


def current_version(con: duckdb.DuckDBPyConnection) -> int:
    con.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    rows = con.execute("SELECT max(version) FROM schema_version").fetchall()
    row = rows[0] if rows else None
    return int(row[0]) if row and row[0] is not None else 0


def migrate(con: duckdb.DuckDBPyConnection) -> int:
    """Bring the schema up to date; return the version it is at."""
    version = current_version(con)
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"store schema version {version} is newer than this tropescope understands "
            f"({SCHEMA_VERSION}); upgrade tropescope",
            {"store_version": version, "supported": SCHEMA_VERSION},
        )
    for number in range(version + 1, SCHEMA_VERSION + 1):
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(MIGRATIONS[number - 1])
            con.execute("INSERT INTO schema_version VALUES (?)", [number])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
    return SCHEMA_VERSION
