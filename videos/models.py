"""The studio's records: gateway keys, and for each generation its request, task,
asset and event log.

A *generation* is what a member asked for (``Generation``, the request); the
*task* is the job at the gateway and our progress with it (``Task``); the
*asset* is the archived MP4 (``Asset``); ``Event`` rows are its timeline. Every
state change of a task is a conditional update that acts only when exactly one
row changed (see ``videos.worker``). The recurring filters are QuerySet methods
(``Generation.objects.for_team(team).awaiting_review()``, ``Task.objects.due(now)``),
so views and the worker never spell them out.

Two words that must not be confused: a request's *approval* (``Approval``) is an
owner's or admin's yes to spending before it is sent; a video's *review*
(``Review``) is the verdict on a finished video (accepted, rejected, changes).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import models
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_lazy

from accounts.models import Team
from videos.gateways import Gateway, get_gateway_class
from videos.lib import media, references, vault


class GatewayKeyQuerySet(models.QuerySet):
    def owned_by(self, team, user) -> GatewayKeyQuerySet:
        """The keys ``user`` stored in ``team`` (a member uses only their own keys)."""
        return self.filter(team=team, owner=user)


class GatewayKey(models.Model):
    """One member's API key for one gateway (dialect), usable only by that member.

    ``secret_encrypted`` holds the Fernet token; the plain secret exists only in
    memory while a request is sent. ``last4`` is what the UI shows.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="gateway_keys")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="gateway_keys")
    dialect = models.CharField(max_length=32)
    label = models.CharField(max_length=80)
    base_url = models.URLField(max_length=300)
    secret_encrypted = models.TextField(editable=False)
    last4 = models.CharField(max_length=4, editable=False)
    fingerprint = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    #: The last check's verdict (a ``KeyVerdict`` value, "" until tested) and when it ran;
    #: written by ``videos.actions.check_key``, cleared when the secret or base URL changes.
    last_verdict = models.CharField(max_length=20, blank=True, default="", editable=False)
    last_checked_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = GatewayKeyQuerySet.as_manager()

    class Meta:
        ordering = ["label", "pk"]
        indexes = [models.Index(fields=["team", "owner"])]

    def __str__(self) -> str:
        return f"{self.label} ({self.masked})"

    @property
    def masked(self) -> str:
        return vault.mask(self.last4)

    def set_secret(self, secret: str) -> None:
        """Encrypt and store ``secret``; keeps only its last four characters in clear."""
        self.secret_encrypted = vault.encrypt(secret)
        self.last4 = secret[-4:]
        self.fingerprint = vault.fingerprint(secret)

    def reveal(self) -> str:
        """The plain secret, for the outgoing request only. Raises vault.VaultError."""
        return vault.decrypt(self.secret_encrypted)

    @property
    def on_sandbox(self) -> bool:
        """True when this key calls the built-in sandbox (``STUDIO_SANDBOX_URL`` or a path
        under it, while ``STUDIO_SANDBOX_ENABLED``): a rehearsal, not billed unless
        ``STUDIO_SANDBOX_BILLED`` (see ``videos.billing``)."""
        prefix = (settings.STUDIO_SANDBOX_URL or "").rstrip("/")
        if not settings.STUDIO_SANDBOX_ENABLED or not prefix:
            return False
        return self.base_url.rstrip("/") == prefix or self.base_url.startswith(prefix + "/")

    @property
    def gateway_class(self) -> type[Gateway]:
        """The adapter class for this key's dialect (``videos.gateways``); an adapter
        instance that talks to the gateway is ``videos.worker.adapters.adapter_for``."""
        return get_gateway_class(self.dialect)


class Billing(models.TextChoices):
    """Where a generation's money stands: a hold is placed at submission and ends
    exactly once, charged at the final cost or released ("not charged")."""

    UNPRICED = "unpriced", gettext_lazy("Price unknown")
    HELD = "held", gettext_lazy("Held")
    CHARGED = "charged", gettext_lazy("Charged")
    RELEASED = "released", gettext_lazy("Not charged")


class Approval(models.TextChoices):
    """An owner's or admin's yes or no to *spending* on a request before it is sent
    (over the team's approval threshold); not the review of a finished video."""

    NOT_NEEDED = "not_needed", gettext_lazy("Not needed")
    WAITING = "waiting", gettext_lazy("Waiting for approval")
    APPROVED = "approved", gettext_lazy("Approved")
    DECLINED = "declined", gettext_lazy("Declined")


class Review(models.TextChoices):
    """Where a finished video stands at the review desk: the reviewer's verdict."""

    NONE = "none", gettext_lazy("Not reviewed")
    AWAITING = "awaiting", gettext_lazy("Awaiting review")
    ACCEPTED = "accepted", gettext_lazy("Accepted")
    REJECTED = "rejected", gettext_lazy("Rejected")
    CHANGES = "changes", gettext_lazy("Changes requested")


