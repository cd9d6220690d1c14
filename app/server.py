"""The HTTP service: ``create_app(settings)`` builds it; ``tropescope serve`` runs it."""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import anyio
from fastapi import FastAPI

from app.errors import error_response, install_error_handlers
from app.jobs import JobWorker
from app.metrics import Metrics, MetricsMiddleware
from app.presence import announce, withdraw
from app.routes import metrics_router, router
from core.embedding import Embedder
from core.errors import TropescopeError
from core.settings import Settings
from core.store import Store
from core.tropes.classifier import load_classifier
from core.tropes.custom import with_custom
from core.tropes.scoring import ensure_scored
from queries.search import SearchQuery, search

log = logging.getLogger("tropescope")


class BodyLimit:
    """Refuse request bodies larger than ``limit`` bytes with 413, before reading them all."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(
        self, scope: dict, receive: Callable[[], Awaitable[dict]], send: Any
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        seen = 0

        async def limited() -> dict:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: dict, receive: Any, send: Any) -> None:
        response = error_response(
            413,
            "payload_too_large",
            f"request body is larger than {self.limit} bytes",
            {"limit_bytes": self.limit},
        )
        await response(scope, receive, send)


class _TooLarge(Exception):
    pass


def create_app(
    settings: Settings, store: Store | None = None, embedder: Embedder | None = None
) -> FastAPI:
    """Build the service. Pass ``store``/``embedder`` to share ones already open (tests)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owns_store = store is None
        app.state.store = store or Store.open_with(settings)
        app.state.embedder = embedder or Embedder.from_settings(settings)
        app.state.settings = settings
        app.state.limiter = anyio.CapacityLimiter(2)  # model work: one thread per core
        app.state.query_limiter = anyio.CapacityLimiter(4)
        app.state.classifier = with_custom(load_classifier(), app.state.store.cursor())
        ensure_scored(app.state.store, app.state.classifier)
        app.state.jobs = JobWorker(
            app.state.store, app.state.embedder, settings, lambda: app.state.classifier
        )
        app.state.metrics = Metrics()
        app.state.jobs.metrics_hook = app.state.metrics.shard_indexed
        app.state.jobs.start()
        announce(settings)
        _warm_search(app.state.store, app.state.embedder)
        # Start-up leaves some 165,000 long-lived objects (imports, the head's vocabulary); a
        # full collection walks them all, 20-90 ms, which was most of the search p99. Move
        # them out of the collector's sight; what requests make is collected as usual.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            withdraw(settings)
            app.state.jobs.stop()
            if owns_store:
                app.state.store.close()

    app = FastAPI(
        title="tropescope",
        version="1",
        summary="How AI behaviour is narrated in training corpora.",
        lifespan=lifespan,
        responses={
            422: {"model": _error_model(), "description": "Invalid input"},
            500: {"model": _error_model(), "description": "Internal error"},
        },
    )
    install_error_handlers(app)
    app.include_router(router)
    app.include_router(metrics_router)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(MetricsMiddleware)
    return app


def _warm_search(store: Store, embedder: Embedder) -> None:
    """Run a few neighbour lookups before serving: DuckDB's first lookups through each
    primary-key index and FAISS's first searches are slower (the first search at 1M passages
    took 46 ms, the fifth 9 ms). Text search still loads the model on first use."""
    row = store.cursor().execute("SELECT min(id), max(id) FROM passages").fetchone()
    if row is None or row[0] is None:
        return
    for passage_id in {int(row[0]), int(row[1]), (int(row[0]) + int(row[1])) // 2}:
        try:
            search(store, embedder, SearchQuery(passage_id=passage_id, k=10))
        except TropescopeError as exc:  # a passage missing from the index: not worth failing for
            log.info("search warm-up skipped passage %d: %s", passage_id, exc)


def _error_model() -> Any:
    from app.schemas import ErrorResponse

    return ErrorResponse


def serve(settings: Settings) -> None:
    import uvicorn

    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info")
