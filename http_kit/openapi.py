"""The OpenAPI 3.1 document, generated from the declared routes (http_kit/routes.py) and
their pydantic models: nothing in it is written by hand, so it says what the app does.

Models of bodies and answers become components (shared by every route that names them);
path and query models become parameters. Every non-public route also answers 401, a
declared body 400 (not a JSON object), 413 (too large) and 422 (a bad field), declared
path or query parameters 422: those answers come from the kit itself, not the handler.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field
from pydantic.json_schema import models_json_schema

from http_kit.requests import MAX_BODY
from http_kit.routes import ROUTES, Answer, Route, Routes

REF = "#/components/schemas/{model}"


class Error(BaseModel):
    """Every error answer: what is wrong and, when a request field is at fault, its name."""

    error: str
    field: str | None = Field(None, description="the request field at fault, if one is")


def _kit_answers(route: Route) -> dict[int, Answer]:
    kit: dict[int, Answer] = {}
    if not route.public:
        kit[401] = Answer("not logged in")
    if route.path_model or route.query or route.body:
        kit[422] = Answer("a bad or missing field, named in `field`")
    if route.body:
        kit[400] = Answer("the body is not a JSON object")
        kit[413] = Answer(f"the body is over {MAX_BODY} bytes")
    return kit


def _parameters(model: type[BaseModel], where: str) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template=REF)
    required = set(schema.get("required", ()))
    params = []
    for name, prop in schema.get("properties", {}).items():
        param: dict[str, Any] = {"name": name, "in": where,
                                 "required": where == "path" or name in required,
                                 "schema": {k: v for k, v in prop.items() if k != "title"}}
        if "description" in prop:
            param["description"] = prop["description"]
        params.append(param)
    return params


def _content(answer: Answer, refs: dict[type[BaseModel], dict[str, Any]],
             status: int) -> dict[str, Any]:
    media = answer.media_type
    types = () if media is None else (media,) if isinstance(media, str) else media
    content: dict[str, Any] = {}
    for media_type in types:
        json = media_type == "application/json"
        model = answer.model or (Error if status >= 400 else None)
        content[media_type] = {"schema": refs[model]} if json and model else {}
    return content


def _operation(route: Route, refs: dict[type[BaseModel], dict[str, Any]]) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": route.summary,
                          "operationId": f"{route.method.lower()}{route.path}"}
    if route.description:
        op["description"] = route.description
    params = []
    if route.path_model:
        params += _parameters(route.path_model, "path")
    elif "{" in route.path:  # an undeclared path parameter is text
        params += [{"name": part[1:-1], "in": "path", "required": True,
                    "schema": {"type": "string"}}
                   for part in route.path.split("/") if part.startswith("{")]
    if route.query:
        params += _parameters(route.query, "query")
    if params:
        op["parameters"] = params
    if route.body:
        required = bool(route.body.model_json_schema().get("required"))
        op["requestBody"] = {"required": required, "content": {
            "application/json": {"schema": refs[route.body]}}}
    if route.public:
        op["security"] = []
    answers = {**_kit_answers(route), **route.answers}
    op["responses"] = {}
    for status, answer in sorted(answers.items()):
        op["responses"][str(status)] = {"description": answer.description}
        if content := _content(answer, refs, status):
            op["responses"][str(status)]["content"] = content
    return op


def openapi_document(routes: list[Route], title: str, version: str,
                     session_cookie: str) -> dict[str, Any]:
    """The document of these routes; a login is a bearer token or the session cookie."""
    models: set[type[BaseModel]] = {Error}
    for route in routes:
        if route.body:
            models.add(route.body)
        models.update(a.model for a in route.answers.values() if a.model)
    ordered = sorted(models, key=lambda m: m.__name__)
    keys, defs = models_json_schema(
        [(m, "validation" if m in {r.body for r in routes} else "serialization")
         for m in ordered], ref_template=REF)
    refs = {m: keys[(m, mode)] for (m, mode) in keys}
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route, refs)
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "components": {"schemas": defs.get("$defs", {}), "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"},
            "cookie": {"type": "apiKey", "in": "cookie", "name": session_cookie}}},
        "security": [{"bearer": []}, {"cookie": []}],
        "paths": paths,
    }


def serve_openapi(app: web.Application, title: str, version: str,
                  session_cookie: str) -> None:
    """GET /openapi.json: the document of every route registered before it (so last)."""
    api = Routes()

    @api.get("/openapi.json", "This document (OpenAPI 3.1)", public=True,
             answers={200: Answer("the API described")})
    async def document(_request: web.Request) -> web.Response:
        return web.json_response(doc)

    api.register(app)
    doc = openapi_document(app[ROUTES], title, version, session_cookie)