class GenerationQuerySet(models.QuerySet):
    def for_team(self, team) -> GenerationQuerySet:
        return self.filter(team=team)

    def for_cards(self) -> GenerationQuerySet:
        """With what a card or tile shows joined: task, asset, author, reference positions."""
        return self.select_related("task", "asset", "author").prefetch_related(
            models.Prefetch("reference_images", queryset=ReferenceImage.objects.only("pk", "generation_id", "position"))
        )

    def awaiting_review(self) -> GenerationQuerySet:
        """Finished videos sent to review and not yet decided, oldest first."""
        return self.filter(review=Review.AWAITING, task__state=TaskState.COMPLETED).order_by("created_at", "pk")

    def awaiting_approval(self, team=None) -> GenerationQuerySet:
        """Requests waiting for an owner's or admin's approval before they are sent, oldest
        first; of ``team`` only when given (``.count()`` is the Approvals link's number)."""
        waiting = self.filter(approval=Approval.WAITING)
        if team is not None:
            waiting = waiting.filter(team=team)
        return waiting.order_by("created_at", "pk")

    def with_open_notes(self) -> GenerationQuerySet:
        """Each with ``open_notes``: how many of its pinned notes are not resolved (a
        subquery, so it adds no join to the listing it annotates)."""
        counts = (
            Note.objects.filter(generation=models.OuterRef("pk"), parent__isnull=True, resolved_at__isnull=True)
            .order_by()
            .values("generation")
            .annotate(n=models.Count("pk"))
            .values("n")
        )
        return self.annotate(open_notes=Coalesce(models.Subquery(counts), 0))

    def versions_of(self, generation) -> list:
        """``generation``'s version chain inside its team, oldest first: the remix lineage
        followed both ways (its ``parent`` links up to the first version, then every remix
        down from there), at most 50 versions. A remix or retake is the next version."""
        team_rows = self.filter(team_id=generation.team_id)
        root, seen = generation, {generation.pk}
        while root.parent_id is not None and root.parent_id not in seen and len(seen) < 50:
            parent = team_rows.filter(pk=root.parent_id).first()
            if parent is None:
                break
            root = parent
            seen.add(root.pk)
        chain, frontier = [root], [root.pk]
        found = {root.pk}
        while frontier and len(chain) < 50:
            children = list(team_rows.filter(parent_id__in=frontier).exclude(pk__in=found).order_by("created_at", "pk"))
            children = children[: 50 - len(chain)]
            chain.extend(children)
            found.update(c.pk for c in children)
            frontier = [c.pk for c in children]
        return sorted(chain, key=lambda g: (g.created_at, g.pk))


