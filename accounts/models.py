"""Users, teams and their members, and members' personal access tokens for the API.

Everything a member makes belongs to a team; a user reaches a team only through a
``Membership`` whose role decides what they may do there.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy


class User(AbstractUser):
    """The studio's user (custom from the first migration, so it can grow)."""

    email = models.EmailField(gettext_lazy("email address"), blank=True)
    #: The team this user last worked in: where the next login lands (``accounts.middleware``).
    last_team = models.ForeignKey(
        "Team", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    #: The IANA name (``Asia/Shanghai``) every date and time on this user's pages is shown in;
    #: blank: not set yet (the server's ``TIME_ZONE`` until the browser reports one). Kept valid
    #: by ``accounts.actions.set_time_zone``.
    time_zone = models.CharField(gettext_lazy("time zone"), max_length=64, blank=True, editable=False)
    #: The language of this user's pages, one of ``settings.LANGUAGES``; blank: the browser's.
    language = models.CharField(
        gettext_lazy("language"), max_length=15, blank=True, choices=settings.LANGUAGES, editable=False
    )

    #: The language their browser last asked for (``Accept-Language``, as ``LocaleMiddleware``
    #: matched it to ``settings.LANGUAGES``) while they had chosen none; kept by
    #: ``accounts.actions.remember_browser_language`` so what reaches them later (a
    #: notification, an email) is in it too.
    browser_language = models.CharField(max_length=15, blank=True, editable=False)

    @property
    def interface_language(self) -> str:
        """The language code to write to this user in when they are not the one asking (a
        notification, an email): the one they chose, else the one their browser last asked
        for, else the site's ``LANGUAGE_CODE``."""
        return self.language or self.browser_language or settings.LANGUAGE_CODE


class Role(models.TextChoices):
    OWNER = "owner", pgettext_lazy("role", "Owner")
    ADMIN = "admin", pgettext_lazy("role", "Admin")
    MEMBER = "member", pgettext_lazy("role", "Member")
    VIEWER = "viewer", pgettext_lazy("role", "Viewer")


class UnpricedPolicy(models.TextChoices):
    """What happens to a request whose price is unknown while a budget or cap is set:
    a budget cannot count what it cannot price, so such a request is never sent unaccounted."""

    APPROVAL = "approval", gettext_lazy("Hold it for an owner's or admin's approval")
    REFUSE = "refuse", gettext_lazy("Refuse it")


class Team(models.Model):
    """A group of users sharing one history of generations; every generation belongs to one."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)
    members = models.ManyToManyField(User, through="Membership", related_name="teams")
    monthly_budget_usd = models.DecimalField(
        gettext_lazy("monthly budget (USD)"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=gettext_lazy("Charges plus open holds this calendar month may not exceed this. Empty: no limit."),
    )
    approval_threshold_usd = models.DecimalField(
        gettext_lazy("approval threshold (USD)"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=gettext_lazy(
            "A request estimated above this waits for an owner or admin to approve it. Empty: none."
        ),
    )
    unpriced_policy = models.CharField(
        gettext_lazy("requests of unknown price"),
        max_length=10,
        choices=UnpricedPolicy.choices,
        default=UnpricedPolicy.APPROVAL,
        help_text=gettext_lazy(
            "While a team budget or a member's cap is set, a request the price book cannot price is "
            "held for approval or refused."
        ),
    )
    export_approved_only = models.BooleanField(
        gettext_lazy("only approved videos leave the studio"),
        default=False,
        help_text=gettext_lazy(
            "ZIP downloads, single downloads and share links carry only videos whose review was accepted."
        ),
    )

    def __str__(self) -> str:
        return self.name

    @classmethod
    @transaction.atomic
    def create_personal(cls, user: User) -> Team:
        """Create ``user``'s own team, with ``user`` as its owner."""
        team = cls.objects.create(name=_("%(username)s's team") % {"username": user.get_username()})
        Membership.objects.create(team=team, user=user, role=Role.OWNER)
        return team


class Membership(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    joined_at = models.DateTimeField(auto_now_add=True)
    monthly_cap_usd = models.DecimalField(
        gettext_lazy("monthly cap (USD)"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=gettext_lazy("This member's charges plus open holds this month may not exceed this. Empty: no cap."),
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "user"], name="unique_membership")]

    def __str__(self) -> str:
        return f"{self.user} in {self.team} ({self.role})"

    @property
    def can_manage(self) -> bool:
        """Owners and admins invite members and review generations."""
        return self.role in {Role.OWNER, Role.ADMIN}

    @property
    def can_generate(self) -> bool:
        """Everyone but viewers may submit generations."""
        return self.role != Role.VIEWER


def _invite_token() -> str:
    return secrets.token_urlsafe(24)


def _invite_expiry():
    return timezone.now() + timedelta(days=7)


class Invitation(models.Model):
    """A link that lets whoever opens it join ``team`` with ``role`` (logged in, or by
    signing up or logging in from it: ``accounts.views.accept_invite``).

    Valid for 7 days and for one use.
    """

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="invitations")
    token = models.CharField(max_length=64, unique=True, default=_invite_token, editable=False)
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(default=_invite_expiry)
    accepted_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    accepted_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Invitation to {self.team} as {self.role}"

    @property
    def is_usable(self) -> bool:
        return self.accepted_at is None and self.expires_at > timezone.now()

    def accept(self, user: User) -> Membership | None:
        """Join ``user`` to the team; return the membership, or None when the link is spent.

        The claim is a conditional update, so one link admits one user even when
        opened twice at once. A user already in the team keeps their role.
        """
        with transaction.atomic():
            claimed = Invitation.objects.filter(
                pk=self.pk, accepted_at__isnull=True, expires_at__gt=timezone.now()
            ).update(accepted_at=timezone.now(), accepted_by=user)
            if claimed != 1:
                return None
            membership, _ = Membership.objects.get_or_create(team=self.team, user=user, defaults={"role": self.role})
            return membership


