"""Accounts: sign-up and sign-in, the account page and passwords, teams, invitations,
budgets and roles."""

from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from accounts import views

urlpatterns = [
    path("accounts/signup/", views.signup, name="signup"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password-reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("accounts/password-reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(success_url=reverse_lazy("password_reset_complete")),
        name="password_reset_confirm",
    ),
    path("accounts/reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("account/", views.account, name="account"),
    path(
        "account/password/",
        auth_views.PasswordChangeView.as_view(success_url=reverse_lazy("password_change_done")),
        name="password_change",
    ),
    path("account/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("account/leave", views.leave_team, name="leave_team"),
    path("account/preferences", views.preferences, name="preferences"),
    path("account/time-zone", views.detect_time_zone, name="detect_time_zone"),
    path("account/tokens", views.create_token, name="create_token"),
    path("account/tokens/<str:prefix>/revoke", views.revoke_token, name="revoke_token"),
    path("teams/", views.teams, name="teams"),
    path("teams/switch", views.switch_team, name="switch_team"),
    path("teams/rename", views.rename_team, name="rename_team"),
    path("teams/invite", views.invite, name="invite"),
    path("teams/invitations/<str:token>/revoke", views.revoke_invitation, name="revoke_invitation"),
    path("teams/budget", views.budget, name="budget"),
    path("teams/export-gate", views.export_gate, name="export_gate"),
    path("teams/members/<int:membership_id>/role", views.change_role, name="change_role"),
    path("teams/members/<int:membership_id>/remove", views.remove_member, name="remove_member"),
    path("invite/<str:token>/", views.accept_invite, name="accept_invite"),
]