class Generation(models.Model):
    """A member's request: prompt, options and reference images, sent through one key.

    ``options`` holds the dialect-neutral choices (``duration`` in seconds,
    ``aspect_ratio``, ``resolution``) validated by the key's adapter.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="generations")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="generations"
    )
    key = models.ForeignKey(GatewayKey, on_delete=models.SET_NULL, null=True, blank=True, related_name="generations")
    dialect = models.CharField(max_length=32)
    model_name = models.CharField(max_length=80)
    key_label = models.CharField(max_length=80, help_text=gettext_lazy("The key's label when submitted."))
    prompt = models.TextField()
    options = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    estimate_usd = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)
    estimate_words = models.CharField(max_length=300, blank=True)
    cost_usd = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)
    billing = models.CharField(max_length=10, choices=Billing.choices, default=Billing.UNPRICED)
    approval = models.CharField(max_length=10, choices=Approval.choices, default=Approval.NOT_NEEDED)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decline_reason = models.CharField(
        max_length=500,
        blank=True,
        help_text=gettext_lazy("Why an owner or admin declined the spending, told to the requester."),
    )
    billed = models.BooleanField(
        default=True,
        help_text=gettext_lazy("False for a rehearsal on the built-in sandbox: held and charged as not billed."),
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="remixes",
        help_text=gettext_lazy("The generation this one was remixed (or retried) from."),
    )
    review = models.CharField(max_length=20, choices=Review.choices, default=Review.NONE)
    review_comment = models.TextField(blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    favorited_by = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="favorites")
    submission_token = models.CharField(
        max_length=32,
        blank=True,
        editable=False,
        help_text=gettext_lazy("The compose form's one-time token it was made from."),
    )
    frame_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="frame_children",
        help_text=gettext_lazy("The generation whose frame is this one's reference image (its lineage)."),
    )
    frame_time_s = models.FloatField(
        null=True, blank=True, help_text=gettext_lazy("The time of that frame, in seconds.")
    )
    take_group = models.UUIDField(
        null=True, blank=True, db_index=True, help_text=gettext_lazy("The takes made by one submission share this id.")
    )
    take_index = models.PositiveSmallIntegerField(
        default=0, help_text=gettext_lazy("Its place among its group's takes, from 0.")
    )
    chosen_take = models.BooleanField(default=False, help_text=gettext_lazy("The take chosen among its group's."))
    archived = models.BooleanField(
        default=False, help_text=gettext_lazy("Archived away with the other takes of its group.")
    )
    language = models.CharField(
        max_length=15,
        blank=True,
        help_text=gettext_lazy("The language of the page it was requested from; the worker writes its messages in it."),
    )
    fingerprint = models.CharField(
        max_length=64,
        blank=True,
        help_text=gettext_lazy("sha256 of the normalized request: prompt, options, reference images."),
    )

    objects = GenerationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        # Ascending on purpose: read backwards, (created_at, id) serves the newest-first
        # ordering (-created_at, -id) with no sort step (SQLite appends the rowid ascending).
        indexes = [
            models.Index(fields=["team", "created_at", "id"], name="gen_team_created"),
            models.Index(fields=["team", "dialect", "created_at", "id"], name="gen_team_dialect_created"),
            models.Index(fields=["team", "author", "created_at", "id"], name="gen_team_author_created"),
            models.Index(fields=["team", "review", "created_at", "id"], name="gen_team_review_created"),
            models.Index(fields=["team", "fingerprint", "created_at"], name="gen_team_fingerprint_created"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["author", "submission_token"],
                condition=~models.Q(submission_token=""),
                name="one_generation_per_submission",
            )
        ]

    def __str__(self) -> str:
        return self.prompt[:60]

    def speaking(self) -> translation.override:
        """A context in which messages about this request (the worker's failures, a
        gateway's refusal) are written in its ``language``, else the site's ``LANGUAGE_CODE``."""
        return translation.override(self.language or settings.LANGUAGE_CODE)

    @property
    def kind(self) -> str:
        return gettext("image-to-video") if self.reference_images.all() else gettext("text-to-video")

    def changeable_by(self, membership) -> bool:
        """Whether ``membership`` (of this generation's team) may change it: cancel, retry,
        resubmit, abandon, delete. Its author may, and so may owners and admins."""
        return membership is not None and (self.author_id == membership.user_id or membership.can_manage)


@dataclass(frozen=True)
class NewReference:
    """A reference image as the compose form hands it over: an upload already verified
    as an image (``data``, ``content_type``, ``width``/``height`` in pixels), or a
    pasted public ``url``."""

    content_type: str = ""
    data: bytes = b""
    width: int | None = None
    height: int | None = None
    url: str = ""


def reference_upload_to(instance: ReferenceImage, filename: str) -> str:
    return f"references/{instance.generation.team.uuid}/{uuid.uuid4().hex}.{instance.extension}"


class ReferenceImage(models.Model):
    """An image the member gave with the request, kept so the request can be re-sent:
    an upload (``image``) or a pasted public URL (``source_url``)."""

    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="reference_images")
    position = models.PositiveSmallIntegerField(default=0)
    image = models.FileField(upload_to=reference_upload_to, blank=True)
    source_url = models.URLField(
        max_length=2000, blank=True, help_text=gettext_lazy("The member's pasted URL, if any.")
    )
    content_type = models.CharField(max_length=40, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return f"Reference image {self.position} of {self.generation_id}"

    @classmethod
    def store(cls, generation: Generation, position: int, new: NewReference) -> ReferenceImage:
        """Save ``new`` as the ``position``-th reference image of ``generation`` (an upload
        goes to storage; a pasted URL is kept as it is)."""
        ref = cls(
            generation=generation,
            position=position,
            content_type=new.content_type,
            width=new.width,
            height=new.height,
            source_url=new.url,
        )
        if new.data:
            ref.image.save("reference", ContentFile(new.data), save=False)
        ref.save()
        return ref

    @property
    def extension(self) -> str:
        """The file name ending for the image's content type (``png``; ``bin`` if unknown)."""
        return media.extension_for(self.content_type)

    def signed_url(self) -> str:
        """The upload's absolute, signed, expiring URL for gateways that fetch references
        by URL. Raises references.NoPublicAddress when ``STUDIO_PUBLIC_URL`` is unset."""
        return references.signed_url(self.pk, self.extension)


class TaskState(models.TextChoices):
    AWAITING_APPROVAL = "awaiting_approval", gettext_lazy("Awaiting approval")
    PENDING = "pending", gettext_lazy("Waiting to send")
    SUBMITTING = "submitting", gettext_lazy("Sending")
    QUEUED = "queued", gettext_lazy("Queued")
    PROCESSING = "processing", gettext_lazy("Processing")
    ARCHIVING = "archiving", gettext_lazy("Saving video")
    COMPLETED = "completed", gettext_lazy("Completed")
    FAILED = "failed", gettext_lazy("Failed")
    CANCELLED = "cancelled", gettext_lazy("Cancelled")
    NEEDS_ATTENTION = "needs_attention", gettext_lazy("Needs attention")


ACTIVE_STATES = (
    TaskState.AWAITING_APPROVAL,
    TaskState.PENDING,
    TaskState.SUBMITTING,
    TaskState.QUEUED,
    TaskState.PROCESSING,
    TaskState.ARCHIVING,
)
#: The states a task ends in: no lease, no next poll, ``finished_at`` set.
FINAL_STATES = (
    TaskState.COMPLETED,
    TaskState.FAILED,
    TaskState.CANCELLED,
    TaskState.NEEDS_ATTENTION,
)
#: The states the worker's sweep acts on.
SWEEP_STATES = (
    TaskState.PENDING,
    TaskState.SUBMITTING,
    TaskState.QUEUED,
    TaskState.PROCESSING,
    TaskState.ARCHIVING,
)


def ending_fields(now) -> dict:
    """The columns every ending of a task writes, beside its state: the lease and the
    next poll cleared, ``finished_at`` (and ``updated_at``) set to ``now``."""
    return {"lease_token": "", "leased_until": None, "next_poll_at": None, "finished_at": now, "updated_at": now}


def fresh_attempt_fields(state: str, next_poll_at, now) -> dict:
    """The task columns of an attempt that starts from scratch in ``state`` (a retry or
    a resubmit): no gateway id, no lease, no tries, no result yet."""
    return {
        "state": state,
        "external_id": "",
        "status_word": "",
        "progress": 0,
        "result_url": "",
        "attempts": 0,
        "polls": 0,
        "last_error": "",
        "last_raw": None,
        "lease_token": "",
        "leased_until": None,
        "next_poll_at": next_poll_at,
        "submitted_at": None,
        "delivered_seconds": None,
        "finished_at": None,
        "updated_at": now,
    }


class TaskQuerySet(models.QuerySet):
    def active(self) -> TaskQuerySet:
        return self.filter(state__in=ACTIVE_STATES)

    def free(self, now) -> TaskQuerySet:
        """Tasks no worker holds a live lease on at ``now``."""
        return self.filter(models.Q(leased_until__isnull=True) | models.Q(leased_until__lt=now))

    def due(self, now) -> TaskQuerySet:
        """Tasks the sweep should act on at ``now``: in a sweep state, due, and free."""
        return self.filter(state__in=SWEEP_STATES, next_poll_at__lte=now).free(now)

    def end(self, state: str, *, now=None, **fields) -> int:
        """End the matching tasks in ``state`` (one of FINAL_STATES) with ``fields``; the
        number of rows changed (a conditional update: filter on the state you expect)."""
        return self.update(state=state, **ending_fields(now or timezone.now()), **fields)


class Task(models.Model):
    """The job at the gateway, and the worker's bookkeeping for it.

    ``next_poll_at`` is when the sweep next acts on it; ``leased_until`` and
    ``lease_token`` mark a worker's claim (see ``videos.worker.leases``).
    ``attempts`` counts consecutive transient failures (reset on success).
    """

    generation = models.OneToOneField(Generation, on_delete=models.CASCADE, related_name="task")
    state = models.CharField(max_length=20, choices=TaskState.choices, default=TaskState.PENDING)
    external_id = models.CharField(max_length=200, blank=True)
    status_word = models.CharField(max_length=40, blank=True, help_text=gettext_lazy("The gateway's own word."))
    progress = models.PositiveSmallIntegerField(default=0)
    result_url = models.URLField(max_length=2000, blank=True)
    next_poll_at = models.DateTimeField(null=True, blank=True)
    leased_until = models.DateTimeField(null=True, blank=True)
    lease_token = models.CharField(max_length=32, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    polls = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    last_raw = models.JSONField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    delivered_seconds = models.PositiveIntegerField(
        null=True, blank=True, help_text=gettext_lazy("The duration the gateway reports delivering, when it does.")
    )
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TaskQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["state", "next_poll_at"])]

    def __str__(self) -> str:
        return f"Task {self.pk} ({self.state})"

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES


def asset_upload_to(instance: Asset, filename: str) -> str:
    return f"videos/{instance.generation.team.uuid}/{instance.generation.uuid}.mp4"


def poster_upload_to(instance: Asset, filename: str) -> str:
    return f"posters/{instance.generation.team.uuid}/{instance.generation.uuid}.jpg"


class Asset(models.Model):
    """The archived MP4 and its poster, with what probing the file found."""

    generation = models.OneToOneField(Generation, on_delete=models.CASCADE, related_name="asset")
    file = models.FileField(upload_to=asset_upload_to, max_length=300)
    poster = models.FileField(upload_to=poster_upload_to, max_length=300, blank=True)
    duration_s = models.FloatField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    bytes = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    source_url = models.URLField(max_length=2000, blank=True)
    archived_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.generation.uuid}.mp4"


