from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from accounts import views as accounts
from videos import desk, gallery
from videos import views as videos

urlpatterns = [
    path("", videos.studio, name="studio"),
    path("compose/options", videos.compose_options, name="compose_options"),
    path("generate", videos.generate, name="generate"),
    path("compose/estimate", videos.estimate, name="estimate"),
    path("spend/", videos.spend, name="spend"),
    path("approvals/", videos.approvals, name="approvals"),
    path("generations/<uuid:uuid>/approve", videos.decide, {"decision": "approve"}, name="approve"),
    path("generations/<uuid:uuid>/reject", videos.decide, {"decision": "reject"}, name="reject"),
    path("history/", gallery.gallery, name="history"),
    path("gallery/bulk", gallery.bulk, name="bulk"),
    path("review/", desk.review_queue, name="review_queue"),
    path("generations/<uuid:uuid>/review", desk.review_decide, name="review_decide"),
    path("audit/", desk.audit_log, name="audit_log"),
    path("notifications/", desk.notifications, name="notifications"),
    path("generations/<uuid:uuid>/remix", videos.remix, name="remix"),
    path("generations/<uuid:uuid>/retry", videos.retry, name="retry"),
    path("generations/<uuid:uuid>/cancel", videos.cancel, name="cancel"),
    path("generations/<uuid:uuid>/resubmit", videos.resubmit, name="resubmit"),
    path("generations/<uuid:uuid>/abandon", videos.abandon, name="abandon"),
    path("generations/<uuid:uuid>/favorite", videos.favorite, name="favorite"),
    path("generations/<uuid:uuid>/delete", videos.delete, name="delete"),
    path("generations/<uuid:uuid>/", videos.detail, name="generation"),
    path("generations/<uuid:uuid>/card", videos.card, name="card"),
    path("generations/<uuid:uuid>/video.mp4", videos.video_file, name="video_file"),
    path("generations/<uuid:uuid>/poster.jpg", videos.poster_file, name="poster_file"),
    path("generations/<uuid:uuid>/references/<int:position>", videos.reference_file, name="reference_file"),
    path("r/<str:token>.<str:ext>", videos.reference_public, name="reference_public"),
    path("keys/", videos.keys, name="keys"),
    path("keys/base-url", videos.key_base_url, name="key_base_url"),
    path("keys/<uuid:uuid>/replace", videos.key_replace, name="key_replace"),
    path("keys/<uuid:uuid>/delete", videos.key_delete, name="key_delete"),
    path("accounts/signup/", accounts.signup, name="signup"),
    path("accounts/login/", accounts.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("teams/", accounts.teams, name="teams"),
    path("teams/switch", accounts.switch_team, name="switch_team"),
    path("teams/invite", accounts.invite, name="invite"),
    path("teams/budget", accounts.budget, name="budget"),
    path("teams/members/<int:membership_id>/role", accounts.change_role, name="change_role"),
    path("invite/<str:token>/", accounts.accept_invite, name="accept_invite"),
    path("healthz", videos.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]

if settings.STUDIO_SANDBOX_ENABLED:
    urlpatterns.append(path("sandbox/", include("videos.sandbox.urls")))
