"""Users, passwords and login sessions. Passwords are scrypt-hashed off the event loop."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import re
import secrets
import time
from datetime import timedelta

from sqlalchemy import Connection, delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from http_kit.principal import Principal
from ivr.accounts.models import AuthSession, User
from ivr.errors import HotlineError
from store.db import Database, utcnow
from store.transactions import with_session

ROLES = ("operator", "supervisor", "admin", "unit")
SESSION_LIFETIME = timedelta(hours=12)  # one shift
_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}


class InvalidUser(HotlineError):
    pass


class LoginFailed(HotlineError):
    pass


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)
    return "scrypt$" + base64.b64encode(salt).decode() + "$" + base64.b64encode(digest).decode()


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, salt_b64, digest_b64 = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    digest = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt_b64), **_SCRYPT)
    return hmac.compare_digest(digest, base64.b64decode(digest_b64))


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _principal(user: User) -> Principal:
    return Principal(user.id, user.name, user.role, user.seat, user.unit)


# A fixed hash to verify against when the user does not exist, so a login for an unknown
# name takes as long as one with a wrong password (no user enumeration by timing).
_DUMMY_HASH = hash_password(secrets.token_hex(8))


class Accounts:
    # Every API request authenticates; a short in-memory memory of valid sessions saves a
    # database round trip each time. Logout forgets at once; expiry is still honoured.
    CACHE_SECONDS = 30.0

    def __init__(self, db: Database) -> None:
        self._db = db
        self._cache: dict[str, tuple[Principal, float]] = {}

    async def add_user(self, name: str, role: str, password: str, *, seat: str | None = None,
                       unit: str | None = None) -> Principal:
        if not _NAME.match(name):
            raise InvalidUser("name: 1-64 letters, digits or _.@-")
        if role not in ROLES:
            raise InvalidUser(f"role: one of {', '.join(ROLES)}")
        if len(password) < 8:
            raise InvalidUser("password: at least 8 characters")
        if role == "unit" and not unit:
            raise InvalidUser("unit: a unit user needs --unit CODE")
        hashed = await asyncio.to_thread(hash_password, password)
        user = User(name=name, role=role, password_hash=hashed, seat=seat, unit=unit)
        def store(session: Session) -> User:
            session.add(user)
            return user

        try:
            await self._db.write(with_session, store)
        except IntegrityError:
            raise InvalidUser(f"name: user {name!r} exists already") from None
        return _principal(user)

    async def login(self, name: str, password: str) -> tuple[str, Principal]:
        async with self._db.session() as session:
            user = await session.scalar(select(User).where(User.name == name))
        stored = user.password_hash if user else _DUMMY_HASH
        ok = await asyncio.to_thread(verify_password, password, stored)
        if user is None or not ok:
            raise LoginFailed("wrong user name or password")
        token = secrets.token_urlsafe(32)
        now = utcnow()
        session_row = {"token_hash": _token_hash(token), "user_id": user.id, "created": now,
                       "expires": now + SESSION_LIFETIME}

        def store(conn: Connection) -> None:
            conn.execute(delete(AuthSession).where(AuthSession.expires < now))
            conn.execute(insert(AuthSession).values(**session_row))

        await self._db.write(store)
        return token, _principal(user)

    async def authenticate(self, token: str) -> Principal | None:
        key = _token_hash(token)
        cached = self._cache.get(key)
        now = time.monotonic()
        if cached and cached[1] > now:
            return cached[0]
        async with self._db.session() as session:
            row = await session.execute(
                select(User, AuthSession.expires).join(
                    AuthSession, AuthSession.user_id == User.id)
                .where(AuthSession.token_hash == key, AuthSession.expires > utcnow())
            )
            found = row.one_or_none()
        if found is None:
            self._cache.pop(key, None)
            return None
        user, expires = found
        principal = _principal(user)
        remaining = (expires - utcnow()).total_seconds()
        if len(self._cache) > 10000:
            self._cache.clear()
        self._cache[key] = (principal, now + min(self.CACHE_SECONDS, remaining))
        return principal

    async def logout(self, token: str) -> None:
        self._cache.pop(_token_hash(token), None)
        token_hash = _token_hash(token)
        await self._db.write(lambda conn: conn.execute(
            delete(AuthSession).where(AuthSession.token_hash == token_hash)))