class Event(models.Model):
    """One line of a generation's timeline: a state change, a gateway answer, an error.

    ``data`` is the gateway's answer or our request with secrets stripped.
    """

    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="events")
    created_at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=20)
    state = models.CharField(max_length=20, blank=True)
    message = models.TextField(blank=True)
    data = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.kind}: {self.message[:60]}"


class WorkerLease(models.Model):
    """A named lease held by one worker loop at a time (the poller's sweep loop).
    ``holder`` is ``host:pid`` of the process holding it, so a cluster starting on the same
    host can tell a slot whose holder died (and take it at once) from one in use."""

    name = models.CharField(max_length=40, unique=True)
    token = models.CharField(max_length=32, blank=True)
    leased_until = models.DateTimeField(null=True, blank=True)
    holder = models.CharField(max_length=300, blank=True)

    def __str__(self) -> str:
        return self.name


class Price(models.Model):
    """A price-book line: what one gateway charges per second of video for one model
    (channel) at one resolution, plus a fee per input image.

    ``rounding`` is the gateway's rule: ``exact`` (the product, shown to the cent)
    or ``credits`` (reAPI: ``ceil(rate × seconds × 1000)`` credits of $0.001,
    docs/gateways.md §5, https://reapi.ai). ``source`` and ``read_on`` say where and when the price
    was read. Site admins edit the book in the Django admin.
    """

    class Rounding(models.TextChoices):
        EXACT = "exact", gettext_lazy("Exact (rate × seconds)")
        CREDITS = "credits", gettext_lazy("reAPI credits: ceil(rate × seconds × 1000) × $0.001")

    dialect = models.CharField(max_length=32)
    model = models.CharField(max_length=80)
    resolution = models.CharField(max_length=10, help_text=gettext_lazy("The studio's spelling: 480p, 720p, …"))
    usd_per_second = models.DecimalField(max_digits=10, decimal_places=6)
    usd_per_image = models.DecimalField(max_digits=10, decimal_places=6, default=0)
    rounding = models.CharField(max_length=10, choices=Rounding.choices, default=Rounding.EXACT)
    source = models.CharField(max_length=300)
    read_on = models.DateField()

    class Meta:
        ordering = ["dialect", "model", "resolution"]
        constraints = [models.UniqueConstraint(fields=["dialect", "model", "resolution"], name="unique_price")]

    def __str__(self) -> str:
        return f"{self.dialect} {self.model} {self.resolution}: ${self.usd_per_second}/s"


