"""A local server that speaks Mem0's platform REST API as the adapter uses it
(`Authorization: Token <key>`; POST /v1/memories/, GET /v1/memories/?user_id=,
POST /v2/memories/search/, GET and DELETE /v1/memories/{id}/, DELETE /v1/memories/?user_id=),
keeping each key's project apart, so the real adapter code runs against it. Search
scores by shared words. `down` makes every call answer 503.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


@dataclass
class FakeMem0:
    # key -> memory id -> memory, as Mem0 returns it
    projects: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    calls: list[tuple[str, str, str]] = field(default_factory=list)  # method, path, key
    down: bool = False

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/memories/", self.memories, methods=["GET", "POST", "DELETE"]),
                Route("/v1/memories/{memory_id}/", self.one, methods=["GET", "DELETE"]),
                Route("/v2/memories/search/", self.search, methods=["POST"]),
            ]
        )

    def _project(self, request: Request) -> dict[str, dict[str, Any]] | None:
        header = request.headers.get("authorization", "")
        key = header.removeprefix("Token ") if header.startswith("Token ") else ""
        self.calls.append((request.method, request.url.path, key))
        if not key.startswith("m0-"):
            return None
        return self.projects.setdefault(key, {})

    async def memories(self, request: Request) -> Response:
        project = self._project(request)
        if self.down:
            return JSONResponse({"detail": "unavailable"}, status_code=503)
        if project is None:
            return JSONResponse({"detail": "Invalid API key"}, status_code=401)
        if request.method == "POST":
            body = await request.json()
            now = datetime.now(UTC).isoformat()
            made = {
                "id": str(uuid.uuid4()),
                "memory": body["messages"][0]["content"],
                "user_id": body["user_id"],
                "metadata": body.get("metadata") or {},
                "created_at": now,
                "updated_at": now,
                "infer": body.get("infer"),
            }
            project[made["id"]] = made
            return JSONResponse({"results": [{"id": made["id"], "memory": made["memory"],
                                              "event": "ADD"}]})  # fmt: skip
        user = request.query_params.get("user_id")
        if not user:
            return JSONResponse({"detail": "user_id is required"}, status_code=400)
        mine = [m for m in project.values() if m["user_id"] == user]
        if request.method == "DELETE":
            for memory in mine:
                del project[memory["id"]]
            return JSONResponse({"message": "Memories deleted successfully!"})
        return JSONResponse(mine)

    async def one(self, request: Request) -> Response:
        project = self._project(request)
        if self.down:
            return JSONResponse({"detail": "unavailable"}, status_code=503)
        if project is None:
            return JSONResponse({"detail": "Invalid API key"}, status_code=401)
        memory = project.get(request.path_params["memory_id"])
        if memory is None:
            return JSONResponse({"detail": "Memory not found"}, status_code=404)
        if request.method == "DELETE":
            del project[memory["id"]]
            return JSONResponse({"message": "Memory deleted successfully!"})
        return JSONResponse(memory)

    async def search(self, request: Request) -> Response:
        project = self._project(request)
        if self.down:
            return JSONResponse({"detail": "unavailable"}, status_code=503)
        if project is None:
            return JSONResponse({"detail": "Invalid API key"}, status_code=401)
        body = await request.json()
        user = (body.get("filters") or {}).get("user_id")
        words = set(re.findall(r"\w+", body["query"].lower()))
        found = []
        for memory in project.values():
            shared = words & set(re.findall(r"\w+", memory["memory"].lower()))
            if memory["user_id"] == user and shared:
                found.append({**memory, "score": len(shared) / len(words)})
        found.sort(key=lambda m: -m["score"])
        return JSONResponse(found[: body.get("top_k", 10)])
