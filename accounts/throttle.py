"""Login throttling against password guessing, without letting a stranger lock a user out.

Every sign-in attempt takes a slot in two budgets kept in the ``login_throttle``
cache: one for the username *from this client address* (``LOGIN_FAILURE_LIMIT``,
default 5) and one for the client's address across all usernames
(``LOGIN_IP_FAILURE_LIMIT``, default 20, so a shared office address is not locked
out by one person). An IPv6 address counts by its /64 in both. A slot lasts
``LOGIN_FAILURE_WINDOW`` seconds (default 15 minutes) from the attempt that took it,
so a budget reads "N failures in any 15 minutes". When either budget is full the
attempt is refused *before* the password is checked. A failed attempt keeps its
slots; a success frees its address slot and clears its (username, address) budget.

No budget is kept per username alone: failures from one address never refuse the
same username from another, so guessing at someone's account from anywhere cannot
lock them out. Guessing from one address is bounded by both budgets; guessing from
many addresses is bounded per address.

Slots are taken with ``cache.add``, which is atomic on every Django cache backend
(a conditional insert, ``SET NX``, or a lock), before the password is checked: a
burst of parallel guesses cannot all pass a count read before any of them failed.

The username counts whether or not such a user exists, and a refusal reads the
same either way, so the throttle does not tell who has an account.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import math
import time
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.utils.translation import ngettext

CACHE_ALIAS = "login_throttle"


def _cache():
    return caches[CACHE_ALIAS]


def client_address(request) -> str:
    """The client's IP address: ``REMOTE_ADDR``, or behind ``TRUSTED_PROXY_COUNT`` proxies the
    ``X-Forwarded-For`` entry that many from the right (the one our outermost proxy wrote)."""
    address = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
        if hops:
            address = hops[max(len(hops) - proxies, 0)]
    return address


def _address_bucket(address: str) -> str:
    """What the address budget is kept per: the IPv4 address, or the IPv6 /64."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address or "unknown"
    if ip.version == 6:
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _username_bucket(username: str) -> str:
    """One budget for every spelling of a username (Unicode form and case)."""
    return unicodedata.normalize("NFKC", username).strip().casefold()


def _slot_keys(kind: str, value: str, limit: int) -> list[str]:
    digest = hashlib.sha256(value.encode()).hexdigest()[:40]
    return [f"login:{kind}:{digest}:{n}" for n in range(limit)]


def _take_slot(keys: list[str], window: int) -> tuple[str | None, int]:
    """Take a free slot among ``keys``: ``(key, 0)``, or ``(None, seconds until one frees)``."""
    cache = _cache()
    now = time.time()
    held = cache.get_many(keys)
    for key in keys:
        if key not in held and cache.add(key, now + window, timeout=window):
            return key, 0
    # Every slot is held (or was taken by a racing attempt just now).
    expiries = cache.get_many(keys).values()
    soonest = min(expiries, default=now + 1)
    return None, max(1, math.ceil(soonest - now))


def _pair_bucket(username: str, address: str) -> str:
    """What the username budget is kept per: the username's bucket from one address's."""
    return json.dumps([_username_bucket(username), address])


@dataclass
class Attempt:
    """One sign-in attempt: refused (``retry_after`` seconds > 0), or holding its two slots."""

    pair_keys: list[str]
    address_slot: str | None = None
    retry_after: int = 0

    @property
    def refused(self) -> bool:
        return self.retry_after > 0

    def failed(self) -> None:
        """The password was wrong: the attempt's slots stay until they expire."""

    def succeeded(self) -> None:
        """Signed in: clear the (username, address) budget and give back the address slot."""
        cache = _cache()
        cache.delete_many(self.pair_keys)
        if self.address_slot is not None:
            cache.delete(self.address_slot)


