from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.forms import AdminLoginForm
from accounts.models import Invitation, Membership, Team, User

# The admin's login counts against the same throttle as the studio's (accounts/throttle.py).
admin.site.login_form = AdminLoginForm


@admin.register(User)
class StudioUserAdmin(UserAdmin):
    """Django's user admin, plus the member's preferences (read here; set on their account
    page) and the team they last worked in."""

    fieldsets = [
        *UserAdmin.fieldsets,
        (_("Preferences"), {"fields": ["time_zone", "language", "browser_language", "last_team"]}),
    ]
    readonly_fields = ["time_zone", "language", "browser_language", "last_team"]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "created_at"]
    search_fields = ["name"]
    inlines = [MembershipInline]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["team", "role", "created_by", "created_at", "expires_at", "accepted_by"]
    readonly_fields = ["token"]
