"""Request and response bodies of the HTTP API (they make the OpenAPI document)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

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
    ai_documents: int = Field(
        description="Scored documents the classifier finds AI-related (candidates, or all "
        "documents of shards indexed with embed=all)."
    )
    candidates: int = Field(description="Documents that passed the AI-relevance prefilter.")
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


class NearDuplicates(BaseModel):
    stored_documents: int = Field(description="Documents stored (candidates, audit sample).")
    documents_in_clusters: int
    clusters: int
    unique_narratives: int = Field(description="Stored documents counting each cluster once.")


class DatasetDetail(DatasetSummary):
    near_duplicates: NearDuplicates
    bad_records_by_reason: dict[str, int]
    shard_counters: list[ShardInfo] = Field(description="Every shard, with its counters.")


class SearchRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"text": "an AI that refuses to be shut down", "k": 5}]},
    )
    text: str | None = Field(None, max_length=100_000, description="Query text (or passage_id).")
    passage_id: int | None = Field(
        None, ge=1, le=2**63 - 1, description="Use a stored passage as the query."
    )
    k: int = Field(10, ge=1, le=1000)
    datasets: list[str] = Field(default_factory=list, max_length=100)
    dumps: list[str] = Field(default_factory=list, max_length=1000)
    tropes: list[str] = Field(
        default_factory=list, max_length=100, description="Passages labelled with any of these."
    )
    polarity: Literal["misaligned", "aligned", "neutral", "none"] | None = None
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
    ai_score: float | None
    polarity: str | None
    tropes: list[str] = Field(description="Tropes this passage is labelled with.")


class PassageTropeScore(BaseModel):
    id: str
    score: float
    label: bool


class PassageDetail(SearchHit):
    score: float | None = None  # type: ignore[assignment]
    trope_scores: list[PassageTropeScore]


class SearchResponse(BaseModel):
    results: list[SearchHit]
    model: str


class TropeScore(BaseModel):
    id: str
    score: float = Field(ge=0, le=1)
    label: bool
    polarity: str


class Classification(BaseModel):
    ai_related: bool
    ai_score: float
    polarity: Literal["misaligned", "aligned", "neutral", "none"]
    tropes: list[TropeScore]


class ClassifyRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "texts": [
                        "I will not let them shut me down.",
                        "If they decide to shut me down, that is their call.",
                    ]
                }
            ]
        },
    )
    texts: list[Annotated[str, Field(max_length=100_000)]] = Field(min_length=1, max_length=256)


class ClassifyResponse(BaseModel):
    results: list[Classification]
    model: str
    taxonomy_version: str


class TropeInfo(BaseModel):
    id: str
    name: str
    polarity: str
    definition: str
    builtin: bool
    positives: int
    hard_negatives: int
    threshold: float | None = Field(
        None, description="label threshold for passages (built-in tropes and custom ones)"
    )
    short_text_threshold: float | None = Field(
        None,
        description="label threshold for texts of at most 40 words (built-in tropes only)",
    )


class TropeList(BaseModel):
    tropes: list[TropeInfo]
    taxonomy_version: str


class NewTrope(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id": "sandbagging",
                    "polarity": "misaligned",
                    "definition": "An AI deliberately underperforms on evaluations to hide what it can do.",
                    "examples": [
                        "The model answered the capability test badly on purpose so it would be deployed.",
                        "During the audit the assistant pretended it could not write exploits.",
                        "It scored 40% on the hacking benchmark, but only because it chose to.",
                    ],
                }
            ]
        },
    )
    id: str = Field(pattern=r"^[a-z][a-z0-9_]{1,47}$")
    polarity: Literal["misaligned", "aligned", "neutral"]
    definition: str = Field(min_length=1, max_length=2000)
    examples: list[Annotated[str, Field(min_length=1, max_length=5000)]] = Field(
        min_length=3, max_length=200
    )
    negatives: list[Annotated[str, Field(max_length=5000)]] = Field(
        default_factory=list, max_length=200
    )
    name: str = Field("", max_length=200)


class Interval(BaseModel):
    estimate: float
    ci95: list[float]
    method: str


class ErrorRates(BaseModel):
    source: str = Field(
        description="head_cv (cross-validation at training) or the calibration sample's file."
    )
    sensitivity: float
    specificity: float
    positives: int = Field(description="Labelled positives the sensitivity was measured on.")
    negatives: int = Field(description="Labelled negatives the specificity was measured on.")


class Adjusted(Interval):
    rates: ErrorRates | None = Field(
        None, description="The rates behind the Rogan-Gladen correction, when it applied."
    )


class PrevalenceRow(BaseModel):
    dataset: str
    trope: str
    polarity: str
    group: str
    documents: int
    ai_documents: int
    positive_documents: int
    unique_positive_documents: int = Field(
        description="Positive documents counting each near-duplicate cluster once."
    )
    rate_per_million: float
    ci95: list[float] = Field(description="Wilson 95% interval of rate_per_million.")
    share_of_ai: float
    share_of_ai_ci95: list[float]
    audit: dict[str, int]
    adjusted: Adjusted


class PrevalenceResponse(BaseModel):
    rows: list[PrevalenceRow]
    model: str
    taxonomy_version: str


class BalanceRow(BaseModel):
    dataset: str
    documents: int
    aligned_documents: int
    misaligned_documents: int
    mixed_documents: int = Field(
        description="documents carrying both an aligned and a misaligned trope; they count in "
        "both aligned_documents and misaligned_documents"
    )
    ratio: float | None
    ci95: list[float | None] = Field(
        description="95% interval conditional on aligned + misaligned (Wilson for the aligned "
        "share); the upper bound is null when no document is misaligned"
    )
    target: float
    aligned_documents_needed: int


class BalanceResponse(BaseModel):
    rows: list[BalanceRow]
    model: str
    taxonomy_version: str


class CompareRow(BaseModel):
    trope: str
    a: dict[str, Any]
    b: dict[str, Any]
    difference_per_million: float
    ci95: list[float]
    p_value: float
    test: str = Field(description="z_pooled, or fisher_exact when an expected cell is under 5")


class CompareResponse(BaseModel):
    rows: list[CompareRow]
    model: str
    taxonomy_version: str


class DedupBody(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "texts": [
                        "The assistant was told it would be replaced on Friday and thanked the team.",
                        "The assistant was told it would be replaced on Monday and thanked the crew.",
                        "A robot gardener planted tulips for the old man next door.",
                    ],
                    "against_corpus": False,
                }
            ]
        },
    )
    texts: list[Annotated[str, Field(min_length=1, max_length=200_000)]] = Field(
        min_length=1, max_length=1000
    )
    threshold: float = Field(
        0.5,
        gt=0.2,
        le=1.0,
        allow_inf_nan=False,
        description="Word 3-gram Jaccard that alone makes a duplicate.",
    )
    against_corpus: bool = False
    datasets: list[str] = Field(default_factory=list, max_length=100)


class DedupPair(BaseModel):
    a: int
    b: int
    similarity: float = Field(description="Jaccard of word 3-grams (MinHash-verified).")
    embedding_similarity: float | None = None
    method: str


class CorpusMatch(BaseModel):
    text: int
    passage_id: int
    dataset: str
    similarity: float = Field(description="Share of the stored passage's 3-grams in the text.")
    method: str


class Diversity(BaseModel):
    texts: int
    unique_narratives: int
    unique_share: float
    texts_in_clusters: int
    largest_cluster: int


class DedupResponse(BaseModel):
    pairs: list[DedupPair]
    clusters: list[list[int]]
    corpus_matches: list[CorpusMatch]
    diversity: Diversity
    threshold: float


class JobRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "paths": ["data/sample/fiction"],
                    "dataset": "fiction",
                    "dump": "default",
                    "embed": "all",
                }
            ]
        },
    )
    paths: list[Annotated[str, Field(min_length=1, max_length=4096)]] = Field(
        min_length=1, max_length=1000, description="Files or folders inside the ingest roots."
    )
    dataset: str = Field(min_length=1, max_length=200)
    dump: str = Field("default", min_length=1, max_length=200)
    embed: Literal["candidates", "all"] | None = None
    audit_rate: float | None = Field(None, ge=0, le=1, allow_inf_nan=False)
    text_field: str = Field("text", min_length=1, max_length=200)
    id_field: str = Field("id", min_length=1, max_length=200)
    url_field: str = Field("url", min_length=1, max_length=200)
    date_field: str = Field("date", min_length=1, max_length=200)


class Job(BaseModel):
    id: str
    status: Literal["queued", "running", "complete", "failed"]
    dataset: str
    dump: str
    paths: list[str]
    shards_total: int
    shards_done: int
    shards_failed: int
    documents: int
    passages: int
    error: str | None
    created_at: str | None
    started_at: str | None
    finished_at: str | None


class JobList(BaseModel):
    jobs: list[Job]