class TeamPrice(models.Model):
    """A team's own price for one gateway's model at one resolution ('' for a gateway
    without one): it overrides the price book (``Price``) for that team's estimates, holds
    and charges, through the same formula (``videos.billing.estimate``). Set by the team's
    owners and admins (``videos.actions.set_team_price``). Amounts in USD."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="prices")
    dialect = models.CharField(max_length=32)
    model = models.CharField(max_length=80)
    resolution = models.CharField(
        max_length=10, blank=True, help_text=gettext_lazy("The studio's spelling: 480p, 720p, …")
    )
    usd_per_second = models.DecimalField(max_digits=10, decimal_places=6)
    usd_per_image = models.DecimalField(max_digits=10, decimal_places=6, default=0)
    rounding = models.CharField(max_length=10, choices=Price.Rounding.choices, default=Price.Rounding.EXACT)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["dialect", "model", "resolution"]
        constraints = [
            models.UniqueConstraint(fields=["team", "dialect", "model", "resolution"], name="unique_team_price")
        ]

    def __str__(self) -> str:
        return f"{self.team} {self.dialect} {self.model} {self.resolution}: ${self.usd_per_second}/s"


class LedgerQuerySet(models.QuerySet):
    def charges(self, team, since) -> LedgerQuerySet:
        """``team``'s billed charges since ``since`` (an aware datetime): real spend, without
        the sandbox's rehearsals (``rehearsals``)."""
        return self.filter(team=team, kind=LedgerEntry.Kind.CHARGE, created_at__gte=since, billed=True)

    def rehearsals(self, team, since) -> LedgerQuerySet:
        """``team``'s sandbox charges since ``since``: what the real gateway would have cost, not billed."""
        return self.filter(team=team, kind=LedgerEntry.Kind.CHARGE, created_at__gte=since, billed=False)


