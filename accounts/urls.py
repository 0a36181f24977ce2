"""Accounts: sign-up and sign-in, teams, invitations, budgets and roles."""

from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views

urlpatterns = [
    path("accounts/signup/", views.signup, name="signup"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("teams/", views.teams, name="teams"),
    path("teams/switch", views.switch_team, name="switch_team"),
    path("teams/invite", views.invite, name="invite"),
    path("teams/budget", views.budget, name="budget"),
    path("teams/members/<int:membership_id>/role", views.change_role, name="change_role"),
    path("invite/<str:token>/", views.accept_invite, name="accept_invite"),
]
