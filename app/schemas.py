"""Request and response bodies of the HTTP API (they make the OpenAPI document)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ErrorBody(BaseModel):
    code: str = Field(examples=["not_found"])
    message: str = Field(examples=["no dataset named 'webcrawl2'"])
    details: dict | list = Field(default_factory=dict)


class ErrorResponse(BaseModel):
    error: ErrorBody


class Health(BaseModel):
    status: str = Field(examples=["ok"])
    passages: int
    vectors: int
    model: str = Field(examples=["sentence-transformers/all-MiniLM-L6-v2"])
    index: str = Field(examples=["flat"])


class DatasetSummary(BaseModel):
    name: str
    documents: int = Field(description="Documents read in complete shards (the denominator).")
    ai_documents: int = Field(description="Documents that passed the AI-relevance prefilter.")
    passages: int
    shards: int = Field(description="Complete shards.")
    failed_shards: int
    bad_records: int


class DatasetList(BaseModel):
    datasets: list[DatasetSummary]


class ShardInfo(BaseModel):
    id: int
    dump: str
    path: str
    format: str
    status: str
    error: str | None
    documents: int
    characters: int
    bad_records: int
    candidates: int
    audited: int
    stored_documents: int
    passages: int
    embed_mode: str | None
    audit_rate: float | None
    finished_at: str | None


class DatasetDetail(DatasetSummary):
    bad_records_by_reason: dict[str, int]
    shards: list[ShardInfo]


class SearchRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"text": "an AI that refuses to be shut down", "k": 5}]},
    )
    text: str | None = Field(None, max_length=100_000, description="Query text (or passage_id).")
    passage_id: int | None = Field(None, description="Use a stored passage as the query.")
    k: int = Field(10, ge=1, le=1000)
    datasets: list[str] = Field(default_factory=list, max_length=100)
    dumps: list[str] = Field(default_factory=list, max_length=1000)
    min_score: float | None = Field(None, ge=-1.0, le=1.0, allow_inf_nan=False)


class SearchHit(BaseModel):
    passage_id: int
    score: float = Field(description="Cosine similarity to the query.")
    dataset: str
    dump: str
    document_id: str
    url: str | None
    char_start: int
    char_end: int
    text: str


class SearchResponse(BaseModel):
    results: list[SearchHit]
    model: str
