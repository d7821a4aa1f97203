"""JSON answers."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Generic, TypeVar

from aiohttp import web
from pydantic import BaseModel

from http_kit.errors import Missing
from store import jsonio


def safe_dumps(data: Any) -> str:
    """JSON with <, > and & escaped: text a citizen filed can never act as markup where a
    page embeds the response, and it still decodes to exactly what was filed."""
    return (jsonio.dumps(data).replace("<", "\\u003c")
            .replace(">", "\\u003e").replace("&", "\\u0026"))


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=safe_dumps)


def error_response(status: int, message: str, field: str | None = None) -> web.Response:
    body: dict[str, Any] = {"error": message}
    if field:
        body["field"] = field
    return json_response(body, status=status)


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """A list answer's model (see `items`): one page of the items, and how many in all."""

    items: list[T]
    total: int


def items(rows: list[Any], total: int | None = None) -> web.Response:
    """A list answer: {"items": [...], "total": N}."""
    return json_response({"items": rows, "total": len(rows) if total is None else total})


async def recording(path: str | None, missing: str) -> web.FileResponse:
    """A WAV recording, or 404 saying `missing` if there is none (yet) on disk."""
    if not path or not await asyncio.to_thread(Path(path).is_file):
        raise Missing(missing)
    return web.FileResponse(path, headers={"Content-Type": "audio/wav"})
