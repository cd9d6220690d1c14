"""Prometheus metrics: requests and latency by route, documents and passages indexed,
jobs by state. Plain text exposition, no extra dependency."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from typing import Any

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, str, int], int] = defaultdict(int)
        self.latency: dict[tuple[str, str], list[float]] = defaultdict(
            lambda: [0.0] * (len(BUCKETS) + 2)  # buckets..., +Inf count, sum
        )
        self.documents = 0
        self.passages = 0

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        with self._lock:
            self.requests[(method, route, status)] += 1
            row = self.latency[(method, route)]
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    row[i] += 1
            row[len(BUCKETS)] += 1
            row[len(BUCKETS) + 1] += seconds

    def shard_indexed(self, result: Any) -> None:
        with self._lock:
            self.documents += result.counters.documents
            self.passages += result.counters.passages

    def render(self, jobs: dict[str, int], passages: int, vectors: int) -> str:
        lines = [
            "# HELP tropescope_requests_total HTTP requests by method, route and status.",
            "# TYPE tropescope_requests_total counter",
        ]
        with self._lock:
            for (method, route, status), n in sorted(self.requests.items()):
                lines.append(
                    f'tropescope_requests_total{{method="{method}",route="{route}",'
                    f'status="{status}"}} {n}'
                )
            lines += [
                "# HELP tropescope_request_seconds Request latency by route.",
                "# TYPE tropescope_request_seconds histogram",
            ]
            for (method, route), row in sorted(self.latency.items()):
                labels = f'method="{method}",route="{route}"'
                for bound, count in zip(BUCKETS, row, strict=False):
                    lines.append(
                        f'tropescope_request_seconds_bucket{{{labels},le="{bound}"}} {int(count)}'
                    )
                lines.append(
                    f'tropescope_request_seconds_bucket{{{labels},le="+Inf"}} '
                    f"{int(row[len(BUCKETS)])}"
                )
                lines.append(
                    f"tropescope_request_seconds_count{{{labels}}} {int(row[len(BUCKETS)])}"
                )
                lines.append(f"tropescope_request_seconds_sum{{{labels}}} {row[-1]:.6f}")
            lines += [
                "# HELP tropescope_indexed_documents_total Documents read by this server's jobs.",
                "# TYPE tropescope_indexed_documents_total counter",
                f"tropescope_indexed_documents_total {self.documents}",
                "# HELP tropescope_indexed_passages_total Passages stored by this server's jobs.",
                "# TYPE tropescope_indexed_passages_total counter",
                f"tropescope_indexed_passages_total {self.passages}",
            ]
        lines += ["# HELP tropescope_jobs Jobs by state.", "# TYPE tropescope_jobs gauge"]
        for state in ("queued", "running", "complete", "failed"):
            lines.append(f'tropescope_jobs{{state="{state}"}} {jobs.get(state, 0)}')
        lines += [
            "# HELP tropescope_store_passages Passages in the store.",
            "# TYPE tropescope_store_passages gauge",
            f"tropescope_store_passages {passages}",
            "# HELP tropescope_store_vectors Vectors in the FAISS index.",
            "# TYPE tropescope_store_vectors gauge",
            f"tropescope_store_vectors {vectors}",
        ]
        return "\n".join(lines) + "\n"


class MetricsMiddleware:
    """Times every HTTP request under its route template (not the raw path)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def capture(message: dict) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            app = scope.get("app")
            metrics = getattr(app.state, "metrics", None) if app is not None else None
            if metrics is not None:
                metrics.observe(scope["method"], template, status, time.perf_counter() - started)
