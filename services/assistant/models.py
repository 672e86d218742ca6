"""Which model answers a user: OpenAI-compatible or the offline assistant. No transport here.

The user's own OpenAI key (BYOK) when they stored one, else OPENAI_API_KEY; a server
at OPENAI_BASE_URL needs no key (a local vLLM or Ollama). With neither a key nor a
base URL, the offline assistant answers. Every OpenAI model shares one HTTP
connection pool; only the key differs per user.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.assistant.chat import ChatModel
from tripsage_core.config import Settings
from tripsage_core.identity import Principal
from tripsage_core.provider_accounts import OPENAI, KeyChooser, UserKeySource

if TYPE_CHECKING:
    import openai


class ModelChooser:
    def __init__(self, settings: Settings, user_keys: UserKeySource, offline: ChatModel) -> None:
        server_key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
        self.keys = KeyChooser({OPENAI: server_key}, user_keys)
        self.settings = settings
        self.offline = offline
        # The openai package (about 20 MB) is imported when a model first answers: an
        # offline suite never loads it.
        self.http: openai.DefaultAsyncHttpxClient | None = None

    @property
    def mode(self) -> str:
        """What answers users without a key of their own: "live" or "offline"."""
        live = self.settings.openai_api_key or self.settings.openai_base_url
        return "live" if live else "offline"

    async def for_caller(self, caller: Principal) -> ChatModel:
        account = await self.keys.choose(caller, OPENAI)
        if account.is_sandbox and not self.settings.openai_base_url:
            return self.offline
        import openai

        from services.assistant.openai_model import OpenAIChatModel

        if self.http is None:
            self.http = openai.DefaultAsyncHttpxClient(timeout=self.settings.openai_timeout_seconds)
        return OpenAIChatModel(
            api_key=account.key,
            base_url=self.settings.openai_base_url,
            model=self.settings.openai_model,
            timeout=self.settings.openai_timeout_seconds,
            max_retries=self.settings.openai_max_retries,
            http_client=self.http,
            users_key=account.user_key,
        )

    async def close(self) -> None:
        if self.http is not None:
            await self.http.aclose()
