"""The API's operations (``api``, mounted at ``/api/v1/`` by ``project/urls.py``).

Every operation authenticates a personal access token (``auth.TokenAuth``), checks its
scope and the member's role (``auth.require``), looks objects up inside the token's team
(another team's id is 404, as in the browser), and changes things only through
``videos.actions``. A create is validated by the compose form itself (``ComposeForm``),
so its refusals read as the form's; its estimate is ``billing.quote``, as under the form.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.db.models import Count, Sum
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Query, Status
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.operation import PathView

from accounts.models import Scope
from accounts.models import User as Member
from videos import actions, billing
from videos.api import schemas as s
from videos.api.auth import TokenAuth, require
from videos.api.compose import (
    KEY_REUSED,
    changeable,
    check_idempotency_key,
    compose_form,
    create_from_form,
    estimate_out,
    generation_detail,
    generation_out,
    money,
    my_keys,
    submission_token,
    team_generation,
)
from videos.api.problems import PROBLEM_JSON, Problem, from_form, problem_response
from videos.lib.files import serve_file
from videos.lib.paging import keyset_page, read_cursor
from videos.models import Billing, Generation, LedgerEntry
from videos.web.history import HistoryFilters, filtered_generations
from videos.web.review import ReviewForm

log = logging.getLogger(__name__)


class StudioAPI(NinjaAPI):
    """NinjaAPI whose schema says what the errors really are: ``application/problem+json``."""

    def get_openapi_schema(self, *args, **kwargs):
        schema = super().get_openapi_schema(*args, **kwargs)
        for operations in schema["paths"].values():
            for operation in operations.values():
                for code, answer in operation.get("responses", {}).items():
                    if str(code).startswith("4") and "application/json" in answer.get("content", {}):
                        answer["content"] = {PROBLEM_JSON: answer["content"].pop("application/json")}
        return schema


def _method_not_allowed(self) -> HttpResponse:
    """A method the path does not take: 405 as problem+json with ``Allow`` (ninja answers a
    bare text otherwise; this API is ninja's only user in the project)."""
    allowed = sorted({method for operation in self.operations for method in operation.methods})
    response = problem_response(None, 405, _("This path takes %(methods)s.") % {"methods": ", ".join(allowed)})
    response["Allow"] = ", ".join(allowed)
    return response


PathView._not_allowed = _method_not_allowed

api = StudioAPI(
    title="Studio API",
    version="1",
    description="Make, follow and download videos as the browser does. See docs/api.md.",
    auth=TokenAuth(),
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)

#: The answers every operation may give besides its success (problem+json).
ERRORS = {code: s.ProblemOut for code in (400, 401, 403, 404, 409, 413, 422, 429)}
CURSOR_SALT = "videos.api.cursor"


# --- errors --------------------------------------------------------------------------------


@api.exception_handler(Problem)
def _problem(request, exc: Problem):
    return problem_response(request, exc.status, exc.detail, errors=exc.errors, headers=exc.headers)


@api.exception_handler(NinjaValidationError)
def _invalid(request, exc: NinjaValidationError):
    errors = []
    for error in exc.errors:
        loc = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path", "payload")]
        errors.append(
            {"field": ".".join(loc) or None, "message": str(error["msg"] if "msg" in error else _("is not valid"))}
        )
    first = errors[0] if errors else {"field": None, "message": _("The request is not valid.")}
    detail = f"{first['field']}: {first['message']}" if first["field"] else first["message"]
    return problem_response(request, 422, detail, errors=errors)


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    return problem_response(request, exc.status_code, str(exc))


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    return problem_response(request, 401, _("Send an access token: Authorization: Bearer <token>."))


@api.exception_handler(Http404)
def _not_found(request, exc):
    return problem_response(request, 404, _("Not found in this token's team."))


@api.exception_handler(PermissionDenied)
def _forbidden(request, exc):
    return problem_response(request, 403, str(exc) or _("You may not do this."))


@api.exception_handler(RequestDataTooBig)
def _too_big(request, exc):
    return problem_response(request, 413, _("The request body is too large."))


@api.exception_handler(Exception)
def _unexpected(request, exc):
    log.exception("API error on %s", request.path)
    return problem_response(request, 500, _("Something went wrong on our side; nothing was changed."))


# --- operations ----------------------------------------------------------------------------


@api.get("/keys", response={200: list[s.KeyOut], **ERRORS}, tags=["compose"])
def list_keys(request):
    """My gateway keys in the token's team, each with its gateway's models and their option
    specs (durations in seconds, aspect ratios, resolutions, audio, reference images)."""
    require(request, Scope.READ)
    out = []
    for key in my_keys(request):
        gateway = key.gateway_class
        out.append(
            {
                "key": key.uuid,
                "label": key.label,
                "gateway": key.dialect,
                "gateway_label": gateway.label,
                "masked": key.masked,
                "models": [{"model": m.model, "label": m.label, "options": m} for m in gateway.models],
            }
        )
    return out


@api.post("/estimate", response={200: s.QuoteOut, **ERRORS}, tags=["compose"])
def estimate(request, body: s.GenerationIn):
    """What the request would cost through its key, and through each of my other keys that
    could take it as it stands (the list under the compose form)."""
    require(request, Scope.READ)
    form = compose_form(request, body.model_dump())
    draft = form.draft()
    if draft is None or form.selected_key is None or str(form.selected_key.uuid) != str(body.key):
        message = _("Select a valid choice. That choice is not one of the available choices.")
        raise Problem(422, f"key: {message}", errors=[{"field": "key", "message": message}])
    quote = billing.quote(form.selected_key, draft, my_keys(request))
    others = [
        {"key": k.uuid, "key_label": k.label, "gateway": k.dialect, "model": spec.model, **estimate_out(e)}
        for k, spec, e in quote.others
    ]
    return {"estimate": estimate_out(quote.this), "others": others}


@api.post("/generations", response={200: s.GenerationOut, 201: s.GenerationOut, **ERRORS}, tags=["generations"])
def create(request, body: s.GenerationIn):
    """Save a request and queue it, as the compose form's Generate does (the same
    validation, budgets, caps and approval threshold). With an ``Idempotency-Key`` header
    a repeat with the same body answers the first generation (200, ``repeated``), one with
    another body is 409; nothing new is made or held."""
    require(request, Scope.GENERATE)
    idempotency_key = check_idempotency_key(request)
    token = ""
    if idempotency_key:
        key_part, token = submission_token(request, idempotency_key, body)
        earlier = Generation.objects.filter(author=request.user, submission_token__startswith=key_part).first()
        if earlier is not None and earlier.submission_token != token:
            raise Problem(409, str(KEY_REUSED))
        if earlier is not None:
            return Status(
                200, {**generation_out(request, team_generation(request, str(earlier.uuid))), "repeated": True}
            )
    generation = create_from_form(request, compose_form(request, body.model_dump()), token, key_part if token else "")
    status = 200 if getattr(generation, "repeated", False) else 201
    out = generation_out(request, team_generation(request, str(generation.uuid)))
    out["repeated"] = status == 200
    return Status(status, out)


def _check_cursor(cursor: str) -> None:
    """Raise a 400 problem unless ``cursor`` is one this API gave out (``videos.lib.paging``,
    signed with the API's own salt): a forged or truncated one is an error here, not the
    first page, so a client never silently starts over."""
    if read_cursor(cursor, Generation._meta.get_field("created_at"), salt=CURSOR_SALT) is None:
        raise Problem(400, _("This cursor is not valid: start from the first page again."))


@api.get("/generations", response={200: s.GenerationPage, **ERRORS}, tags=["generations"])
def list_generations(request, filters: Query[s.ListQuery]):
    """The team's generations with History's filters (``q`` searches prompts), newest
    first (``sort=oldest`` reverses), ``limit`` a page; pass ``next`` back as ``cursor``."""
    require(request, Scope.READ)
    members = list(
        Member.objects.filter(memberships__team=request.team).order_by("username").values_list("pk", "username")
    )
    # History's own form reads the filters, as it reads the page's query string.
    query = {}
    for name, value in filters.model_dump(exclude={"cursor", "limit"}).items():
        if value in ("", None, False):
            continue
        query[name] = "on" if value is True else value.isoformat() if hasattr(value, "isoformat") else value
    form = HistoryFilters(query, members=members)
    if not form.is_valid():
        raise from_form(form)
    values = form.values()
    queryset = filtered_generations(request.team, request.user, values).select_related("parent")
    if filters.cursor:
        _check_cursor(filters.cursor)
    # Keyset on (created_at, id), as History pages: new generations never shift a page.
    page = keyset_page(
        queryset, filters.cursor, size=filters.limit, newest_first=values.get("sort") != "oldest", salt=CURSOR_SALT
    )
    return {"items": [generation_out(request, g) for g in page.object_list], "next": page.next}


@api.get("/generations/{generation_id}", response={200: s.GenerationDetailOut, **ERRORS}, tags=["generations"])
def get_generation(request, generation_id: str):
    """One generation: state, progress, cost, review, lineage (parent, remixes), timeline."""
    require(request, Scope.READ)
    return generation_detail(request, team_generation(request, generation_id))


def _asset_file(request, generation_id: str, which: str):
    generation = team_generation(request, generation_id)
    asset = getattr(generation, "asset", None)
    field = getattr(asset, which, None) if asset is not None else None
    if not field:
        raise Problem(
            404,
            _("It has no video yet: it is %(state)s.") % {"state": generation.task.get_state_display().lower()},
        )
    return generation, asset, field


@api.get(
    "/generations/{generation_id}/video", response={200: None, 302: None, **ERRORS}, tags=["files"], url_name="video"
)
def download_video(request, generation_id: str):
    """The archived MP4 (``video/mp4``; byte ranges honoured), or under signed delivery a
    302 to a short-lived signed link."""
    require(request, Scope.READ)
    generation, asset, field = _asset_file(request, generation_id, "file")
    return serve_file(
        request, field, content_type="video/mp4", filename=f"studio-{generation.uuid}.mp4", size=asset.bytes
    )


@api.get(
    "/generations/{generation_id}/poster", response={200: None, 302: None, **ERRORS}, tags=["files"], url_name="poster"
)
def download_poster(request, generation_id: str):
    """The poster JPEG taken from the archived video (or a 302 under signed delivery)."""
    require(request, Scope.READ)
    generation, _asset, field = _asset_file(request, generation_id, "poster")
    return serve_file(request, field, content_type="image/jpeg", filename=f"studio-{generation.uuid}.jpg")


def _done(request, generation_id: str, done: bool, yes: str, no: str) -> dict:
    generation = team_generation(request, generation_id)
    return {"done": done, "message": yes if done else no, "generation": generation_out(request, generation)}


@api.post("/generations/{generation_id}/cancel", response={200: s.DoneOut, **ERRORS}, tags=["generations"])
def cancel(request, generation_id: str):
    """Stop a running generation (its author or an admin); its hold is released."""
    require(request, Scope.GENERATE)
    generation = changeable(request, generation_id, "cancel")
    done = actions.cancel(generation, request.user)
    return _done(request, generation_id, done, _("Cancelled; the hold was released."), _("It had already ended."))


@api.post("/generations/{generation_id}/retry", response={200: s.DoneOut, **ERRORS}, tags=["generations"])
def retry(request, generation_id: str):
    """Send a failed or cancelled generation again, with its estimate held again."""
    require(request, Scope.GENERATE)
    generation = changeable(request, generation_id, "retry")
    if generation.key_id is None:
        raise Problem(409, _("Its gateway key was deleted: remix it to send it through another key."))
    try:
        done = actions.retry(generation, request.user, membership=request.membership)
    except billing.BudgetExceeded as exc:
        raise Problem(422, _("Not retried: %(why)s") % {"why": exc.message}) from None
    return _done(
        request,
        generation_id,
        done,
        _("Sent again."),
        _("Only a failed or cancelled generation can be retried."),
    )


@api.post("/generations/{generation_id}/remix", response={201: s.GenerationOut, **ERRORS}, tags=["generations"])
def remix(request, generation_id: str, body: s.RemixIn):
    """A new generation prefilled from this one (prompt, model, options, reference
    images), with what the body changes, linked as its child."""
    require(request, Scope.GENERATE)
    parent = team_generation(request, generation_id)
    wanted = {k: v for k, v in body.model_dump().items() if v is not None}
    merged = {"prompt": parent.prompt, "model": parent.model_name, **(parent.options or {})}
    if "key" not in wanted:
        key = my_keys(request).filter(pk=parent.key_id).first()
        merged["key"] = key.uuid if key is not None else None
        if key is None:
            message = _("Its gateway key is not one of yours: choose a key.")
            raise Problem(422, f"key: {message}", errors=[{"field": "key", "message": message}])
    elif parent.key is None or wanted["key"] != parent.key.uuid:
        merged.pop("model", None)  # another key's gateway: its own first model unless one is named
    merged.update(wanted)
    generation = create_from_form(request, compose_form(request, merged, parent=parent))
    return Status(201, generation_out(request, team_generation(request, str(generation.uuid))))


@api.put("/generations/{generation_id}/favorite", response={200: s.FavoriteOut, **ERRORS}, tags=["generations"])
def favorite(request, generation_id: str, body: s.FavoriteIn):
    """Put this generation among my favorites (``true``) or take it out (``false``)."""
    require(request, Scope.READ)
    generation = team_generation(request, generation_id)
    actions.set_favorite([generation], request.user, body.favorite)
    return {"favorite": body.favorite}


@api.post("/generations/{generation_id}/send-to-review", response={200: s.DoneOut, **ERRORS}, tags=["review"])
def send_to_review(request, generation_id: str):
    """Send a finished video to the review desk (as History's bulk action does)."""
    require(request, Scope.GENERATE)
    generation = team_generation(request, generation_id)
    done = actions.send_to_review([generation], request.user) == 1
    return _done(
        request, generation_id, done, _("Sent to review."), _("Only a finished video not yet reviewed can be sent.")
    )


@api.post("/generations/{generation_id}/review", response={200: s.DoneOut, **ERRORS}, tags=["review"])
def review(request, generation_id: str, body: s.ReviewIn):
    """A verdict on a finished video awaiting review (owners and admins; ``review`` scope)."""
    require(request, Scope.REVIEW)
    generation = team_generation(request, generation_id)
    form = ReviewForm(body.model_dump())
    if not form.is_valid():
        raise from_form(form)
    done = actions.decide_review(generation, request.user, form.verdict, form.cleaned_data["comment"], via="api")
    return _done(request, generation_id, done, _("Decided."), _("It is no longer awaiting review."))


@api.get("/approvals", response={200: list[s.GenerationOut], **ERRORS}, tags=["money"])
def approvals(request):
    """Requests waiting for an owner's or admin's approval before they are sent (``admin``)."""
    require(request, Scope.ADMIN)
    waiting = Generation.objects.for_team(request.team).for_cards().awaiting_approval().select_related("parent")
    return [generation_out(request, g) for g in waiting[:200]]


def _settle(request, generation_id: str, approve: bool) -> dict:
    require(request, Scope.ADMIN)
    generation = team_generation(request, generation_id)
    done = (actions.approve_spending if approve else actions.decline_spending)(generation, request.user)
    yes = _("Approved.") if approve else _("Declined.")
    return _done(request, generation_id, done, yes, _("That request is no longer waiting for approval."))


@api.post("/generations/{generation_id}/approve", response={200: s.DoneOut, **ERRORS}, tags=["money"])
def approve(request, generation_id: str):
    """Approve spending on a request waiting for approval: it is sent."""
    return _settle(request, generation_id, True)


@api.post("/generations/{generation_id}/decline", response={200: s.DoneOut, **ERRORS}, tags=["money"])
def decline(request, generation_id: str):
    """Decline a request waiting for approval: it is never sent and its hold is released."""
    return _settle(request, generation_id, False)


@api.get("/spend", response={200: s.SpendOut, **ERRORS}, tags=["money"])
def spend(request):
    """This month's spend for the team and for me, by gateway and by member."""
    require(request, Scope.READ)
    since = billing.month_start()
    charges = LedgerEntry.objects.charges(request.team, since)
    zero = Decimal(0)

    def total(qs):
        return qs.aggregate(t=Coalesce(Sum("amount_usd"), zero))["t"]

    held = Generation.objects.for_team(request.team).filter(billing=Billing.HELD)
    rows = lambda field: [  # noqa: E731
        {"name": r[field] or "", "total_usd": money(r["total"]), "count": r["n"]}
        for r in charges.values(field).annotate(total=Sum("amount_usd"), n=Count("pk")).order_by("-total")
    ]
    return {
        "since": since,
        "team_total_usd": money(total(charges)),
        "my_total_usd": money(total(charges.filter(member=request.user))),
        "held_usd": money(held.aggregate(t=Coalesce(Sum("estimate_usd"), zero))["t"]),
        "budget_usd": money(request.team.monthly_budget_usd),
        "my_cap_usd": money(request.membership.monthly_cap_usd),
        "by_gateway": rows("dialect"),
        "by_member": rows("member__username"),
    }


@api.api_operation(["GET", "POST", "PUT", "PATCH", "DELETE"], "/{path:rest}", auth=None, include_in_schema=False)
def unknown(request, rest: str):
    """Any other path under the API: a problem+json 404, not the site's HTML page."""
    raise Problem(404, _("There is no such API operation; see /api/v1/docs."))
