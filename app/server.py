"""The HTTP service: ``create_app(settings)`` builds it; ``tropescope serve`` runs it."""

from __future__ import annotations

import contextlib
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
from core.settings import Settings
from core.store import Store
from core.tropes.classifier import load_classifier
from core.tropes.custom import with_custom
from core.tropes.scoring import ensure_scored

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


def _error_model() -> Any:
    from app.schemas import ErrorResponse

    return ErrorResponse


def serve(settings: Settings) -> None:
    import uvicorn

    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info")
