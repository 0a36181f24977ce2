"""Admin: keys are shown masked and read-only; generations with their poster, task and
timeline, and bulk review decisions; the audit trail read-only; teams' prices, share links
(revoked through the studio's own action), guest notes, webhook endpoints (disabled through
theirs) and deliveries to read. Nothing is edited here that a team's own pages decide."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from videos import actions
from videos.lib.files import serve_file
from videos.models import (
    Asset,
    AuditEntry,
    Event,
    GatewayKey,
    Generation,
    GuestNote,
    LedgerEntry,
    Price,
    Review,
    ShareLink,
    Task,
    TeamPrice,
    WebhookDelivery,
    WebhookEndpoint,
)


@admin.register(GatewayKey)
class GatewayKeyAdmin(admin.ModelAdmin):
    list_display = ["label", "dialect", "owner", "team", "masked", "base_url", "updated_at"]
    list_filter = ["dialect"]
    search_fields = ["label", "owner__username", "team__name"]
    fields = ["label", "dialect", "owner", "team", "base_url", "masked", "created_at", "updated_at"]
    readonly_fields = ["masked", "created_at", "updated_at", "owner", "team", "dialect"]

    @admin.display(description=_("Key"))
    def masked(self, obj):
        return obj.masked

    def has_add_permission(self, request):  # secrets are entered only by their owner
        return False


class TaskInline(admin.StackedInline):
    model = Task
    extra = 0
    can_delete = False
    readonly_fields = [f.name for f in Task._meta.fields if f.name != "id"]


class EventInline(admin.TabularInline):
    model = Event
    extra = 0
    can_delete = False
    readonly_fields = ["created_at", "kind", "state", "message", "data"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Generation)
class GenerationAdmin(admin.ModelAdmin):
    list_display = ["thumbnail", "created_at", "team", "author", "dialect", "state", "review", "short_prompt"]
    list_display_links = ["thumbnail", "created_at"]
    list_filter = ["dialect", "task__state", "review"]
    search_fields = ["prompt"]
    list_select_related = ["team", "author", "task", "asset"]
    actions = ["accept_review", "reject_review"]
    readonly_fields = [
        "uuid",
        "team",
        "author",
        "key",
        "dialect",
        "model_name",
        "key_label",
        "prompt",
        "options",
        "created_at",
        # Money changes only through the ledger's own actions (hold, charge, release).
        "estimate_usd",
        "estimate_words",
        "cost_usd",
        "billing",
        "approval",
        "approved_by",
        "decline_reason",
        "billed",
        "submission_token",
        # Review decisions go through the actions below (audited, author notified).
        "review",
        "review_comment",
        "reviewed_by",
        "reviewed_at",
    ]
    inlines = [TaskInline, EventInline]

    @admin.display(description=_("Poster"))
    def thumbnail(self, obj):
        asset = getattr(obj, "asset", None)
        if asset is None or not asset.poster:
            return "—"
        return format_html(
            '<img src="{}" alt="" width="96" height="54" loading="lazy">',
            reverse("admin:videos_generation_poster", args=[obj.uuid]),
        )

    def get_urls(self):
        poster = self.admin_site.admin_view(self.poster_view)
        return [path("<uuid:uuid>/poster.jpg", poster, name="videos_generation_poster"), *super().get_urls()]

    def poster_view(self, request, uuid):
        """The poster for staff, whatever their teams (the studio's own URL is team-scoped)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        asset = Asset.objects.filter(generation__uuid=uuid).exclude(poster="").first()
        if asset is None:
            raise Http404
        return serve_file(request, asset.poster, content_type="image/jpeg", filename=f"{uuid}.jpg")

    @admin.display(description=_("State"), ordering="task__state")
    def state(self, obj):
        return obj.task.get_state_display()

    @admin.display(description=_("Prompt"))
    def short_prompt(self, obj):
        return obj.prompt[:80]

    def _decide(self, request, queryset, verdict: str, comment: str) -> None:
        decided = sum(
            actions.decide_review(generation, request.user, verdict, comment, via="admin")
            for generation in queryset.select_related("team", "author")
        )
        skipped = len(queryset) - decided
        if verdict == Review.ACCEPTED:
            said = ngettext("Accepted %(n)d generation(s).", "Accepted %(n)d generation(s).", decided)
        else:
            said = ngettext("Rejected %(n)d generation(s).", "Rejected %(n)d generation(s).", decided)
        self.message_user(request, said % {"n": decided}, messages.SUCCESS)
        if skipped:
            warning = ngettext(
                "Skipped %(n)d: not completed and awaiting review.",
                "Skipped %(n)d: not completed and awaiting review.",
                skipped,
            )
            self.message_user(request, warning % {"n": skipped}, messages.WARNING)

    @admin.action(description=_("Accept selected generations awaiting review"), permissions=["change"])
    def accept_review(self, request, queryset):
        self._decide(request, queryset, Review.ACCEPTED, "")

    @admin.action(description=_("Reject selected generations awaiting review"), permissions=["change"])
    def reject_review(self, request, queryset):
        # Stored on the review and read by its author in whichever language they use: kept in English.
        self._decide(request, queryset, Review.REJECTED, "Rejected by a site administrator.")


@admin.register(Asset)
class AssetAdmin(admin.ModelAdmin):
    list_display = ["generation", "width", "height", "duration_s", "bytes", "archived_at"]
    readonly_fields = [f.name for f in Asset._meta.fields]


@admin.register(Price)
class PriceAdmin(admin.ModelAdmin):
    """The price book: site admins add and correct prices here."""

    list_display = [
        "dialect",
        "model",
        "resolution",
        "usd_per_second",
        "usd_per_image",
        "rounding",
        "read_on",
        "source",
    ]
    list_filter = ["dialect", "rounding"]
    list_editable = ["usd_per_second", "usd_per_image"]
    search_fields = ["model", "source"]


class AppendOnlyAdmin(admin.ModelAdmin):
    """For append-only records: listed and read, never added, edited or deleted here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(LedgerEntry)
class LedgerEntryAdmin(AppendOnlyAdmin):
    """The ledger is append-only: entries are read here, never edited."""

    list_display = ["created_at", "team", "member", "key_label", "dialect", "kind", "amount_usd", "generation"]
    list_filter = ["kind", "dialect"]
    list_select_related = ["team", "member", "generation"]


@admin.register(AuditEntry)
class AuditEntryAdmin(AppendOnlyAdmin):
    """The audit trail is append-only: entries are read here, never added, edited or deleted."""

    list_display = ["created_at", "team", "actor", "action", "target"]
    list_filter = ["action"]
    search_fields = ["target", "actor__username", "team__name"]
    list_select_related = ["team", "actor"]
    date_hierarchy = "created_at"


@admin.register(TeamPrice)
class TeamPriceAdmin(AppendOnlyAdmin):
    """A team's own prices, set on its Spend → Prices page (``actions.set_team_price``)."""

    list_display = [
        "team",
        "dialect",
        "model",
        "resolution",
        "usd_per_second",
        "usd_per_image",
        "rounding",
        "updated_at",
    ]
    list_filter = ["dialect", "rounding"]
    search_fields = ["team__name", "model"]
    list_select_related = ["team"]


@admin.register(ShareLink)
class ShareLinkAdmin(AppendOnlyAdmin):
    """Share links: who shared what, until when. Only a hash of each token is stored, so a
    link cannot be opened from here; *Revoke* ends it as the team's own button does."""

    list_display = ["prefix", "team", "generation", "board", "created_by", "created_at", "expires_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["prefix", "team__name"]
    list_select_related = ["team", "generation", "board", "created_by"]
    exclude = ["token_hash", "password_hash"]
    actions = ["revoke"]

    @admin.action(description=_("Revoke the selected share links"))
    def revoke(self, request, queryset):
        revoked = sum(actions.revoke_share_link(link, request.user) for link in queryset)
        self.message_user(
            request, ngettext("Revoked %(n)d share link.", "Revoked %(n)d share links.", revoked) % {"n": revoked}
        )


@admin.register(GuestNote)
class GuestNoteAdmin(AppendOnlyAdmin):
    """Notes guests left through a share link (the address is kept only as a hash)."""

    list_display = ["created_at", "guest_name", "generation", "share_link", "time_s"]
    search_fields = ["guest_name", "body"]
    list_select_related = ["generation", "share_link"]
    exclude = ["address_hash"]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(AppendOnlyAdmin):
    """A team's webhook endpoints (the signing secret is never shown); *Disable* stops new
    deliveries as the team's own switch does."""

    list_display = ["url", "team", "enabled", "disabled_reason", "failing_since", "created_by", "created_at"]
    list_filter = ["enabled"]
    search_fields = ["url", "team__name"]
    list_select_related = ["team", "created_by"]
    exclude = ["secret_encrypted"]
    actions = ["disable"]

    @admin.action(description=_("Disable the selected endpoints"))
    def disable(self, request, queryset):
        disabled = sum(actions.set_endpoint_enabled(endpoint, request.user, False) for endpoint in queryset)
        self.message_user(
            request,
            ngettext("Disabled %(n)d endpoint.", "Disabled %(n)d endpoints.", disabled) % {"n": disabled},
        )


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(AppendOnlyAdmin):
    """Each delivery of an event to an endpoint, with its attempts and the answer."""

    list_display = ["created_at", "event_type", "endpoint", "state", "attempts", "status_code", "response_ms"]
    list_filter = ["state", "event_type"]
    list_select_related = ["endpoint"]
