"""Routes: parse, call one function in queries/ (or indexers/), serialise."""

from __future__ import annotations

from typing import Any

import anyio
from fastapi import APIRouter, Request

from app.schemas import DatasetDetail, DatasetList, Health, SearchRequest, SearchResponse
from core.embedding import MODEL_NAME
from queries import datasets as dataset_queries
from queries.search import SearchQuery, search

router = APIRouter(prefix="/v1")


async def _in_thread(request: Request, fn: Any, *args: Any) -> Any:
    """CPU work (embedding, FAISS) runs in a thread pool sized to the cores."""
    return await anyio.to_thread.run_sync(fn, *args, limiter=request.app.state.limiter)


@router.get("/health", response_model=Health, tags=["service"])
async def get_health(request: Request) -> dict[str, Any]:
    return dataset_queries.health(request.app.state.store, MODEL_NAME)


@router.get("/datasets", response_model=DatasetList, tags=["datasets"])
async def get_datasets(request: Request) -> dict[str, Any]:
    return {"datasets": dataset_queries.list_datasets(request.app.state.store)}


@router.get("/datasets/{name}", response_model=DatasetDetail, tags=["datasets"])
async def get_dataset(request: Request, name: str) -> dict[str, Any]:
    return dataset_queries.dataset_detail(request.app.state.store, name)


@router.post("/search", response_model=SearchResponse, tags=["neighbours"])
async def post_search(request: Request, body: SearchRequest) -> dict[str, Any]:
    query = SearchQuery(
        text=body.text,
        passage_id=body.passage_id,
        k=body.k,
        datasets=body.datasets,
        dumps=body.dumps,
        min_score=body.min_score,
    )
    state = request.app.state
    results = await _in_thread(request, search, state.store, state.embedder, query)
    return {"results": results, "model": MODEL_NAME}
