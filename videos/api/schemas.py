"""The API's request and answer bodies (pydantic, through ninja's ``Schema``): the OpenAPI
3.1 schema is generated from these. Request bodies forbid unknown fields. Money is in USD
as a decimal string (``"0.32"``), durations in seconds, sizes in bytes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from ninja import Schema
from pydantic import ConfigDict, Field, model_validator

from videos.gateways.base import OptionSpec

#: The most reference images one request carries (every gateway takes fewer).
MAX_REFERENCES = 10


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class ProblemOut(Schema):
    """RFC 9457 problem details (``application/problem+json``)."""

    type: str
    title: str
    status: int
    detail: str
    instance: str = ""
    errors: list[dict] = []


class ModelOut(Schema):
    """One model a key's gateway offers, with the options the compose form offers for it."""

    model: str
    label: str
    options: OptionSpec


class KeyOut(Schema):
    """One of my gateway keys in this team (never its secret) and its gateway's models."""

    key: UUID
    label: str
    gateway: str
    gateway_label: str
    masked: str
    models: list[ModelOut]


class ReferenceIn(Strict):
    """A reference image: a public http(s) ``url`` the gateway downloads, or the image
    itself as base64 ``data`` (PNG, JPEG or WebP; a ``data:`` URI is accepted too)."""

    url: str | None = Field(default=None, max_length=2000)
    data: str | None = Field(default=None, max_length=7_000_000)

    @model_validator(mode="after")
    def one_of(self):
        if (self.url is None) == (self.data is None):
            raise ValueError("give exactly one of url or data")
        return self


class GenerationIn(Strict):
    """A request, as the compose form takes it: the key to send it through (one of mine),
    the model (default: the gateway's first), prompt, options (default: the model's), and
    reference images. Options the model does not have are refused by its gateway's rules."""

    key: UUID
    model: str | None = Field(default=None, max_length=80)
    prompt: str = Field(default="", max_length=20000)
    duration: int | None = Field(default=None, ge=0, le=3600, description="seconds")
    aspect_ratio: str | None = Field(default=None, max_length=20)
    resolution: str | None = Field(default=None, max_length=20)
    audio: bool | None = None
    reference_images: list[ReferenceIn] = Field(default=[], max_length=MAX_REFERENCES)


class RemixIn(Strict):
    """A remix: a new generation prefilled from another (its prompt, model, options and
    reference images), with any of these changed. ``key`` defaults to the parent's key
    when it is one of mine."""

    key: UUID | None = None
    model: str | None = Field(default=None, max_length=80)
    prompt: str | None = Field(default=None, max_length=20000)
    duration: int | None = Field(default=None, ge=0, le=3600)
    aspect_ratio: str | None = Field(default=None, max_length=20)
    resolution: str | None = Field(default=None, max_length=20)
    audio: bool | None = None
    reference_images: list[ReferenceIn] | None = Field(default=None, max_length=MAX_REFERENCES)


class EstimateOut(Schema):
    """What a request costs: ``amount_usd`` (null when the price is unknown) and the
    formula in words."""

    amount_usd: str | None
    words: str


class OtherEstimateOut(EstimateOut):
    key: UUID
    key_label: str
    gateway: str
    model: str


class QuoteOut(Schema):
    """The estimate through the chosen key, and through my other keys that could take it."""

    estimate: EstimateOut
    others: list[OtherEstimateOut]


class EventOut(Schema):
    at: datetime
    kind: str
    state: str
    message: str


class GenerationOut(Schema):
    """A generation: its request, its task's state and progress, its money, its review."""

    id: UUID
    state: str
    state_label: str
    progress: int
    prompt: str
    gateway: str
    model: str
    key_label: str
    author: str | None
    created_at: datetime
    finished_at: datetime | None
    estimate: str
    estimate_usd: str | None
    cost_usd: str | None
    billing: str
    approval: str
    review: str
    review_comment: str
    favorite: bool
    error: str
    parent: UUID | None
    video_url: str | None
    poster_url: str | None
    repeated: bool = False


class GenerationDetailOut(GenerationOut):
    """A generation with its options, lineage (parent and remixes) and timeline."""

    options: dict
    reference_images: int
    remixes: list[UUID]
    timeline: list[EventOut]


class GenerationPage(Schema):
    """One page of generations; ``next`` is the cursor of the next one (null at the end)."""

    items: list[GenerationOut]
    next: str | None


class ListQuery(Strict):
    """History's filters, and the cursor."""

    q: str = Field(default="", max_length=200, description="words in the prompt")
    gateway: str = Field(default="", max_length=32)
    member: str = Field(default="", max_length=150, description="a username")
    since: date | None = None
    until: date | None = None
    state: str = Field(default="", max_length=20, description="a task state, or running")
    review: str = Field(default="", max_length=20)
    favorites: bool = False
    sort: Literal["newest", "oldest"] = "newest"
    cursor: str = Field(default="", max_length=300)
    limit: int = Field(default=24, ge=1, le=100)


class FavoriteIn(Strict):
    favorite: bool


class FavoriteOut(Schema):
    favorite: bool


class ReviewIn(Strict):
    """A verdict on a finished video awaiting review; a comment is required to reject or
    to ask for changes."""

    decision: Literal["accept", "reject", "changes"]
    comment: str = Field(default="", max_length=1000)


class DoneOut(Schema):
    """Whether the action changed anything, with the generation as it is now."""

    done: bool
    message: str
    generation: GenerationOut


class SpendRow(Schema):
    name: str
    total_usd: str
    count: int


class SpendOut(Schema):
    """This month's (UTC) charges for the team and for me, what is held, and the limits."""

    since: datetime
    team_total_usd: str
    my_total_usd: str
    held_usd: str
    budget_usd: str | None
    my_cap_usd: str | None
    by_gateway: list[SpendRow]
    by_member: list[SpendRow]
