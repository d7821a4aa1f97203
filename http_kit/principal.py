"""Who is making a request: set by the web app's login check, read by the routes."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from http_kit.errors import Forbidden


@dataclass(frozen=True)
class Principal:
    user_id: int
    name: str
    role: str  # operator | supervisor | admin | unit
    seat: str | None
    unit: str | None


PRINCIPAL = web.RequestKey("principal", Principal)


def require_role(request: web.Request, *roles: str, why: str | None = None) -> Principal:
    """The logged-in principal, if their role is one of roles; 403 (saying why) if not."""
    principal = request[PRINCIPAL]
    if principal.role not in roles:
        raise Forbidden(why or f"a {principal.role} may not do this")
    return principal

# Paths anyone may ask without logging in (health, login, the pages' HTML); each slice
# adds its own when it registers its routes.
PUBLIC_PATHS = web.AppKey("public paths", set[str])