class Scope(models.TextChoices):
    """What an access token may be used for; its member's role still decides what they may do."""

    READ = "read", pgettext_lazy("token scope", "Read")
    GENERATE = "generate", pgettext_lazy("token scope", "Generate")
    REVIEW = "review", pgettext_lazy("token scope", "Review")
    ADMIN = "admin", pgettext_lazy("token scope", "Admin")


#: How an access token starts: the prefix (kept for lookup and display) follows it.
TOKEN_MARK = "stk_"
#: The longest an access token may live.
TOKEN_MAX_DAYS = 365


class AccessTokenQuerySet(models.QuerySet):
    def usable(self, now=None) -> AccessTokenQuerySet:
        """Tokens not revoked and not expired at ``now``."""
        return self.filter(revoked_at__isnull=True, expires_at__gt=now or timezone.now())


class AccessToken(models.Model):
    """A member's personal access token for the API (``/api/v1/``) in one team.

    The token is ``stk_<prefix>_<secret>``, shown once when made; only its ``prefix``
    (8 characters, for lookup and display) and the SHA-256 ``digest`` of the whole token
    are stored. ``scopes`` is a list of ``Scope`` values. It is refused once
    ``expires_at`` has passed or ``revoked_at`` is set, and whenever its user is no
    longer a member of ``team``; it never does more than the member's role allows.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="access_tokens")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="access_tokens")
    name = models.CharField(max_length=80)
    prefix = models.CharField(max_length=8, unique=True, editable=False)
    digest = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = AccessTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.display})"

    @property
    def scope_labels(self) -> list[str]:
        """Its scopes' names in the reader's language (an unknown value as it is)."""
        known = dict(Scope.choices)
        return [str(known.get(scope, scope)) for scope in self.scopes]

    @property
    def display(self) -> str:
        """How the token is shown after it was made: ``stk_ab12cd34_…``."""
        return f"{TOKEN_MARK}{self.prefix}_…"

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()

    @staticmethod
    def digest_of(plain: str) -> str:
        """The SHA-256 hex digest a token is stored as."""
        return hashlib.sha256(plain.encode("utf-8", "surrogatepass")).hexdigest()

    @classmethod
    def new(cls, **fields) -> tuple[AccessToken, str]:
        """An unsaved token with a fresh prefix and secret, and its plain text (shown once)."""
        prefix = secrets.token_hex(4)
        plain = f"{TOKEN_MARK}{prefix}_{secrets.token_urlsafe(32)}"
        return cls(prefix=prefix, digest=cls.digest_of(plain), **fields), plain

    @classmethod
    def find(cls, plain: str) -> AccessToken | None:
        """The token ``plain`` is (revoked or expired ones too: the caller says which), or
        None when it is no token of ours. The digest is compared in constant time."""
        if not plain.startswith(TOKEN_MARK) or len(plain) > 200:
            return None
        prefix = plain[len(TOKEN_MARK) : len(TOKEN_MARK) + 8]
        if len(prefix) != 8 or any(ch not in "0123456789abcdef" for ch in prefix):
            return None  # never a query with what no prefix can be (NUL breaks PostgreSQL)
        token = cls.objects.select_related("user", "team").filter(prefix=prefix).first()
        if token is None or not hmac.compare_digest(token.digest, cls.digest_of(plain)):
            return None
        return token
