"""The staffed hours (受理时间) and night mode over HTTP."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from http_kit.principal import require_role
from http_kit.responses import json_response
from http_kit.routes import Answer, Routes
from ivr.schedule.staffing import Staffing

STAFFING = web.AppKey("staffing", Staffing)
api = Routes()


class Schedule(BaseModel):
    """Documents the schedule's fields; ivr/schedule/hours.py `parse` checks them (the
    same rules as the schedule file's, so they live there alone)."""

    model_config = ConfigDict(extra="forbid")

    always_staffed: bool = Field(True, description="7×24 with the day seats")
    workday_hours: list[str] = Field(
        [], description='staffed spans on China\'s working days (调休 included), "08:30-12:00"')
    restday_hours: list[str] = Field([], description="staffed spans on weekends and holidays")
    closed_dates: list[dt.date] = Field([], description="local days off, kept as rest days")
    override: Literal["", "staffed", "night"] = Field(
        "", description="a supervisor's decision until cleared")


class Staffed(BaseModel):
    staffed: bool = Field(description="the day seats answer now")
    mode_label: str
    schedule: Schedule
    file: str


@api.get("/api/schedule", "Staffed hours and whether the line is staffed now (else night "
            "mode: night seats, or a message when none is signed in)",
            answers={200: Answer("the hours", Staffed), 403: "not hotline staff"})
async def get_schedule(request: web.Request) -> web.Response:
    require_role(request, "operator", "supervisor", "admin")
    return json_response(request.app[STAFFING].view())


@api.put("/api/schedule", "Supervisor or admin: replace the staffed hours; applied to the "
            "PBX at once and written to the schedule file", body=Schedule, validate_body=False,
            answers={200: Answer("the hours now", Staffed), 403: "not a supervisor"})
async def put_schedule(request: web.Request, body: dict[str, Any]) -> web.Response:
    # Supervisors too: the shift leader (值班长) calls all hands in a typhoon, or night mode
    # early, through `override`, without waiting for an admin.
    require_role(request, "supervisor", "admin")
    return json_response(await request.app[STAFFING].update(body))


def setup(app: web.Application, staffing: Staffing) -> None:
    app[STAFFING] = staffing
    api.register(app)
