"""Token-aware chunking: passages that fit the model, with character offsets."""

from __future__ import annotations

from dataclasses import dataclass

from core.embedding import word_piece_tokenizer


@dataclass(frozen=True, slots=True)
class Chunk:
    ordinal: int
    char_start: int
    char_end: int
    tokens: int
    text: str


def _windows(
    text: str, offsets: list[tuple[int, int]], max_tokens: int, overlap: int
) -> list[Chunk]:
    chunks: list[Chunk] = []
    step = max_tokens - min(overlap, max_tokens // 2)
    start = 0
    while offsets:
        window = offsets[start : start + max_tokens]
        char_start, char_end = window[0][0], window[-1][1]
        chunks.append(
            Chunk(len(chunks), char_start, char_end, len(window), text[char_start:char_end])
        )
        if start + max_tokens >= len(offsets):
            break
        start += step
    return chunks


def chunk_batch(texts: list[str], max_tokens: int = 200, overlap: int = 32) -> list[list[Chunk]]:
    """Split each text into windows of at most ``max_tokens`` word pieces.

    Consecutive windows share ``overlap`` tokens. Each chunk's text is the exact
    slice ``text[char_start:char_end]`` of its input; whitespace-only input gives
    no chunks. All texts are tokenized in one batched call.
    """
    encodings = word_piece_tokenizer().encode_batch(texts, add_special_tokens=False)
    return [
        _windows(text, enc.offsets, max_tokens, overlap)
        for text, enc in zip(texts, encodings, strict=True)
    ]


def chunk_text(text: str, max_tokens: int = 200, overlap: int = 32) -> list[Chunk]:
    return chunk_batch([text], max_tokens, overlap)[0]
