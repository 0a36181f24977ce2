"""Everything a member can do that changes the studio's state, one function each.

Views, the Django admin and management commands call these; none of them writes
state itself. Each function does its write (a conditional update where two people
could race), its timeline line, its audit entry, its notification and its queueing
after commit, all in one transaction, so a refusal leaves nothing half-made.
Functions that may find the state already changed by someone else return False.

*Approval* is an owner's or admin's yes to spending before a request is sent
(``approve_spending``, ``decline_spending``); a *review* is the verdict on a
finished video (``send_to_review``, ``decide_review``).

Callers import this package (``from videos import actions``); the functions live in
one module per object: ``generations``, ``approvals``, ``review``, ``notes``, ``keys``, ``prices``,
``webhooks``, ``share``, ``frames``, ``sequences``, ``boards``, ``templates`` (the prompt library).
"""

from videos.actions.approvals import approve_spending, decline_spending
from videos.actions.boards import (
    BoardRefused,
    add_sequence_to_board,
    add_to_board,
    create_board,
    delete_board,
    remove_from_board,
    remove_sequence_from_board,
    update_board,
)
from videos.actions.frames import Refused, frame_as_reference
from videos.actions.generations import (
    CHANGE_REFUSALS,
    DUPLICATE_WINDOW,
    MAX_TAKES,
    SUBMIT_RESCUE,
    DuplicateRequest,
    SubmissionTokenReused,
    abandon,
    archive_other_takes,
    cancel,
    choose_take,
    create_comparison,
    create_generation,
    create_takes,
    delete_generation,
    recent_duplicate,
    request_fingerprint,
    resubmit,
    retry,
)
from videos.actions.keys import TooManyChecks, add_key, check_key, delete_key, replace_key_secret, update_key
from videos.actions.notes import NoteRefused, add_note, reopen, reply, resolve
from videos.actions.prices import delete_team_price, set_team_price
from videos.actions.review import (
    VERDICT_WORDS,
    Favorite,
    decide_review,
    mark_read,
    send_to_review,
    set_favorite,
    toggle_favorite,
)
from videos.actions.sequences import (
    add_shot,
    continue_shot,
    continuing_key,
    create_sequence,
    delete_sequence,
    move_shot,
    remove_shot,
    render_sequence,
    reorder_shots,
)
from videos.actions.share import (
    MAX_SHARE_DAYS,
    ShareRefused,
    add_guest_note,
    board_shows,
    can_share,
    create_board_share_link,
    create_share_link,
    leaves_the_studio,
    record_share_view,
    revoke_share_link,
)
from videos.actions.templates import (
    TemplateRefused,
    delete_template,
    record_template_use,
    save_template,
    update_template,
)
from videos.actions.webhooks import (
    EndpointRefused,
    add_endpoint,
    delete_endpoint,
    redeliver,
    send_test_event,
    set_endpoint_enabled,
)
from videos.models import NewReference

__all__ = [
    "BoardRefused",
    "TemplateRefused",
    "add_sequence_to_board",
    "add_to_board",
    "create_board",
    "delete_board",
    "delete_template",
    "record_template_use",
    "remove_from_board",
    "remove_sequence_from_board",
    "save_template",
    "update_board",
    "update_template",
    "EndpointRefused",
    "MAX_SHARE_DAYS",
    "ShareRefused",
    "add_guest_note",
    "can_share",
    "board_shows",
    "create_board_share_link",
    "create_share_link",
    "leaves_the_studio",
    "record_share_view",
    "revoke_share_link",
    "Favorite",
    "NewReference",
    "Refused",
    "add_shot",
    "continue_shot",
    "continuing_key",
    "create_sequence",
    "delete_sequence",
    "frame_as_reference",
    "move_shot",
    "remove_shot",
    "render_sequence",
    "reorder_shots",
    "NoteRefused",
    "SUBMIT_RESCUE",
    "DUPLICATE_WINDOW",
    "MAX_TAKES",
    "CHANGE_REFUSALS",
    "DuplicateRequest",
    "SubmissionTokenReused",
    "archive_other_takes",
    "choose_take",
    "create_takes",
    "create_comparison",
    "recent_duplicate",
    "request_fingerprint",
    "TooManyChecks",
    "VERDICT_WORDS",
    "abandon",
    "add_endpoint",
    "add_key",
    "add_note",
    "approve_spending",
    "cancel",
    "check_key",
    "create_generation",
    "decide_review",
    "decline_spending",
    "delete_generation",
    "delete_endpoint",
    "delete_key",
    "delete_team_price",
    "mark_read",
    "redeliver",
    "reopen",
    "reply",
    "replace_key_secret",
    "resolve",
    "resubmit",
    "retry",
    "send_test_event",
    "send_to_review",
    "set_endpoint_enabled",
    "set_favorite",
    "set_team_price",
    "toggle_favorite",
    "update_key",
]
