"""Typed readers for environment variables.

Each helper returns the default when the variable is unset or empty, and raises
``ImproperlyConfigured`` (naming the variable) when it is set to a value that
does not parse, so a typo in production fails at start-up instead of silently
falling back to a default.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip()


def env_str(name: str, default: str = "") -> str:
    """Return the variable as a string, or ``default``."""
    value = _raw(name)
    return default if value is None else value


def env_bool(name: str, default: bool) -> bool:
    """Return the variable as a boolean; accepts 1/0, true/false, yes/no, on/off.

    Raises ImproperlyConfigured for any other value.
    """
    value = _raw(name)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return the variable as an integer within ``[minimum, maximum]``.

    Raises ImproperlyConfigured when it is not an integer or out of range.
    """
    value = _raw(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {number}")
    if maximum is not None and number > maximum:
        raise ImproperlyConfigured(f"{name} must be at most {maximum}, not {number}")
    return number


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    """Return a comma-separated variable as a list of non-empty, stripped items."""
    value = _raw(name)
    if value is None:
        return list(default or [])
    return [item.strip() for item in value.split(",") if item.strip()]


def env_url(name: str, default: str = "") -> str:
    """Return the variable as an absolute http(s) URL without a trailing slash.

    Raises ImproperlyConfigured when it is not an http(s) URL with a host.
    """
    value = _raw(name)
    if value is None:
        return default
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ImproperlyConfigured(f"{name} must be an http(s) URL, not {value!r}")
    return value.rstrip("/")


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    """Return the variable if it is one of ``choices`` (compared in lower case).

    Raises ImproperlyConfigured naming the allowed values otherwise.
    """
    value = _raw(name)
    if value is None:
        return default
    if value.lower() not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value.lower()


def env_database(name: str, *, conn_max_age: int) -> dict | None:
    """Return Django's ``DATABASES["default"]`` for a database URL such as
    ``postgres://user:password@host:5432/studio`` (dj-database-url), or None when unset.

    PostgreSQL connections are kept ``conn_max_age`` seconds and health-checked before
    reuse. Raises ImproperlyConfigured for a URL it cannot read; the message names the
    scheme, never the password.
    """
    import dj_database_url

    value = _raw(name)
    if value is None:
        return None
    scheme = urlsplit(value).scheme
    try:
        config = dj_database_url.parse(value, conn_max_age=conn_max_age, conn_health_checks=True)
    except (ValueError, KeyError):
        raise ImproperlyConfigured(f"{name} is not a database URL this studio reads (scheme {scheme!r})") from None
    if not config.get("NAME"):
        raise ImproperlyConfigured(f"{name} must name a database, e.g. postgres://user:password@host:5432/studio")
    return dict(config)


def env_redis_url(name: str) -> str:
    """Return a ``redis://`` or ``rediss://`` URL, or "" when unset.

    Raises ImproperlyConfigured for any other scheme.
    """
    value = _raw(name)
    if value is None:
        return ""
    if urlsplit(value).scheme not in {"redis", "rediss", "unix"}:
        raise ImproperlyConfigured(f"{name} must be a redis:// or rediss:// URL")
    return value
