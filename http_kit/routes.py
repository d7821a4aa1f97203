"""Route declarations: each route says once its method, path, summary, the models of its
path parameters, query and JSON body, the statuses it answers, and whether it is public.
The same declarations register the routes on the app and generate the OpenAPI document
(http_kit/openapi.py), so the document cannot say other than what the app does.

    api = Routes()

    @api.get("/api/things/{thing_id}", "One thing", path_model=ThingPath,
             answers={200: Answer("the thing", Thing), 404: "no such thing"})
    async def get_thing(request: web.Request, path: ThingPath) -> web.Response: ...

    api.register(app)   # in the slice's setup(app, service)

The handler receives what is declared, parsed, as keyword arguments `path`, `query` and
`body`; a bad or missing field has answered 422 naming it before the handler runs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from http_kit.principal import PUBLIC_PATHS
from http_kit.requests import parse_body, parse_model

Handler = Callable[..., Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Answer:
    """One status a route answers: what it means and, where there is one, its model.
    An error status (4xx, 5xx) without a model has the app's error shape. media_type may
    name several (a route answering CSV or JSON as asked; the model is the JSON's), or
    None: an answer without a body."""

    description: str
    model: type[BaseModel] | None = None
    media_type: str | tuple[str, ...] | None = "application/json"


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    summary: str
    handler: Handler
    answers: dict[int, Answer]
    path_model: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    # False: the body model only documents; the domain validates the raw object itself
    # (its own messages, one place for its rules) and the handler receives a dict.
    validate_body: bool = True
    public: bool = False
    description: str | None = None

    async def endpoint(self, request: web.Request) -> web.StreamResponse:
        kwargs: dict[str, Any] = {}
        if self.path_model is not None:
            kwargs["path"] = parse_model(self.path_model, dict(request.match_info))
        if self.query is not None:
            # An empty parameter counts as unset: forms send `?phone=` for "any phone".
            given = {k: v for k, v in request.query.items() if v != ""}
            kwargs["query"] = parse_model(self.query, given)
        if self.body is not None:
            kwargs["body"] = await parse_body(request, self.body if self.validate_body
                                              else None)
        return await self.handler(request, **kwargs)


ROUTES = web.AppKey("declared routes", list[Route])


@dataclass
class Routes:
    """The routes of one slice, declared with the decorators below."""

    declared: list[Route] = field(default_factory=list)

    def route(self, method: str, path: str, summary: str, *,
              answers: dict[int, Answer | str], path_model: type[BaseModel] | None = None,
              query: type[BaseModel] | None = None, body: type[BaseModel] | None = None,
              validate_body: bool = True, public: bool = False,
              description: str | None = None) -> Callable[[Handler], Handler]:
        def declare(handler: Handler) -> Handler:
            self.declared.append(Route(
                method, path, summary, handler,
                {status: a if isinstance(a, Answer) else Answer(a)
                 for status, a in answers.items()},
                path_model, query, body, validate_body, public, description))
            return handler
        return declare

    def get(self, path: str, summary: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("GET", path, summary, **kw)

    def post(self, path: str, summary: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("POST", path, summary, **kw)

    def put(self, path: str, summary: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("PUT", path, summary, **kw)

    def register(self, app: web.Application) -> None:
        """Add the routes to the app, and to its list the OpenAPI document is made from."""
        if ROUTES not in app:
            app[ROUTES] = []
        for route in self.declared:
            app.router.add_route(route.method, route.path, route.endpoint)
            app[ROUTES].append(route)
            if route.public:
                app[PUBLIC_PATHS].add(route.path)
