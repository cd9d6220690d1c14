"""Routes: parse, call one function in queries/ (or indexers/), serialise."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import PlainTextResponse

from app.auth import require_api_key
from app.schemas import (
    BalanceResponse,
    ClassifyRequest,
    ClassifyResponse,
    CompareResponse,
    DatasetDetail,
    DatasetList,
    DedupBody,
    DedupResponse,
    Health,
    Job,
    JobList,
    JobRequest,
    NewTrope,
    PassageDetail,
    PrevalenceResponse,
    SearchRequest,
    SearchResponse,
    TropeList,
)
from core.embedding import MODEL_NAME
from core.tropes.custom import CustomTropeSpec, add_custom_trope
from core.tropes.texts import classify_texts
from queries import datasets as dataset_queries
from queries.balance import balance, compare
from queries.dedup import DedupRequest, dedup
from queries.prevalence import prevalence
from queries.search import SearchQuery, passage, search
from queries.tropes import list_tropes

router = APIRouter(prefix="/v1")


async def _in_thread(request: Request, fn: Any, *args: Any) -> Any:
    """Model work (embedding, FAISS) runs in a thread pool sized to the cores."""
    return await anyio.to_thread.run_sync(fn, *args, limiter=request.app.state.limiter)


async def _query(request: Request, fn: Any, *args: Any) -> Any:
    """DuckDB statistics run in a pool of their own, so they never queue behind the model."""
    return await anyio.to_thread.run_sync(fn, *args, limiter=request.app.state.query_limiter)


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
        tropes=body.tropes,
        polarity=body.polarity,
        min_score=body.min_score,
    )
    state = request.app.state
    results = await _in_thread(request, search, state.store, state.embedder, query)
    return {"results": results, "model": MODEL_NAME}


@router.get("/passages/{passage_id}", response_model=PassageDetail, tags=["neighbours"])
async def get_passage(
    request: Request, passage_id: Annotated[int, Path(ge=1, le=2**63 - 1)]
) -> dict[str, Any]:
    return passage(request.app.state.store, passage_id)


@router.post("/dedup", response_model=DedupResponse, tags=["dedup"])
async def post_dedup(request: Request, body: DedupBody) -> dict[str, Any]:
    """Near-duplicates within a batch of texts (and, optionally, against stored passages)."""
    state = request.app.state
    query = DedupRequest(body.texts, body.threshold, body.against_corpus, tuple(body.datasets))
    return await _in_thread(request, dedup, state.store, state.embedder, query)


@router.post(
    "/jobs",
    response_model=Job,
    status_code=202,
    tags=["jobs"],
    dependencies=[Depends(require_api_key)],
)
async def post_job(request: Request, body: JobRequest) -> dict[str, Any]:
    """Index paths in the server's background worker; poll GET /v1/jobs/{id}."""
    options = {
        "embed": body.embed,
        "audit_rate": body.audit_rate,
        "fields": {
            "text": body.text_field,
            "id": body.id_field,
            "url": body.url_field,
            "date": body.date_field,
        },
    }
    jobs = request.app.state.jobs
    return await _in_thread(request, jobs.submit, body.paths, body.dataset, body.dump, options)


@router.get("/jobs", response_model=JobList, tags=["jobs"])
async def get_jobs(request: Request) -> dict[str, Any]:
    return {"jobs": request.app.state.jobs.list()}


@router.get("/jobs/{job_id}", response_model=Job, tags=["jobs"])
async def get_job(request: Request, job_id: str) -> dict[str, Any]:
    return request.app.state.jobs.get(job_id)


def _meta(request: Request) -> dict[str, str]:
    return {"model": MODEL_NAME, "taxonomy_version": request.app.state.classifier.version}


@router.post("/classify", response_model=ClassifyResponse, tags=["tropes"])
async def post_classify(request: Request, body: ClassifyRequest) -> dict[str, Any]:
    """Trope scores, AI relevance and polarity of each text; nothing is stored."""
    state = request.app.state
    classifier = state.classifier
    settings = state.settings
    results = await _in_thread(
        request,
        lambda: classify_texts(
            body.texts, state.embedder, classifier, settings.chunk_tokens, settings.chunk_overlap
        ),
    )
    return {"results": [r.as_dict(classifier) for r in results], **_meta(request)}


@router.get("/tropes", response_model=TropeList, tags=["tropes"])
async def get_tropes(request: Request) -> dict[str, Any]:
    classifier = request.app.state.classifier
    return {
        "tropes": list_tropes(request.app.state.store, classifier),
        "taxonomy_version": classifier.version,
    }


@router.post(
    "/tropes",
    response_model=TropeList,
    status_code=201,
    tags=["tropes"],
    dependencies=[Depends(require_api_key)],
)
async def post_trope(request: Request, body: NewTrope) -> dict[str, Any]:
    """Add a custom trope; the stored passages are re-scored (not re-embedded)."""
    state = request.app.state
    spec = CustomTropeSpec(
        body.id, body.polarity, body.definition, body.examples, body.name, body.negatives
    )
    state.classifier = await _in_thread(
        request, add_custom_trope, state.store, state.embedder, state.classifier, spec
    )
    return await get_tropes(request)


@router.get("/prevalence", response_model=PrevalenceResponse, tags=["statistics"])
async def get_prevalence(
    request: Request,
    dataset: str | None = None,
    trope: str | None = None,
    by: Literal["all", "dump", "shard", "month"] = "all",
) -> dict[str, Any]:
    """Documents carrying each trope, per million, with Wilson intervals and corrections."""
    state = request.app.state
    rows = await _query(request, prevalence, state.store, state.classifier, dataset, trope, by)
    return {"rows": rows, **_meta(request)}


@router.get("/balance", response_model=BalanceResponse, tags=["statistics"])
async def get_balance(
    request: Request,
    dataset: str | None = None,
    target: Annotated[float, Query(gt=0, le=1e6, allow_inf_nan=False)] = 1.0,
) -> dict[str, Any]:
    """Aligned:misaligned document ratio, and aligned documents needed to reach ``target``."""
    state = request.app.state
    rows = await _query(request, balance, state.store, state.classifier, dataset, target)
    return {"rows": rows, **_meta(request)}


@router.get("/compare", response_model=CompareResponse, tags=["statistics"])
async def get_compare(request: Request, a: str, b: str, trope: str | None = None) -> dict[str, Any]:
    """Difference in trope prevalence between two datasets or dumps ('dataset:dump')."""
    state = request.app.state
    rows = await _query(request, compare, state.store, state.classifier, a, b, trope)
    return {"rows": rows, **_meta(request)}


metrics_router = APIRouter()


@metrics_router.get("/metrics", response_class=PlainTextResponse, tags=["service"])
async def get_metrics(request: Request) -> str:
    """Prometheus metrics: requests and latency by route, indexing, jobs by state."""
    state = request.app.state
    health = dataset_queries.health(state.store, MODEL_NAME)
    return state.metrics.render(state.jobs.counts(), health["passages"], health["vectors"])
