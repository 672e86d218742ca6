"""Embeddings from an OpenAI-compatible embeddings API (POST /v1/embeddings), for semantic
memory search. Uses the server's configuration (EMBEDDING_MODEL, EMBEDDING_BASE_URL or
OPENAI_BASE_URL, OPENAI_API_KEY), never a user's key: every memory must live in one
vector space to be compared. Failures raise EmbeddingsUnavailable; memories.py then
falls back to full-text search.
"""

from __future__ import annotations

import logging

from services.assistant.memories import EmbeddingsUnavailable
from tripsage_core.config import Settings

logger = logging.getLogger("tripsage.assistant.embeddings")


class OpenAIEmbedder:
    def __init__(self, settings: Settings, model: str) -> None:
        import openai  # only where EMBEDDING_MODEL is set: about 20 MB otherwise unspent

        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
        self.model = model
        self.client = openai.AsyncOpenAI(
            api_key=key or "unused",
            base_url=settings.embedding_base_url or settings.openai_base_url,
            timeout=min(settings.openai_timeout_seconds, 15.0),
            max_retries=1,
        )

    async def embed(self, texts: list[str]) -> list[list[float]]:
        import openai

        try:
            answer = await self.client.embeddings.create(model=self.model, input=texts)
        except openai.APIError as error:
            logger.warning("embeddings failed (%s); full-text search instead", type(error).__name__)
            raise EmbeddingsUnavailable(str(error)) from None
        vectors = [item.embedding for item in sorted(answer.data, key=lambda d: d.index)]
        if len(vectors) != len(texts) or any(not v for v in vectors):
            raise EmbeddingsUnavailable("the embeddings server answered with the wrong shape")
        return vectors

    async def close(self) -> None:
        await self.client.close()


def embedder_from(settings: Settings) -> OpenAIEmbedder | None:
    return OpenAIEmbedder(settings, settings.embedding_model) if settings.embedding_model else None