def begin(request, username: str) -> Attempt:
    """Start a sign-in attempt for ``username`` from ``request``'s client: refused when
    this address has spent its budget for this username or its own budget."""
    window = settings.LOGIN_FAILURE_WINDOW
    address = _address_bucket(client_address(request))
    pair_keys = _slot_keys("pair", _pair_bucket(username, address), settings.LOGIN_FAILURE_LIMIT)
    pair_slot, wait = _take_slot(pair_keys, window)
    if pair_slot is None:
        return Attempt(pair_keys, retry_after=wait)
    address_slot, wait = _take_slot(_slot_keys("addr", address, settings.LOGIN_IP_FAILURE_LIMIT), window)
    if address_slot is None:
        _cache().delete(pair_slot)  # refused for the address: not a guess at this username
        return Attempt(pair_keys, retry_after=wait)
    return Attempt(pair_keys, address_slot=address_slot)


def refusal_message(retry_after: int) -> str:
    """What the login form says to a refused attempt (the same whether the user exists or not)."""
    minutes = max(1, math.ceil(retry_after / 60))
    return ngettext(
        "Too many failed attempts; try again in %(minutes)d minute.",
        "Too many failed attempts; try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


#: Password-reset requests per (email address, client address) and per client address, in
#: any ``LOGIN_FAILURE_WINDOW``: enough for a typo or two, too few to flood an inbox.
RESET_EMAIL_LIMIT = 3
RESET_ADDRESS_LIMIT = 10


def begin_reset(request, email: str) -> int:
    """Count a password-reset request for ``email`` from ``request``'s client: 0 when it
    may be sent, else the seconds until it may.

    As for sign-ins, no budget is kept per email address alone, so nobody can use up
    someone else's resets from elsewhere; every request counts (found or not, so the
    answer does not tell who has an account)."""
    window = settings.LOGIN_FAILURE_WINDOW
    address = _address_bucket(client_address(request))
    pair_slot, wait = _take_slot(_slot_keys("reset-pair", _pair_bucket(email, address), RESET_EMAIL_LIMIT), window)
    if pair_slot is None:
        return wait
    address_slot, wait = _take_slot(_slot_keys("reset-addr", address, RESET_ADDRESS_LIMIT), window)
    if address_slot is None:
        _cache().delete(pair_slot)
        return wait
    return 0


def reset_refusal_message(retry_after: int) -> str:
    """What the reset form says to a refused request (the same whether the address is known)."""
    minutes = max(1, math.ceil(retry_after / 60))
    return ngettext(
        "Too many reset requests; try again in %(minutes)d minute.",
        "Too many reset requests; try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


#: Key tests (the keys page's Test button) per member in any ``KEY_CHECK_WINDOW`` seconds:
#: each one sends a request to the gateway, so a held-down button cannot hammer it.
KEY_CHECK_LIMIT = 10
KEY_CHECK_WINDOW = 60


def begin_key_check(user) -> int:
    """Count one key test by ``user`` (a member, across teams): 0 when it may run, else the
    seconds until it may (``KEY_CHECK_LIMIT`` tests in any ``KEY_CHECK_WINDOW`` seconds)."""
    slot, wait = _take_slot(_slot_keys("key-check", str(user.pk), KEY_CHECK_LIMIT), KEY_CHECK_WINDOW)
    return 0 if slot is not None else wait


def address_digest(request, salt: str) -> str:
    """A SHA-256 (64 hex digits) of ``request``'s client address bucket (the IPv4 address or
    IPv6 /64) with ``salt``: stored where a guest's address must be told apart, never shown."""
    bucket = _address_bucket(client_address(request))
    return hashlib.sha256(f"{salt}:{bucket}".encode()).hexdigest()


def begin_guest_use(kind: str, scope: str, address_digest: str, limit: int, window: int) -> int:
    """Count one ``kind`` use (``share-view``, ``share-note``, ``share-password``) of ``scope``
    (a share link) by one address: 0 when it may go on, else the seconds until it may
    (``limit`` uses in any ``window`` seconds)."""
    slot, wait = _take_slot(_slot_keys(kind, f"{scope}:{address_digest}", limit), window)
    return 0 if slot is not None else wait