class LedgerEntry(models.Model):
    """One movement of money: a ``hold`` placed at submission, then exactly one of a
    ``charge`` (the final cost, with the hold closed) or a ``release``.

    Amounts are in USD. Entries are never edited; the generation's ``billing``
    column, changed by conditional updates, guarantees one ending per hold.
    """

    class Kind(models.TextChoices):
        HOLD = "hold", gettext_lazy("Hold")
        CHARGE = "charge", gettext_lazy("Charge")
        RELEASE = "release", gettext_lazy("Release")

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="ledger")
    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="ledger")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    key = models.ForeignKey(GatewayKey, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    key_label = models.CharField(max_length=80)
    dialect = models.CharField(max_length=32)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    amount_usd = models.DecimalField(max_digits=12, decimal_places=6)
    billed = models.BooleanField(
        default=True, help_text=gettext_lazy("False for a sandbox rehearsal: recorded, not billed.")
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = LedgerQuerySet.as_manager()

    class Meta:
        verbose_name_plural = gettext_lazy("ledger entries")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["team", "kind", "created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} ${self.amount_usd} for {self.generation_id}"


class AuditEntry(models.Model):
    """One line of a team's audit trail: who did what, when, to what. Never edited.

    ``action`` is a dotted verb (``key.added``, ``generation.deleted``…); ``target``
    a human label of the object (kept even after it is deleted); ``data`` details
    with secrets stripped.
    """

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="audit")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    action = models.CharField(max_length=40)
    target = models.CharField(max_length=200, blank=True)
    data = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = gettext_lazy("audit entries")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["team", "-created_at"]), models.Index(fields=["team", "action", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.action} {self.target}"


class NotificationQuerySet(models.QuerySet):
    def unread_for(self, user) -> NotificationQuerySet:
        """``user``'s notifications not read yet, from all their teams."""
        return self.filter(user=user, read_at__isnull=True)


class Notification(models.Model):
    """Something a member is told in the studio (and by email when configured)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    message = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self) -> str:
        return self.message


class GatewayCircuit(models.Model):
    """A circuit breaker: polling through ``scope`` (a gateway host or one key) pauses
    until ``open_until`` after repeated failures, and resumes by itself
    (``videos.worker.circuit``)."""

    scope = models.CharField(max_length=300, unique=True, help_text=gettext_lazy("scheme://host:port, or key:<uuid>"))
    failures = models.PositiveIntegerField(default=0)
    trips = models.PositiveIntegerField(default=0)
    open_until = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.scope


# --- webhooks (issue 15, item 3; docs/webhooks.md) -------------------------------------------


class WebhookEvent(models.TextChoices):
    """The events an endpoint can subscribe to (``videos.webhooks.emit``)."""

    GENERATION_COMPLETED = "generation.completed", gettext_lazy("A generation completed")
    GENERATION_FAILED = "generation.failed", gettext_lazy("A generation failed")
    GENERATION_NEEDS_ATTENTION = "generation.needs_attention", gettext_lazy("A generation needs attention")
    GENERATION_REVIEWED = "generation.reviewed", gettext_lazy("A generation was reviewed")
    BUDGET_THRESHOLD_REACHED = "budget.threshold_reached", gettext_lazy("The team's monthly budget reached 80 %")


#: The event "send a test event" delivers; no endpoint subscribes to it.
WEBHOOK_TEST_EVENT = "webhook.test"


class WebhookEndpointQuerySet(models.QuerySet):
    def for_team(self, team) -> WebhookEndpointQuerySet:
        """``team``'s endpoints, enabled or not."""
        return self.filter(team=team)

    def subscribed(self, team, event_type: str) -> WebhookEndpointQuerySet:
        """``team``'s enabled endpoints that subscribed to ``event_type``, as a list (the events
        are a JSON list, which SQLite cannot filter by item)."""
        return [e for e in self.filter(team=team, enabled=True) if event_type in (e.events or [])]


class WebhookEndpoint(models.Model):
    """A URL of a team's that the studio signs and posts events to (Standard Webhooks).

    ``secret_encrypted`` is the Fernet token of the endpoint's signing secret (the raw
    bytes, base64: shown once as ``whsec_<base64>``). ``failing_since`` is when the
    current run of failed attempts began (None after a success); a day of failures
    disables the endpoint with ``disabled_reason``.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=500)
    events = models.JSONField(default=list)
    secret_encrypted = models.TextField(editable=False)
    enabled = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    failing_since = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = WebhookEndpointQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.url

    def set_secret(self, secret_b64: str) -> None:
        """Encrypt and store the base64 signing secret (without ``whsec_``)."""
        self.secret_encrypted = vault.encrypt(secret_b64)

    def reveal(self) -> str:
        """The base64 signing secret (without ``whsec_``). Raises vault.VaultError."""
        return vault.decrypt(self.secret_encrypted)


class WebhookDeliveryQuerySet(models.QuerySet):
    def due(self, now) -> WebhookDeliveryQuerySet:
        """Deliveries whose next attempt is due at ``now``."""
        return self.filter(state=WebhookDelivery.State.PENDING, next_attempt_at__lte=now)


class WebhookDelivery(models.Model):
    """One event for one endpoint and its latest attempt: status code, response time in
    milliseconds, the first kilobyte of the answer (redacted). A redelivery is a new row
    with the same ``msg_id`` (receivers deduplicate on ``webhook-id``)."""

    class State(models.TextChoices):
        PENDING = "pending", gettext_lazy("Pending")
        DELIVERED = "delivered", gettext_lazy("Delivered")
        FAILED = "failed", gettext_lazy("Failed")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event_type = models.CharField(max_length=40)
    msg_id = models.CharField(max_length=40)
    payload = models.JSONField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_ms = models.PositiveIntegerField(null=True, blank=True)
    response_excerpt = models.TextField(blank=True)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = WebhookDeliveryQuerySet.as_manager()

    class Meta:
        verbose_name_plural = gettext_lazy("webhook deliveries")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="hook_delivery_due"),
            models.Index(fields=["endpoint", "-created_at"], name="hook_delivery_log"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.msg_id}"


# --- share links (issue 14): a video shown to people outside the team -----------------------


class ShareLinkQuerySet(models.QuerySet):
    def live(self, now=None) -> ShareLinkQuerySet:
        """Links a guest may open right now: not revoked, not expired (checked on every
        request, never cached, so a revoked or expired link is refused at once)."""
        return self.filter(revoked_at__isnull=True, expires_at__gt=now or timezone.now())


class ShareLink(models.Model):
    """A link (``/s/<token>/``) that shows one video to people outside the team, no login.

    Only the SHA-256 of the token is stored (``token_hash``) with its first 6 characters
    (``prefix``, to tell links apart); the token itself is shown once, when it is made.
    ``generation`` is what it shows, or ``board`` (exactly one is set, a check
    constraint): then the guest page lists the board's finished videos. ``expires_at`` is
    required (at most ``MAX_SHARE_DAYS`` days ahead, checked by ``actions.create_share_link``);
    ``password_hash`` is Django's ``make_password`` hash, empty for no password.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="share_links")
    generation = models.ForeignKey(
        Generation, on_delete=models.CASCADE, null=True, blank=True, related_name="share_links"
    )
    board = models.ForeignKey("Board", on_delete=models.CASCADE, null=True, blank=True, related_name="share_links")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=8, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    password_hash = models.CharField(max_length=128, blank=True, editable=False)
    allow_notes = models.BooleanField(default=True)
    allow_download = models.BooleanField(default=False)

    objects = ShareLinkQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(generation__isnull=False, board__isnull=True)
                    | models.Q(generation__isnull=True, board__isnull=False)
                ),
                name="share_link_generation_or_board",
            ),
        ]

    def __str__(self) -> str:
        return f"share link {self.prefix}…"

    @staticmethod
    def hash_token(token: str) -> str:
        """The stored form of a share token: its SHA-256, 64 hex digits."""
        return hashlib.sha256(token.encode()).hexdigest()

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


