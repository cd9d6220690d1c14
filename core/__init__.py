"""Shared pieces of tropescope: settings, errors, the store, embedding, tropes."""
