"""Ingestion: read shards, count, prefilter, chunk, embed, score and commit."""
