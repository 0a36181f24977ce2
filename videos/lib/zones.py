"""Time zones by their IANA names (``Asia/Shanghai``), as the browser reports them
(``Intl.DateTimeFormat().resolvedOptions().timeZone``) and ``zoneinfo`` knows them."""

from __future__ import annotations

import zoneinfo
from functools import cache

#: Names in the tz database that are not places a person lives by.
_NOT_PLACES = frozenset({"Factory", "localtime", "posixrules"})


@cache
def time_zone_names() -> frozenset[str]:
    """Every IANA zone name this machine's tz database knows (``zoneinfo.available_timezones``,
    read once per process), legacy links such as ``Asia/Calcutta`` included, since browsers
    still report some of them."""
    return frozenset(name for name in zoneinfo.available_timezones() if name not in _NOT_PLACES)


def is_time_zone(name: object) -> bool:
    """Whether ``name`` is exactly one of ``time_zone_names()`` (anything else, a path or a
    name with stray spaces included, is not)."""
    return isinstance(name, str) and name in time_zone_names()


@cache
def grouped_time_zones() -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
    """The zones for a select, grouped by their first part (``Africa``, ``America``, …;
    names without one, such as ``UTC``, under ``Other``), each group and its names sorted:
    ``((group, ((name, label), …)), …)``; a label is the name with spaces for underscores."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for name in sorted(time_zone_names()):
        group = name.split("/", 1)[0] if "/" in name else "Other"
        groups.setdefault(group, []).append((name, name.replace("_", " ")))
    return tuple((group, tuple(names)) for group, names in sorted(groups.items()))
