"""Replies that are files: any RPC returning ``google.api.HttpBody`` is served raw.

The body is the HttpBody's ``data`` with its ``content_type`` as the media type, not
base64 inside JSON. A ``tripsage.common.v1.Download`` packed in its extensions names
the file: the answer then carries ``Content-Disposition: attachment`` with a safe
ASCII ``filename`` and, for any other name, the exact one as RFC 6266 ``filename*``.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from google.api import httpbody_pb2
from google.protobuf.message import Message
from starlette.responses import Response

from gateway.routes import HttpBinding
from tripsage.common.v1 import download_pb2

HTTP_BODY = httpbody_pb2.HttpBody.DESCRIPTOR.full_name
DEFAULT_MEDIA_TYPE = "application/octet-stream"
MAX_FILENAME_CHARS = 120
# Whatever a file system or a header would misread: paths, quotes, controls.
_UNSAFE = re.compile(r'[\x00-\x1f\x7f"\\/:*?<>|;]+')
_NOT_TOKEN_ASCII = re.compile(r"[^A-Za-z0-9 ._()\[\]{}+=!#$&'@^`~,-]+")
_MEDIA_TYPE = re.compile(r"^[\w.+-]+/[\w.+-]+(\s*;\s*[\w.+-]+=[\w.+-]+)*$")


def is_download(binding: HttpBinding) -> bool:
    return bool(binding.method.output_type.full_name == HTTP_BODY)


def safe_filename(name: str) -> str:
    """A name that stays one file name anywhere: no separators, controls or quotes,
    no leading dots, at most MAX_FILENAME_CHARS characters (the extension kept)."""
    cleaned = _UNSAFE.sub("_", unicodedata.normalize("NFC", name)).strip(" .")
    if len(cleaned) > MAX_FILENAME_CHARS:
        stem, dot, extension = cleaned.rpartition(".")
        if dot and 0 < len(extension) <= 10:
            cleaned = stem[: MAX_FILENAME_CHARS - len(extension) - 1].rstrip(" .") + "." + extension
        else:
            cleaned = cleaned[:MAX_FILENAME_CHARS]
    return cleaned or "download"


def _ascii(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return _NOT_TOKEN_ASCII.sub("_", plain).strip(" .")


def content_disposition(name: str) -> str:
    """``attachment`` with an ASCII ``filename`` and, when it differs, ``filename*``."""
    safe = safe_filename(name)
    stem, dot, extension = safe.rpartition(".")
    if not dot:
        stem, extension = safe, ""
    ascii_name = _ascii(stem) or "download"
    if extension and _ascii(extension):
        ascii_name += "." + _ascii(extension)
    value = f'attachment; filename="{ascii_name}"'
    if ascii_name != safe:
        value += f"; filename*=UTF-8''{quote(safe, safe='')}"
    return value


def filename_of(body: httpbody_pb2.HttpBody) -> str | None:
    for extension in body.extensions:
        if extension.Is(download_pb2.Download.DESCRIPTOR):
            download = download_pb2.Download()
            extension.Unpack(download)
            return download.filename or None
    return None


def download_response(reply: Message, headers: dict[str, str]) -> Response:
    """The HttpBody as the raw answer, named when the service named it."""
    body = httpbody_pb2.HttpBody()
    body.CopyFrom(reply)
    media_type = body.content_type.strip()
    if not _MEDIA_TYPE.match(media_type):
        media_type = DEFAULT_MEDIA_TYPE
    name = filename_of(body)
    if name is not None:
        headers["Content-Disposition"] = content_disposition(name)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    return Response(body.data, 200, headers=headers, media_type=media_type)
