"""The studio's pages, grouped as the web modules are (``videos.web``)."""

from django.urls import path

from videos.web import (
    activity,
    boards,
    compose,
    generations,
    history,
    keys,
    live,
    money,
    notes,
    prompts,
    review,
    sequences,
    share,
    takes,
    webhooks,
)

urlpatterns = [
    # compose (the studio page)
    path("", compose.studio, name="studio"),
    path("compose/options", compose.compose_options, name="compose_options"),
    path("compose/estimate", compose.estimate, name="estimate"),
    path("generate", compose.generate, name="generate"),
    path("generations/<uuid:uuid>/card", compose.card, name="card"),
    # takes: several of one request
    path("takes/<uuid:group>/", takes.takes, name="takes"),
    path("generations/<uuid:uuid>/choose", takes.choose, name="choose_take"),
    path("generations/<uuid:uuid>/archive-others", takes.archive_others, name="archive_other_takes"),
    path("live", live.refresh, name="live"),  # the page's one poller: every live card, tile and badge
    # one generation
    path("generations/<uuid:uuid>/", generations.detail, name="generation"),
    path("generations/<uuid:uuid>/video.mp4", generations.video_file, name="video_file"),
    path("generations/<uuid:uuid>/poster.jpg", generations.poster_file, name="poster_file"),
    path("generations/<uuid:uuid>/references/<int:position>", generations.reference_file, name="reference_file"),
    path("r/<str:token>.<str:ext>", generations.reference_public, name="reference_public"),
    path("generations/<uuid:uuid>/remix", generations.remix, name="remix"),
    path("generations/<uuid:uuid>/retry", generations.retry, name="retry"),
    path("generations/<uuid:uuid>/cancel", generations.cancel, name="cancel"),
    path("generations/<uuid:uuid>/resubmit", generations.resubmit, name="resubmit"),
    path("generations/<uuid:uuid>/abandon", generations.abandon, name="abandon"),
    path("generations/<uuid:uuid>/favorite", generations.favorite, name="favorite"),
    path("generations/<uuid:uuid>/delete", generations.delete, name="delete"),
    # notes on the timeline, versions
    path("generations/<uuid:uuid>/notes", notes.note_add, name="note_add"),
    path("generations/<uuid:uuid>/notes/<uuid:note>/reply", notes.note_reply, name="note_reply"),
    path("generations/<uuid:uuid>/notes/<uuid:note>/resolve", notes.note_resolve, name="note_resolve"),
    path("generations/<uuid:uuid>/notes/<uuid:note>/reopen", notes.note_reopen, name="note_reopen"),
    path("generations/<uuid:uuid>/compare/<uuid:other>", notes.compare, name="compare"),
    # history
    path("history/", history.history, name="history"),
    path("history/bulk", history.bulk, name="bulk"),
    # review desk
    path("review/", review.review_queue, name="review_queue"),
    path("generations/<uuid:uuid>/review", review.review_decide, name="review_decide"),
    # activity
    path("audit/", activity.audit_log, name="audit_log"),
    path("audit/export.csv", activity.audit_export, name="audit_export"),
    path("notifications/", activity.notifications, name="notifications"),
    # keys
    path("keys/", keys.keys, name="keys"),
    path("keys/base-url", keys.key_base_url, name="key_base_url"),
    path("keys/<uuid:uuid>/check", keys.key_check, name="key_check"),
    path("keys/<uuid:uuid>/edit", keys.key_edit, name="key_edit"),
    path("keys/<uuid:uuid>/replace", keys.key_replace, name="key_replace"),
    path("keys/<uuid:uuid>/delete", keys.key_delete, name="key_delete"),
    # money
    path("spend/", money.spend, name="spend"),
    path("spend/prices/", money.prices, name="prices"),
    path("approvals/", money.approvals, name="approvals"),
    path("generations/<uuid:uuid>/approve", money.settle_approval, {"decision": "approve"}, name="approve_spending"),
    path("generations/<uuid:uuid>/decline", money.settle_approval, {"decision": "decline"}, name="decline_spending"),
    # webhooks
    path("webhooks/", webhooks.webhooks, name="webhooks"),
    path("webhooks/<uuid:uuid>/", webhooks.webhook, name="webhook"),
    path("webhooks/<uuid:uuid>/test", webhooks.webhook_test, name="webhook_test"),
    path("webhooks/<uuid:uuid>/enable", webhooks.webhook_enabled, {"enabled": True}, name="webhook_enable"),
    path("webhooks/<uuid:uuid>/disable", webhooks.webhook_enabled, {"enabled": False}, name="webhook_disable"),
    path("webhooks/<uuid:uuid>/delete", webhooks.webhook_delete, name="webhook_delete"),
    path("webhooks/deliveries/<uuid:delivery>/redeliver", webhooks.webhook_redeliver, name="webhook_redeliver"),
    # share links: members make and revoke them; guests open /s/<token>/ (no login)
    path("generations/<uuid:uuid>/share", share.share_create, name="share_create"),
    path("generations/<uuid:uuid>/share/revoke", share.share_revoke, name="share_revoke"),
    path("s/<str:token>/", share.share_page, name="share_page"),
    path("s/<str:token>/video.mp4", share.share_video, name="share_video"),
    path("s/<str:token>/poster.jpg", share.share_poster, name="share_poster"),
    # frames and sequences
    path("generations/<uuid:uuid>/frame", sequences.take_frame, name="take_frame"),
    path("frames/<uuid:uuid>.png", sequences.frame_file, name="frame_file"),
    path("sequences/", sequences.sequences, name="sequences"),
    path("sequences/add", sequences.add_to_sequence, name="add_to_sequence"),
    path("sequences/<uuid:uuid>/", sequences.sequence, name="sequence"),
    path("sequences/<uuid:uuid>/order", sequences.shot_order, name="shot_order"),
    path("sequences/<uuid:uuid>/render", sequences.sequence_render, name="sequence_render"),
    path("sequences/<uuid:uuid>/delete", sequences.sequence_delete, name="sequence_delete"),
    path("sequences/<uuid:uuid>/card", sequences.sequence_card, name="sequence_card"),
    path("sequences/<uuid:uuid>/video.mp4", sequences.sequence_video, name="sequence_video"),
    path("sequences/<uuid:uuid>/poster.jpg", sequences.sequence_poster, name="sequence_poster"),
    path("sequences/<uuid:uuid>/shots/<int:shot_id>/move", sequences.shot_move, name="shot_move"),
    path("sequences/<uuid:uuid>/shots/<int:shot_id>/remove", sequences.shot_remove, name="shot_remove"),
    path("sequences/<uuid:uuid>/shots/<int:shot_id>/continue", sequences.shot_continue, name="shot_continue"),
    # boards and the prompt library
    path("boards/", boards.boards, name="boards"),
    path("boards/add", boards.add, name="board_add"),
    path("boards/<uuid:uuid>/", boards.board, name="board"),
    path("boards/<uuid:uuid>/remove", boards.board_remove, name="board_remove"),
    path("boards/<uuid:uuid>/download", boards.board_download, name="board_download"),
    path("boards/<uuid:uuid>/delete", boards.board_delete, name="board_delete"),
    path("prompts/", prompts.prompts, name="prompts"),
    path("prompts/save", prompts.save, name="prompt_save"),
    path("prompts/<uuid:uuid>/edit", prompts.edit, name="prompt_edit"),
    path("prompts/<uuid:uuid>/delete", prompts.delete, name="prompt_delete"),
]
