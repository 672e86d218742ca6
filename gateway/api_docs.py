"""The browsable API reference at ``/api/docs``: one server-rendered HTML page built
from the OpenAPI document (gateway/openapi.py), with its stylesheet served by the
gateway itself, so it works offline and under a strict Content-Security-Policy (no
script at all, no CDN, styles only from the gateway).

Operations are grouped by tag (the service), each with its description (the RPC's
proto comment), parameters, request body, responses and their headers; the
component schemas follow, with every field's description, linked from wherever they
are used.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

DOCS_PATH = "/api/docs"
STYLESHEET_PATH = "/api/docs/docs.css"
# Nothing but the page and the gateway's own stylesheet; no script, frame or form.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
_REF = "#/components/schemas/"
_METHOD_ORDER = ("get", "post", "put", "patch", "delete")

STYLESHEET = """
:root { color-scheme: light dark; --line: #8884; --muted: #777; }
body { font: 15px/1.5 system-ui, sans-serif; margin: 0 auto; max-width: 70rem; padding: 1rem 2rem; }
nav ul { columns: 3; padding-left: 1.2rem; }
h2 { border-bottom: 1px solid var(--line); margin-top: 2.5rem; }
section.operation { border: 1px solid var(--line); border-radius: 6px; margin: 1rem 0;
  padding: .2rem 1rem 1rem; }
.method { font: bold 13px monospace; padding: .1rem .5rem; border-radius: 4px;
  background: #8883; text-transform: uppercase; }
.get { background: #2a72; } .post { background: #27c3; } .patch, .put { background: #c803; }
.delete { background: #c223; }
code, .path { font-family: ui-monospace, monospace; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0; }
th, td { border-bottom: 1px solid var(--line); padding: .25rem .5rem; text-align: left;
  vertical-align: top; }
th { font-weight: 600; }
.muted { color: var(--muted); }
"""


def _text(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _anchor(name: str) -> str:
    return "schema-" + "".join(ch if ch.isalnum() or ch in "._-" else "-" for ch in name)


def schema_summary(schema: Any) -> str:
    """A schema as a short HTML phrase: its type, linked to the component it names."""
    if not isinstance(schema, dict) or not schema:
        return "any"
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith(_REF):
        name = ref[len(_REF) :]
        return f'<a href="#{_anchor(name)}"><code>{_text(name)}</code></a>'
    kind = schema.get("type")
    if kind == "array":
        return "array of " + schema_summary(schema.get("items"))
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return "map of string to " + schema_summary(schema["additionalProperties"])
    if "anyOf" in schema:
        return " or ".join(schema_summary(option) for option in schema["anyOf"])
    words = ", ".join(kind) if isinstance(kind, list) else str(kind or "any")
    if "format" in schema:
        words += f" ({schema['format']})"
    if "enum" in schema:
        words += ": " + ", ".join(str(value) for value in schema["enum"])
    if "contentMediaType" in schema:
        words += f" ({schema['contentMediaType']})"
    return _text(words)


def _parameters(parameters: Iterable[dict[str, Any]]) -> str:
    rows = [
        "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>".format(
            _text(p["name"]),
            _text(p["in"]),
            "yes" if p.get("required") else "",
            schema_summary(p.get("schema")),
            _text(p.get("description", "")),
        )
        for p in parameters
    ]
    if not rows:
        return ""
    return (
        "<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th>required</th>"
        "<th>type</th><th>description</th></tr>" + "".join(rows) + "</table>"
    )


def _content(content: dict[str, Any]) -> str:
    return "<br>".join(
        f"<code>{_text(media_type)}</code>: {schema_summary(body.get('schema'))}"
        for media_type, body in content.items()
    )


def _responses(responses: dict[str, Any]) -> str:
    rows = []
    for status, response in responses.items():
        headers = ", ".join(f"<code>{_text(name)}</code>" for name in response.get("headers", {}))
        rows.append(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>".format(
                _text(status),
                _text(response.get("description", "")),
                _content(response.get("content", {})),
                headers,
            )
        )
    return (
        "<h4>Responses</h4><table><tr><th>status</th><th>description</th><th>body</th>"
        "<th>headers</th></tr>" + "".join(rows) + "</table>"
    )


def _operation(path: str, method: str, operation: dict[str, Any]) -> str:
    parts = [
        f'<section class="operation" id="{_text(operation.get("operationId", ""))}">',
        f'<h3><span class="method {method}">{method}</span> <span class="path">{_text(path)}'
        "</span></h3>",
        f'<p class="muted"><code>{_text(operation.get("summary", ""))}</code></p>',
        f"<p>{_text(operation.get('description', ''))}</p>",
        _parameters(operation.get("parameters", ())),
    ]
    body = operation.get("requestBody")
    if body:
        parts.append("<h4>Request body</h4><p>" + _content(body.get("content", {})) + "</p>")
    parts.append(_responses(operation.get("responses", {})))
    parts.append("</section>")
    return "".join(parts)


def _schema(name: str, schema: dict[str, Any]) -> str:
    parts = [f'<section id="{_anchor(name)}"><h3><code>{_text(name)}</code></h3>']
    if schema.get("description"):
        parts.append(f"<p>{_text(schema['description'])}</p>")
    properties = schema.get("properties")
    if isinstance(properties, dict) and properties:
        parts.append("<table><tr><th>field</th><th>type</th><th>description</th></tr>")
        for field, field_schema in properties.items():
            parts.append(
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>".format(
                    _text(field),
                    schema_summary(field_schema),
                    _text(field_schema.get("description", "")),
                )
            )
        parts.append("</table>")
    else:
        parts.append(f"<p>{schema_summary(schema)}</p>")
    parts.append("</section>")
    return "".join(parts)


def render_reference(document: dict[str, Any]) -> str:
    """The whole reference page for one OpenAPI document."""
    by_tag: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for path, item in document.get("paths", {}).items():
        for method in _METHOD_ORDER:
            operation = item.get(method)
            if operation is not None:
                for tag in operation.get("tags") or ["other"]:
                    by_tag.setdefault(tag, []).append((path, method, operation))
    info = document.get("info", {})
    title = _text(info.get("title", "API"))
    nav = "".join(
        f'<li><a href="#tag-{_text(tag)}">{_text(tag)}</a> ({len(ops)})</li>'
        for tag, ops in sorted(by_tag.items())
    )
    sections = []
    for tag, operations in sorted(by_tag.items()):
        sections.append(f'<h2 id="tag-{_text(tag)}">{_text(tag)}</h2>')
        sections.extend(_operation(path, method, op) for path, method, op in operations)
    schemas = document.get("components", {}).get("schemas", {})
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width, initial-scale=1">'
        f"<title>{title} reference</title>"
        f'<link rel=stylesheet href="{STYLESHEET_PATH}"></head><body>'
        f"<h1>{title} <span class=muted>{_text(info.get('version', ''))}</span></h1>"
        f'<p>Generated from <a href="/api/openapi.json">/api/openapi.json</a>, '
        "which the gateway builds from the protos and their comments.</p>"
        f'<nav><ul>{nav}<li><a href="#schemas">Schemas</a></li></ul></nav>'
        + "".join(sections)
        + '<h2 id="schemas">Schemas</h2>'
        + "".join(_schema(name, schema) for name, schema in schemas.items())
        + "</body></html>"
    )


class ApiReference:
    """The two endpoints, rendering the page once from the document it is given."""

    def __init__(self, document: Any) -> None:
        self._document = document  # a callable returning the (cached) OpenAPI document
        self._page: bytes | None = None

    async def page(self, request: Request) -> Response:
        if self._page is None:
            self._page = render_reference(self._document()).encode()
        return Response(
            self._page,
            media_type="text/html",
            headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY},
        )

    async def stylesheet(self, request: Request) -> Response:
        return Response(
            STYLESHEET,
            media_type="text/css",
            headers={
                "Content-Security-Policy": CONTENT_SECURITY_POLICY,
                "Cache-Control": "public, max-age=3600",
            },
        )
