"""`hotline settings`: every effective setting as its variable, where it came from, secrets hidden.

No setting holds a secret of its own (the AMI secret is generated under $HOTLINE_HOME/secrets),
but a URL may carry one: a database password, a downstream endpoint's credentials or token.
Those are shown as *** in whatever setting they appear, so the output can be pasted into an
issue as it is.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ivr.settings import Settings

HIDDEN = "***"
# Query parameters that carry credentials (asyncpg's ?password=, a webhook's ?token=).
_SECRET_QUERY_WORDS = ("pass", "pwd", "secret", "token", "key", "sig")


def report(settings: Settings) -> list[str]:
    """`HOTLINE_NAME=value  # environment|default`, one per setting, in declaration order."""
    set_from_env = settings.model_fields_set
    return [f"{Settings.env_name(field)}={hide_secrets(as_env(getattr(settings, field)))}"
            f"  # {'environment' if field in set_from_env else 'default'}"
            for field in Settings.model_fields]


def as_env(value: Any) -> str:
    """A value as its variable spells it (unset is empty; a port range LOW-HIGH; bools 1/0)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, tuple):
        return "-".join(str(part) for part in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # 300, as it was written, not 300.0
    return str(value)


def hide_secrets(value: str) -> str:
    """value with a URL's password and secret query parameters replaced by ***."""
    parts = urlsplit(value)
    if not parts.netloc and not parts.query:
        return value  # a plain value or a file URL (sqlite): nothing to hide
    netloc, query = parts.netloc, parts.query
    if parts.password is not None:
        userinfo, _, host = netloc.rpartition("@")
        netloc = f"{userinfo.split(':', 1)[0]}:{HIDDEN}@{host}"
    pairs = parse_qsl(query, keep_blank_values=True)
    if any(_secret_key(key) for key, _ in pairs):
        query = urlencode([(key, HIDDEN if _secret_key(key) else item) for key, item in pairs],
                          safe="*")
    if (netloc, query) == (parts.netloc, parts.query):
        return value  # rebuilding could respell an untouched URL
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def _secret_key(key: str) -> bool:
    return any(word in key.lower() for word in _SECRET_QUERY_WORDS)
