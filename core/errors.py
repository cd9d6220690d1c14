"""One error family. Each error knows its HTTP status and a stable code;
only ``app/`` turns them into responses or exit codes."""

from __future__ import annotations

from typing import Any


class TropescopeError(Exception):
    status = 500
    code = "internal_error"

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class InvalidInput(TropescopeError):
    status = 422
    code = "invalid_input"


class NotFound(TropescopeError):
    status = 404
    code = "not_found"


class Conflict(TropescopeError):
    status = 409
    code = "conflict"


class Forbidden(TropescopeError):
    status = 403
    code = "forbidden"


class StoreLocked(TropescopeError):
    """Another process holds the store's DuckDB file for writing."""

    status = 409
    code = "store_locked"


class StoreError(TropescopeError):
    status = 500
    code = "store_error"


class UnreadableShard(TropescopeError):
    """A shard that cannot be read at all (missing, not a known format, corrupt header)."""

    status = 422
    code = "unreadable_shard"
