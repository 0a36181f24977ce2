"""The team's prompt library: a prompt with the compose form's options kept as a
template (``PromptTemplate``). Members save templates and use them; owners and admins
edit and delete them. Each use is a ``TemplateUse`` (who, when, which generation).
A refusal (``TemplateRefused``) leaves nothing changed; each change records its audit
entry in the same transaction."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from videos import audit
from videos.models import Generation, PromptTemplate, TemplateUse

#: The options a template keeps, as the compose form names them (duration in seconds).
OPTION_NAMES = ("duration", "aspect_ratio", "resolution", "audio")
MAX_TAGS = 12


class TemplateRefused(Exception):
    """A template change that cannot be made; ``message`` says why."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def parse_tags(text: str) -> list[str]:
    """``"rain, Night ,rain"`` → ``["rain", "night"]``: comma-separated words, folded to
    lower case, duplicates dropped, each at most 30 characters. Raises ``TemplateRefused``
    past ``MAX_TAGS``."""
    tags: list[str] = []
    for raw in (text or "").split(","):
        tag = " ".join(raw.split()).lower()[:30]
        if tag and tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise TemplateRefused(_("At most %(n)d tags.") % {"n": MAX_TAGS})
    return tags


def _clean(name: str, prompt: str) -> tuple[str, str]:
    name = " ".join((name or "").split())
    if not name:
        raise TemplateRefused(_("Give the template a name."))
    if len(name) > 80:
        raise TemplateRefused(_("A template's name may be at most 80 characters."))
    prompt = (prompt or "").strip()
    if not prompt:
        raise TemplateRefused(_("A template needs a prompt."))
    if len(prompt) > 20000:
        raise TemplateRefused(_("A prompt may be at most 20000 characters."))
    return name, prompt


def save_template(
    team, actor, *, name: str, tags: str, prompt: str, dialect: str, model: str, options: dict
) -> PromptTemplate:
    """Save ``prompt`` with ``options`` (``OPTION_NAMES`` kept, others dropped) for
    ``dialect``'s ``model`` as the template ``name`` (unique in the team) with ``tags``
    (comma text). Raises ``TemplateRefused``. Records ``template.saved``."""
    name, prompt = _clean(name, prompt)
    kept = {k: v for k, v in (options or {}).items() if k in OPTION_NAMES and v not in (None, "")}
    try:
        with transaction.atomic():
            template = PromptTemplate.objects.create(
                team=team,
                name=name,
                tags=parse_tags(tags),
                prompt=prompt,
                dialect=dialect[:32],
                model=model[:80],
                options=kept,
                created_by=actor,
            )
            audit.record_action(team, actor, "template.saved", name)
    except IntegrityError:
        raise TemplateRefused(_("The library has a template named “%(name)s” already.") % {"name": name}) from None
    return template


def update_template(template: PromptTemplate, actor, *, name: str, tags: str, prompt: str) -> PromptTemplate:
    """Rename ``template``, change its tags (comma text) and prompt. Raises
    ``TemplateRefused``. Records ``template.changed``."""
    name, prompt = _clean(name, prompt)
    tag_list = parse_tags(tags)
    try:
        with transaction.atomic():
            PromptTemplate.objects.filter(pk=template.pk).update(name=name, tags=tag_list, prompt=prompt)
            audit.record_action(template.team, actor, "template.changed", name, was=template.name)
    except IntegrityError:
        raise TemplateRefused(_("The library has a template named “%(name)s” already.") % {"name": name}) from None
    template.name, template.tags, template.prompt = name, tag_list, prompt
    return template


def delete_template(template: PromptTemplate, actor) -> None:
    """Delete ``template`` and its use counts (generations made from it stay). Records
    ``template.deleted``."""
    with transaction.atomic():
        audit.record_action(template.team, actor, "template.deleted", template.name)
        template.delete()


def record_template_use(template: PromptTemplate, user, generation: Generation) -> TemplateUse | None:
    """Count one use of ``template``: ``generation`` was made from it by ``user``. Once per
    generation (a repeated post counts nothing); None when refused (another team's)."""
    if template.team_id != generation.team_id:
        return None
    use, _created = TemplateUse.objects.get_or_create(
        generation=generation, defaults={"template": template, "user": user}
    )
    return use