class GuestNote(models.Model):
    """A note a guest left through a share link, under a name they typed (plain text,
    markup stripped). ``time_s`` is the video time code in seconds it is pinned to
    (None: the whole video); ``address_hash`` the salted SHA-256 of the guest's address,
    for rate limits and the audit trail, never the address itself."""

    share_link = models.ForeignKey(ShareLink, on_delete=models.CASCADE, related_name="guest_notes")
    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="guest_notes")
    guest_name = models.CharField(max_length=60)
    time_s = models.FloatField(null=True, blank=True)
    body = models.TextField(max_length=2000)
    address_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.guest_name} (guest): {self.body[:40]}"


# --- frames and sequences (issue 13) ---------------------------------------------------------


def frame_upload_to(instance: Frame, filename: str) -> str:
    return f"frames/{instance.team.uuid}/{uuid.uuid4().hex}.png"


class Frame(models.Model):
    """A frame of a finished video, decoded at ``time_s`` seconds and kept as a PNG, to be the
    reference image of a new generation (``videos.actions.frame_as_reference``)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="frames")
    time_s = models.FloatField(help_text=gettext_lazy("Where the frame was taken, in seconds from the start."))
    index = models.PositiveIntegerField(help_text=gettext_lazy("The frame's number in the video, from 0."))
    image = models.FileField(upload_to=frame_upload_to, max_length=300)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Frame {self.time_s:.2f} s of {self.generation_id}"


class RenderState(models.TextChoices):
    NONE = "none", gettext_lazy("Not rendered")
    QUEUED = "queued", gettext_lazy("Waiting to render")
    RENDERING = "rendering", gettext_lazy("Rendering")
    DONE = "done", gettext_lazy("Rendered")
    FAILED = "failed", gettext_lazy("Render failed")


def render_upload_to(instance: Sequence, filename: str) -> str:
    return f"sequences/{instance.team.uuid}/{instance.uuid}-{uuid.uuid4().hex[:8]}.mp4"


def render_poster_upload_to(instance: Sequence, filename: str) -> str:
    return f"posters/{instance.team.uuid}/sequence-{instance.uuid}-{uuid.uuid4().hex[:8]}.jpg"


class SequenceQuerySet(models.QuerySet):
    def for_team(self, team) -> SequenceQuerySet:
        return self.filter(team=team)


class Sequence(models.Model):
    """An ordered list of shots (the team's finished generations), rendered to one MP4 in the
    background (``videos.worker.render``), archived like an asset: file, poster, bytes,
    SHA-256, duration in seconds, size in pixels. ``render_token`` names the render that may
    write the result; a change to the shots or a new render replaces it."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="sequences")
    name = models.CharField(max_length=120)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    render_state = models.CharField(max_length=12, choices=RenderState.choices, default=RenderState.NONE)
    render_progress = models.PositiveSmallIntegerField(default=0, help_text=gettext_lazy("Percent of the render done."))
    render_error = models.CharField(max_length=300, blank=True)
    render_token = models.CharField(max_length=32, blank=True)
    render_mode = models.CharField(max_length=20, blank=True, help_text=gettext_lazy("remux or reencode"))
    render_requested_at = models.DateTimeField(null=True, blank=True)
    video = models.FileField(upload_to=render_upload_to, max_length=300, blank=True)
    poster = models.FileField(upload_to=render_poster_upload_to, max_length=300, blank=True)
    video_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    video_sha256 = models.CharField(max_length=64, blank=True)
    video_duration_s = models.FloatField(null=True, blank=True)
    video_width = models.PositiveIntegerField(null=True, blank=True)
    video_height = models.PositiveIntegerField(null=True, blank=True)
    rendered_at = models.DateTimeField(null=True, blank=True)

    objects = SequenceQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_rendering(self) -> bool:
        return self.render_state in (RenderState.QUEUED, RenderState.RENDERING)


class Shot(models.Model):
    """One generation's place in a sequence (``position`` from 0, kept gapless)."""

    sequence = models.ForeignKey(Sequence, on_delete=models.CASCADE, related_name="shots")
    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="shots")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return f"Shot {self.position + 1} of {self.sequence_id}"


# --- boards and the prompt library (issue 13) ------------------------------------------------


