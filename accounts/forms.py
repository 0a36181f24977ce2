import unicodedata
from datetime import UTC, datetime, time, timedelta

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, UserCreationForm
from django.core.exceptions import ValidationError
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts import throttle
from accounts.models import TOKEN_MAX_DAYS, Role, Scope, Team, UnpricedPolicy, User
from videos.lib.zones import grouped_time_zones


class ThrottledLoginMixin:
    """Refuses a sign-in over the throttle's budgets (``accounts.throttle``) before the
    password is checked, with the error code ``throttled``; ``retry_after`` holds the
    seconds to wait."""

    retry_after = 0

    def clean(self):
        username, password = self.cleaned_data.get("username"), self.cleaned_data.get("password")
        if not username or not password or self.request is None:
            return super().clean()  # no password is checked: nothing to count
        attempt = throttle.begin(self.request, username)
        if attempt.refused:
            self.retry_after = attempt.retry_after
            raise ValidationError(throttle.refusal_message(attempt.retry_after), code="throttled")
        try:
            cleaned_data = super().clean()
        except ValidationError:
            attempt.failed()
            raise
        attempt.succeeded()
        return cleaned_data


class LoginForm(ThrottledLoginMixin, AuthenticationForm):
    pass


class AdminLoginForm(ThrottledLoginMixin, AdminAuthenticationForm):
    pass


class SignupForm(UserCreationForm):
    class Meta(UserCreationForm.Meta):
        model = User
        fields = ["username", "email"]


class ThrottledPasswordResetForm(PasswordResetForm):
    """Django's reset form, counted by ``throttle.begin_reset`` before any mail is sent:
    over the budget it is refused with the error code ``throttled`` and ``retry_after``
    holds the seconds to wait. ``request`` is the view's request."""

    retry_after = 0

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request

    def clean(self):
        cleaned_data = super().clean()
        email = cleaned_data.get("email")
        if email and self.request is not None:
            self.retry_after = throttle.begin_reset(self.request, email)
            if self.retry_after:
                raise ValidationError(throttle.reset_refusal_message(self.retry_after), code="throttled")
        return cleaned_data

    def send_mail(self, subject_template_name, email_template_name, context, *args, **kwargs):
        """Django's mail, written in the language the account's user chose (else the asker's)."""
        language = getattr(context.get("user"), "language", "") or translation.get_language()
        with translation.override(language):
            super().send_mail(subject_template_name, email_template_name, context, *args, **kwargs)


class InviteForm(forms.Form):
    """The role of a new invitation link, among ``roles``: those the inviter may give
    (``accounts.actions.invitable_roles``), so a posted role outside them is invalid."""

    role = forms.ChoiceField(label=_("Role"), choices=(), initial=Role.MEMBER)

    def __init__(self, *args, roles: list[Role], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(r.value, r.label) for r in roles]


class TeamForm(forms.ModelForm):
    """A team's name: for a new team, and for renaming one (blank or whitespace refused)."""

    class Meta:
        model = Team
        fields = ["name"]
        labels = {"name": _("Team name")}


def _usd_field(label, help_text="") -> forms.DecimalField:
    return forms.DecimalField(
        label=label, required=False, min_value=0, max_digits=12, decimal_places=2, help_text=help_text
    )


