"""From a stored generation to what its gateway adapter needs: the adapter itself
(an instance holding the key's base URL and secret) and the request, rebuilt."""

from __future__ import annotations

from django.utils.translation import gettext as _

from videos.gateways import Gateway, get_gateway_class
from videos.gateways.base import GatewayStatus, GenerationInput, ReferenceForm, ReferenceImageData
from videos.lib.references import NoPublicAddress
from videos.lib.vault import VaultError
from videos.models import Generation, TaskState


class StepError(Exception):
    """A problem on our side that ends the task with ``message`` (a deleted key, say)."""


def adapter_for(generation: Generation) -> Gateway:
    """The gateway adapter (an instance, with the key's base URL and secret) for a
    generation's key. Raises StepError when the key is gone or cannot be decrypted."""
    key = generation.key
    if key is None:
        raise StepError(_("The gateway key used for this generation was deleted."))
    try:
        secret = key.reveal()
    except VaultError:
        raise StepError(
            _("The gateway key cannot be decrypted with the server's encryption keys; replace it.")
        ) from None
    return key.gateway_class(key.base_url, secret)


def generation_input(generation: Generation) -> GenerationInput:
    """Rebuild the member's choices, reference images included, from the stored request.

    Uploads are read back; for a model that fetches references by URL, an upload
    gets a fresh signed URL. Raises StepError when the model is unknown or when a
    signed URL needs STUDIO_PUBLIC_URL.
    """
    try:
        spec = get_gateway_class(generation.dialect).spec(generation.model_name)
    except KeyError:
        raise StepError(
            _("The studio no longer knows the model %(model)s.") % {"model": repr(generation.model_name)}
        ) from None
    references = []
    for ref in generation.reference_images.all():
        data, url = b"", ref.source_url
        if ref.image:
            with ref.image.open("rb") as fh:
                data = fh.read()
            if spec.reference_form == ReferenceForm.URL:
                try:
                    url = ref.signed_url()
                except NoPublicAddress as exc:
                    raise StepError(str(exc)) from None
        references.append(ReferenceImageData(content_type=ref.content_type, data=data, url=url))
    options = generation.options
    return GenerationInput(
        model=generation.model_name,
        prompt=generation.prompt,
        duration=options["duration"],
        aspect_ratio=options.get("aspect_ratio"),
        resolution=options.get("resolution"),
        audio=options.get("audio"),
        references=references,
    )


#: The task state for a gateway's "still running" statuses.
STATE_FOR_STATUS = {
    GatewayStatus.QUEUED: TaskState.QUEUED,
    GatewayStatus.RUNNING: TaskState.PROCESSING,
}
