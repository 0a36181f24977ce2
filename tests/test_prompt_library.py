"""The team's prompt library (issue 13, item 6): save the compose form as a template,
"Use" fills the compose form, each template's cost on each of my keys, how often it was
used and by whom; owners and admins curate it, members save and use."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from accounts.models import Role
from tests.conftest import add_key, join
from tests.test_compose import form_data
from videos import actions
from videos.models import AuditEntry, Generation, PromptTemplate, TemplateUse

HTMX = {"HTTP_HX_REQUEST": "true"}


def make_template(team, user, name="Stormy lighthouse", **options) -> PromptTemplate:
    return actions.save_template(
        team,
        user,
        name=name,
        tags="sea, Night",
        prompt="A lighthouse in a storm, waves breaking",
        dialect="openai-preview",
        model="grok-imagine-video-1.5-preview",
        options={"duration": 4, "aspect_ratio": "9:16", "resolution": "480p", **options},
    )


def test_save_as_template_keeps_the_compose_forms_prompt_and_options(client_for, owner, team, key):
    client = client_for(owner)
    studio = client.get(reverse("studio")).content.decode()
    assert "Save as template" in studio and 'hx-post="/prompts/save"' in studio
    data = form_data(key, duration="3", aspect_ratio="1:1", template_name="Lighthouse", template_tags="sea, storm")
    response = client.post(reverse("prompt_save"), data, **HTMX)
    assert response.status_code == 200 and "Saved “Lighthouse” in the prompt library" in response.content.decode()
    template = PromptTemplate.objects.get(team=team)
    assert template.prompt == "A lighthouse in a storm" and template.tags == ["sea", "storm"]
    assert (template.dialect, template.model) == ("openai-preview", "grok-imagine-video-1.5-preview")
    assert template.options == {"duration": 3, "aspect_ratio": "1:1", "resolution": "480p"}
    assert template.created_by == owner
    assert AuditEntry.objects.filter(team=team, action="template.saved", target="Lighthouse").exists()


@pytest.mark.parametrize(
    "overrides, said",
    [
        ({"template_name": ""}, "Give the template a name."),
        ({"template_name": "x", "prompt": "   "}, "A template needs a prompt."),
        ({"template_name": "x", "template_tags": ",".join(f"t{i}" for i in range(20))}, "At most 12 tags."),
    ],
)
def test_a_template_without_name_or_prompt_is_refused_by_the_button(client_for, owner, key, overrides, said):
    response = client_for(owner).post(reverse("prompt_save"), form_data(key, **overrides), **HTMX)
    assert response.status_code == 200 and said in response.content.decode()
    assert not PromptTemplate.objects.exists()


def test_a_second_template_of_the_same_name_is_refused(client_for, owner, team, key):
    make_template(team, owner, name="Lighthouse")
    response = client_for(owner).post(reverse("prompt_save"), form_data(key, template_name="Lighthouse"), **HTMX)
    assert "already" in response.content.decode() and PromptTemplate.objects.count() == 1


def test_a_hostile_name_is_shown_as_text(client_for, owner, team, key):
    client = client_for(owner)
    hostile = "<img src=x onerror=alert(1)>"
    saved = client.post(reverse("prompt_save"), form_data(key, template_name=hostile, template_tags=hostile), **HTMX)
    assert "<img" not in saved.content.decode()
    page = client.get(reverse("prompts")).content.decode()
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


def test_the_library_shows_each_templates_cost_on_each_of_my_keys(client_for, owner, team, key, priced):
    add_key(owner, team, dialect="xai", secret="xai-sandbox-0004", label="My xAI")
    make_template(team, owner)
    page = client_for(owner).get(reverse("prompts")).content.decode()
    assert "Prompt library" in page and "Stormy lighthouse" in page and "Used 0 times" in page
    costs = re.search(r'<ul class="help template-costs">(.*?)</ul>', page, re.S).group(1)
    assert "Sandbox" in costs and "$0.20" in costs  # 4 s × $0.05 at 480p through my sandbox key
    xai = re.search(r"<li>My xAI · xAI[^<]*: ([^<]+)</li>", costs)
    assert xai and xai.group(1).startswith("$")  # priced from the price book, as the compose estimate is


def test_a_key_whose_gateway_cannot_take_the_options_is_left_out(client_for, owner, team, key):
    add_key(owner, team, dialect="xai", secret="xai-sandbox-0005", label="My xAI")
    make_template(team, owner, aspect_ratio="20:9")  # openai-preview has 20:9, xAI does not
    costs = re.search(
        r'<ul class="help template-costs">(.*?)</ul>', client_for(owner).get("/prompts/").content.decode(), re.S
    )
    assert "Sandbox" in costs.group(1) and "My xAI" not in costs.group(1)


def test_use_fills_the_compose_form_and_counts_when_a_video_is_made(client_for, owner, team, key, teammate, bob_key):
    template = make_template(team, owner)
    client = client_for(teammate)
    library = client.get(reverse("prompts")).content.decode()
    use = f"{reverse('studio')}?template={template.uuid}"
    assert f'href="{use}"' in library
    studio = client.get(use).content.decode()
    assert "A lighthouse in a storm, waves breaking</textarea>" in studio
    assert re.search(r'<option value="4" selected>', studio) and re.search(r'<option value="9:16" selected>', studio)
    assert f'name="prompt_template" value="{template.uuid}"' in studio
    assert "From the prompt library: “Stormy lighthouse”" in studio
    data = form_data(
        bob_key, prompt=template.prompt, duration="4", aspect_ratio="9:16", prompt_template=str(template.uuid)
    )
    response = client.post(reverse("generate"), data, **HTMX)
    assert response.status_code == 200
    use_row = TemplateUse.objects.get(template=template)
    assert use_row.user == teammate and use_row.generation == Generation.objects.get()
    page = client.get(reverse("prompts")).content.decode()
    assert "Used 1 time" in page and "by bob" in page


def test_a_repeated_post_counts_one_use(client_for, owner, team, key):
    template = make_template(team, owner)
    client = client_for(owner)
    token = re.search(r'name="submission" id="submission" value="([0-9a-f]{32})"', client.get("/").content.decode())[1]
    data = form_data(key, prompt_template=str(template.uuid), submission=token)
    client.post(reverse("generate"), data, **HTMX)
    client.post(reverse("generate"), data, **HTMX)
    assert Generation.objects.count() == 1 and TemplateUse.objects.count() == 1


def test_a_refused_generation_counts_no_use(client_for, owner, team, key):
    template = make_template(team, owner)
    client_for(owner).post(reverse("generate"), form_data(key, duration="99", prompt_template=str(template.uuid)))
    assert not Generation.objects.exists() and not TemplateUse.objects.exists()


def test_another_teams_template_neither_fills_the_form_nor_counts(client_for, owner, team, key, outsider):
    theirs = make_template(outsider.teams.get(), outsider, name="Theirs")
    client = client_for(owner)
    studio = client.get(f"/?template={theirs.uuid}").content.decode()
    assert "waves breaking" not in studio and "prompt_template" not in studio
    assert client.get("/?template=<script>").status_code == 200
    client.post(reverse("generate"), form_data(key, prompt_template=str(theirs.uuid)), **HTMX)
    assert Generation.objects.count() == 1 and not TemplateUse.objects.exists()
    assert "Theirs" not in client.get(reverse("prompts")).content.decode()
    assert (
        client.post(reverse("prompt_edit", kwargs={"uuid": theirs.uuid}), {"name": "x", "prompt": "y"}).status_code
        == 404
    )
    assert client.post(reverse("prompt_delete", kwargs={"uuid": theirs.uuid})).status_code == 404
    assert PromptTemplate.objects.filter(pk=theirs.pk, name="Theirs").exists()


def test_owners_and_admins_edit_and_delete_members_only_save_and_use(client_for, owner, team, key, teammate):
    template = make_template(team, owner)
    member = client_for(teammate)
    assert (
        "Edit"
        not in re.search(
            r'<article class="panel prompt-template".*?</article>', member.get("/prompts/").content.decode(), re.S
        )[0]
    )
    edit = reverse("prompt_edit", kwargs={"uuid": template.uuid})
    assert member.post(edit, {"name": "Mine now", "prompt": "changed"}).status_code == 403
    assert member.post(reverse("prompt_delete", kwargs={"uuid": template.uuid})).status_code == 403
    admin, _membership = join(team, "ada", Role.ADMIN)
    client = client_for(admin)
    assert client.post(edit, {"name": "Storm", "tags": "Sea, dusk", "prompt": "A storm at dusk"}).status_code == 302
    template.refresh_from_db()
    assert (template.name, template.tags, template.prompt) == ("Storm", ["sea", "dusk"], "A storm at dusk")
    assert client.post(reverse("prompt_delete", kwargs={"uuid": template.uuid})).status_code == 302
    assert not PromptTemplate.objects.exists()
    assert AuditEntry.objects.filter(action="template.deleted", target="Storm", actor=admin).exists()


def test_a_viewer_sees_the_library_but_cannot_save(client_for, owner, team, key):
    make_template(team, owner)
    viewer, _membership = join(team, "vera", Role.VIEWER)
    client = client_for(viewer)
    page = client.get(reverse("prompts")).content.decode()
    assert "Stormy lighthouse" in page and "?template=" not in page
    assert client.post(reverse("prompt_save"), {"template_name": "v", "prompt": "p"}).status_code == 403


def test_the_library_filters_by_tag(client_for, owner, team):
    make_template(team, owner)
    actions.save_template(
        team,
        owner,
        name="Desert",
        tags="sand",
        prompt="Dunes",
        dialect="xai",
        model="grok-imagine-video-1.5-preview",
        options={"duration": 2},
    )
    page = client_for(owner).get(reverse("prompts"), {"tag": "night"}).content.decode()
    assert "Stormy lighthouse" in page and "Desert" not in page
