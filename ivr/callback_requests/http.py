"""Callback requests and voice messages (回拨/留言) over HTTP: the operators' work list."""

from __future__ import annotations

from typing import Literal

from aiohttp import web
from pydantic import BaseModel, Field

from http_kit.principal import Principal, require_role
from http_kit.requests import Body, Paging
from http_kit.responses import items, json_response, recording
from http_kit.routes import Answer, Routes
from ivr.callback_requests.service import CallbackRequests

CALLBACKS = web.AppKey("callback requests", CallbackRequests)
api = Routes()


class CallbackQuery(Paging):
    state: Literal["open", "done", "all"] = "open"


class TaskPath(BaseModel):
    # Bounded by the database's integer (64 bits): a larger number is no task, and must
    # not reach SQLite, which cannot even compare it.
    task_id: int = Field(ge=1, le=2**63 - 1)


class TaskDone(Body):
    note: str | None = Field(None, max_length=500)


def _staff(request: web.Request) -> Principal:
    return require_role(request, "operator", "supervisor", "admin",
                        why="callbacks are worked by the hotline's operators")


STAFF_ONLY = {403: "callbacks are worked by the hotline's operators"}


@api.get("/api/callbacks", "Callback requests and voice messages, oldest first, each "
            "with a ticket draft", query=CallbackQuery,
            answers={200: Answer("a page of tasks"), **STAFF_ONLY})
async def list_callbacks(request: web.Request, query: CallbackQuery) -> web.Response:
    _staff(request)
    found, total = await request.app[CALLBACKS].list(query.state, query.limit, query.offset)
    return items(found, total)


@api.post("/api/callbacks/{task_id}/done", "Mark a callback task done, with a note",
             path_model=TaskPath, body=TaskDone,
             answers={200: Answer("the task, done"), 404: "no such task", **STAFF_ONLY})
async def callback_done(request: web.Request, path: TaskPath, body: TaskDone) -> web.Response:
    principal = _staff(request)
    return json_response(await request.app[CALLBACKS].done(path.task_id, principal.name,
                                                           body.note))


@api.get("/api/callbacks/{task_id}/recording", "The caller's voice message (WAV)",
            path_model=TaskPath,
            answers={200: Answer("the recording", media_type="audio/wav"),
                     404: "no such task, or no recording", **STAFF_ONLY})
async def callback_recording(request: web.Request, path: TaskPath) -> web.StreamResponse:
    _staff(request)
    task = await request.app[CALLBACKS].get(path.task_id)
    return await recording(task.recording, f"callback task {task.id} has no recording")


def setup(app: web.Application, callbacks: CallbackRequests) -> None:
    app[CALLBACKS] = callbacks
    api.register(app)
