"""The team's prompt library (``/prompts/``): its templates with their prompt, options,
tags, cost on each of my gateway keys (``billing.price_everywhere``), how often each was
used and by whom. "Save as template" on the compose form posts here (``save``); "Use"
opens the compose form prefilled (``/?template=<uuid>``, as Remix does), and the
generation made from it counts as a use. Members save and use; owners and admins edit
and delete."""

from __future__ import annotations

import uuid as uuids

from django import forms
from django.contrib import messages
from django.db.models import Count, Prefetch
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from accounts.access import get_for_team, team_required
from videos import actions, billing
from videos.forms import ComposeForm
from videos.gateways.base import GenerationInput
from videos.models import PromptTemplate, TemplateUse
from videos.web import my_keys

#: How many of a template's latest users the library names.
USERS_NAMED = 5


class TemplateForm(forms.Form):
    """A template's name, tags (comma-separated) and prompt."""

    name = forms.CharField(label=gettext_lazy("Name"), max_length=80)
    tags = forms.CharField(label=gettext_lazy("Tags"), required=False, max_length=400)
    prompt = forms.CharField(label=gettext_lazy("Prompt"), max_length=20000, widget=forms.Textarea(attrs={"rows": 3}))


def find_template(request, wanted) -> PromptTemplate | None:
    """The current team's template ``wanted`` (uuid text), or None."""
    try:
        return PromptTemplate.objects.for_team(request.team).filter(uuid=uuids.UUID(str(wanted))).first()
    except (TypeError, ValueError):
        return None


def _template(request, uuid) -> PromptTemplate:
    return get_for_team(request, PromptTemplate.objects.all(), uuid=uuid)


def template_choices(template: PromptTemplate) -> GenerationInput | None:
    """The request a template describes (no reference images); None when its options are unusable."""
    options = template.options or {}
    try:
        return GenerationInput(
            model=template.model,
            prompt=template.prompt,
            duration=int(options.get("duration") or 0),
            aspect_ratio=options.get("aspect_ratio"),
            resolution=options.get("resolution"),
            audio=options.get("audio"),
        )
    except (TypeError, ValueError):
        return None


@require_GET
@team_required
def prompts(request):
    """The prompt library: every template of the team, by name, with its cost on each of
    my keys, its use count and its latest users. ``?tag=`` shows those with that tag."""
    keys = list(my_keys(request))
    uses = TemplateUse.objects.select_related("user").order_by("-used_at", "-pk")
    templates = list(
        PromptTemplate.objects.for_team(request.team)
        .select_related("created_by")
        .annotate(use_count=Count("uses"))
        .prefetch_related(Prefetch("uses", queryset=uses, to_attr="latest_uses"))
        .order_by("name", "pk")
    )
    tag = (request.GET.get("tag") or "").strip().lower()[:30]
    if tag:
        templates = [t for t in templates if tag in (t.tags or [])]
    for template in templates:
        choices = template_choices(template)
        template.costs = billing.price_everywhere(choices, keys) if choices else []
        users = []
        for use in template.latest_uses:
            name = use.user.get_username() if use.user else _("deleted user")
            if name not in users:
                users.append(name)
        template.users = users[:USERS_NAMED]
        template.form = TemplateForm(
            initial={"name": template.name, "tags": ", ".join(template.tags), "prompt": template.prompt},
            auto_id=f"id_%s_{template.uuid.hex[:8]}",
        )
    return render(request, "videos/prompts.html", {"templates": templates, "tag": tag, "has_keys": bool(keys)})


@require_POST
@team_required(can_generate=True)
def save(request):
    """Save the compose form as it stands (its key's gateway, model, prompt and options)
    as a template named ``template_name`` with ``template_tags``. htmx gets a one-line
    answer for the form; otherwise back to the library (or the studio on a refusal)."""
    form = ComposeForm(request.POST, keys=my_keys(request))
    draft = form.draft()
    try:
        if draft is None:
            raise actions.TemplateRefused(_("Add a gateway key first: a template keeps the options of its gateway."))
        template = actions.save_template(
            request.team,
            request.user,
            name=request.POST.get("template_name", ""),
            tags=request.POST.get("template_tags", ""),
            prompt=draft.prompt,
            dialect=form.selected_key.dialect,
            model=draft.model,
            options=draft.model_dump(include={"duration", "aspect_ratio", "resolution", "audio"}),
        )
    except actions.TemplateRefused as refused:
        if request.htmx:
            return HttpResponse(format_html('<p class="error-text" role="alert">{}</p>', refused.message))
        messages.error(request, refused.message)
        return redirect("studio")
    said = _("Saved “%(name)s” in the prompt library.") % {"name": template.name}
    if request.htmx:
        return HttpResponse(
            format_html(
                '<p class="saved" role="status">{} <a href="{}">{}</a></p>',
                said,
                reverse("prompts"),
                _("Open the library"),
            )
        )
    messages.success(request, said)
    return redirect("prompts")


@require_POST
@team_required(can_manage=True)
def edit(request, uuid):
    """Change a template's name, tags and prompt (owners and admins)."""
    template = _template(request, uuid)
    form = TemplateForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The template was not changed: give it a name and a prompt."))
        return redirect("prompts")
    try:
        actions.update_template(template, request.user, **form.cleaned_data)
    except actions.TemplateRefused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("Saved the template “%(name)s”.") % {"name": template.name})
    return redirect("prompts")


@require_POST
@team_required(can_manage=True)
def delete(request, uuid):
    """Delete a template (owners and admins); what was made from it stays."""
    template = _template(request, uuid)
    name = template.name
    actions.delete_template(template, request.user)
    messages.success(request, _("Deleted the template “%(name)s”.") % {"name": name})
    return redirect("prompts")


def compose_initial(request, wanted) -> tuple[dict, PromptTemplate | None]:
    """The compose form's initial values for ``?template=<uuid>``: its prompt, model and
    options, the member's first key of its gateway, and the hidden ``prompt_template``
    that counts the use; ``({}, None)`` for anything not a template of the team."""
    template = find_template(request, wanted)
    if template is None:
        return {}, None
    initial = {"prompt": template.prompt, "prompt_template": template.uuid, **(template.options or {})}
    key = my_keys(request).filter(dialect=template.dialect).first()
    if key is not None:
        initial["key"] = key.uuid
        initial["model"] = template.model
    return {k: v for k, v in initial.items() if v is not None}, template