class BudgetForm(forms.Form):
    """The team's monthly budget, approval threshold and each member's monthly cap (USD).

    An empty field means no limit.
    """

    monthly_budget_usd = _usd_field(_("Team monthly budget (USD)"), _("Empty: no limit."))
    approval_threshold_usd = _usd_field(
        _("Approval threshold (USD)"), _("Requests estimated above this wait for an owner or admin. Empty: none.")
    )
    unpriced_policy = forms.ChoiceField(
        label=_("Requests of unknown price"),
        required=False,  # left out of a post: unchanged
        choices=UnpricedPolicy.choices,
        help_text=_(
            "While a budget or a cap is set, a request with no price in the price book cannot be counted: "
            "hold it for an owner's or admin's approval, or refuse it."
        ),
    )

    def __init__(self, *args, team: Team, **kwargs):
        super().__init__(*args, **kwargs)
        self.team = team
        self.memberships = list(team.memberships.select_related("user").order_by("joined_at"))
        self.initial.setdefault("monthly_budget_usd", team.monthly_budget_usd)
        self.initial.setdefault("approval_threshold_usd", team.approval_threshold_usd)
        self.initial.setdefault("unpriced_policy", team.unpriced_policy)
        for membership in self.memberships:
            name = f"cap_{membership.pk}"
            self.fields[name] = _usd_field(
                gettext("Monthly cap for %(username)s (USD)") % {"username": membership.user.get_username()}
            )
            self.initial.setdefault(name, membership.monthly_cap_usd)

    def clean_unpriced_policy(self) -> str:
        return self.cleaned_data.get("unpriced_policy") or self.team.unpriced_policy

    def save(self) -> None:
        data = self.cleaned_data
        Team.objects.filter(pk=self.team.pk).update(
            monthly_budget_usd=data["monthly_budget_usd"],
            approval_threshold_usd=data["approval_threshold_usd"],
            unpriced_policy=data["unpriced_policy"] or self.team.unpriced_policy,
        )
        for membership in self.memberships:
            membership.monthly_cap_usd = data[f"cap_{membership.pk}"]
            membership.save(update_fields=["monthly_cap_usd"])


class PreferencesForm(forms.Form):
    """A member's time zone (an IANA name from the tz database, grouped by region; blank:
    the server's zone) and language (one of ``settings.LANGUAGES``; blank: the browser's).
    Any other posted value is invalid, with the error next to its field."""

    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        required=False,
        error_messages={"invalid_choice": _("“%(value)s” is not a time zone: choose one from the list.")},
        help_text=_("Every date and time on your pages is shown in it."),
    )
    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        error_messages={"invalid_choice": _("Choose a language from the list.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        server = _("Not set: the server's (%(zone)s)") % {"zone": settings.TIME_ZONE}
        self.fields["time_zone"].choices = [("", server), *((g, list(names)) for g, names in grouped_time_zones())]
        self.fields["language"].choices = [("", _("Follow the browser")), *settings.LANGUAGES]


class DateInput(forms.DateInput):
    input_type = "date"


class AccessTokenForm(forms.Form):
    """A new personal access token: the team it works in (one of the user's), a name,
    its scopes and its expiry (a day from tomorrow to a year from today, required).
    ``cleaned_data["membership"]`` is the user's membership in the chosen team and
    ``cleaned_data["expires_at"]`` the end of the chosen day (UTC)."""

    team = forms.ChoiceField(label=_("Team"))
    name = forms.CharField(label=_("Name"), max_length=80, help_text=_("What the token is for, e.g. “CMS export”."))
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"),
        choices=Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[Scope.READ],
        help_text=_("A token does only what your role in the team allows, whatever its scopes."),
    )
    expires = forms.DateField(label=_("Expires on"), widget=DateInput)

    def __init__(self, *args, memberships, **kwargs):
        super().__init__(*args, **kwargs)
        self.memberships = {str(m.team.uuid): m for m in memberships}
        self.fields["team"].choices = [(key, m.team.name) for key, m in self.memberships.items()]
        today = timezone.now().date()
        self.fields["expires"].widget.attrs.update(
            {
                "min": (today + timedelta(days=1)).isoformat(),
                "max": (today + timedelta(days=TOKEN_MAX_DAYS)).isoformat(),
            }
        )
        self.initial.setdefault("expires", today + timedelta(days=30))

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name or any(unicodedata.category(ch) in {"Cc", "Cs"} for ch in name):
            raise ValidationError(_("Give the token a name you can read."))
        return name

    def clean_expires(self):
        day = self.cleaned_data["expires"]
        today = timezone.now().date()
        if day <= today:
            raise ValidationError(_("Choose a day after today."))
        if day > today + timedelta(days=TOKEN_MAX_DAYS):
            raise ValidationError(_("A token lasts at most a year: choose a day within 365 days."))
        return day

    def clean(self):
        data = super().clean()
        membership = self.memberships.get(data.get("team") or "")
        if membership is not None:
            data["membership"] = membership
        if data.get("expires"):
            end_of_day = datetime.combine(data["expires"], time.max, tzinfo=UTC)
            data["expires_at"] = min(end_of_day, timezone.now() + timedelta(days=TOKEN_MAX_DAYS))
        return data