class BoardQuerySet(models.QuerySet):
    def for_team(self, team) -> BoardQuerySet:
        return self.filter(team=team)


class Board(models.Model):
    """A team's board (a project): generations grouped under a name, with a description
    and a cover (one of its generations' posters). Its spend is the sum of its
    generations' billed charges in the ledger (``billing.board_spend``)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="boards")
    name = models.CharField(max_length=80)
    description = models.TextField(blank=True, max_length=2000)
    cover = models.ForeignKey(Generation, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created = models.DateTimeField(default=timezone.now)

    objects = BoardQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]
        constraints = [models.UniqueConstraint(fields=["team", "name"], name="one_board_name_per_team")]

    def __str__(self) -> str:
        return self.name


class BoardItem(models.Model):
    """One generation or one sequence on a board, once: exactly one of ``generation`` and
    ``sequence`` is set (a check constraint), each unique per board."""

    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="items")
    generation = models.ForeignKey(
        Generation, on_delete=models.CASCADE, null=True, blank=True, related_name="board_items"
    )
    sequence = models.ForeignKey(Sequence, on_delete=models.CASCADE, null=True, blank=True, related_name="board_items")
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    added = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-added", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["board", "generation"], name="one_board_item_per_generation"),
            models.UniqueConstraint(fields=["board", "sequence"], name="one_board_item_per_sequence"),
            models.CheckConstraint(
                condition=(
                    models.Q(generation__isnull=False, sequence__isnull=True)
                    | models.Q(generation__isnull=True, sequence__isnull=False)
                ),
                name="board_item_generation_or_sequence",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.generation_id or self.sequence_id} on {self.board_id}"


class PromptTemplateQuerySet(models.QuerySet):
    def for_team(self, team) -> PromptTemplateQuerySet:
        return self.filter(team=team)


class PromptTemplate(models.Model):
    """A prompt of the team's library with the compose form's options: ``dialect`` and
    ``model`` it was written for, ``options`` the dialect-neutral choices (``duration`` in
    seconds, ``aspect_ratio``, ``resolution``, ``audio``), ``tags`` a list of words.
    Each use (a generation made from it) is a ``TemplateUse``."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="prompt_templates")
    name = models.CharField(max_length=80)
    tags = models.JSONField(default=list, blank=True)
    prompt = models.TextField(max_length=20000)
    dialect = models.CharField(max_length=32)
    model = models.CharField(max_length=80)
    options = models.JSONField(default=dict)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created = models.DateTimeField(default=timezone.now)

    objects = PromptTemplateQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]
        constraints = [models.UniqueConstraint(fields=["team", "name"], name="one_template_name_per_team")]

    def __str__(self) -> str:
        return self.name


class TemplateUse(models.Model):
    """A generation made from a prompt template: by whom and when."""

    template = models.ForeignKey(PromptTemplate, on_delete=models.CASCADE, related_name="uses")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    generation = models.OneToOneField(
        Generation, on_delete=models.SET_NULL, null=True, blank=True, related_name="template_use"
    )
    used_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-used_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.template_id} by {self.user_id}"


# --- notes on the timeline (issue 14, item 1) ------------------------------------------------


class NoteQuerySet(models.QuerySet):
    def pinned(self) -> NoteQuerySet:
        """Notes pinned to the timeline (not replies), in time-code order."""
        return self.filter(parent__isnull=True).order_by("time_s", "created_at", "pk")

    def open(self) -> NoteQuerySet:
        """Pinned notes not resolved yet, in time-code order."""
        return self.pinned().filter(resolved_at__isnull=True)


class Note(models.Model):
    """A note on a finished video, pinned to a time code ``time_s`` (seconds from the
    start), optionally covering a range up to ``end_s``; or, with ``parent``, a reply to
    one (a reply has no time code of its own). ``body`` is plain text. A note is open
    until ``resolved_at``; reopening clears it. ``guest_name`` names a guest author
    (someone outside the team, through a share link) where ``author`` is empty."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="notes")
    parent = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True, related_name="replies")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    guest_name = models.CharField(
        max_length=80, blank=True, default="", help_text=gettext_lazy("A guest author's typed name.")
    )
    time_s = models.FloatField(
        null=True, blank=True, help_text=gettext_lazy("Seconds from the start; empty for a reply.")
    )
    end_s = models.FloatField(
        null=True, blank=True, help_text=gettext_lazy("The end of the range it covers, in seconds.")
    )
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = NoteQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["generation", "parent", "resolved_at"], name="note_open")]

    def __str__(self) -> str:
        return self.body[:60]

    @property
    def is_open(self) -> bool:
        """True until it is resolved (and again once it is reopened)."""
        return self.resolved_at is None

    def resolvable_by(self, membership) -> bool:
        """Whether ``membership`` (of the video's team) may resolve or reopen this note: the
        note's author, the video's author, owners and admins may."""
        if membership is None:
            return False
        return membership.user_id in (self.author_id, self.generation.author_id) or membership.can_manage

    @property
    def by(self) -> str:
        """Who wrote it: the member's username, or the guest's name."""
        if self.author is not None:
            return self.author.get_username()
        return self.guest_name or gettext_lazy("deleted user")
