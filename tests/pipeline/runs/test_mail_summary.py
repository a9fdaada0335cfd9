"""The mail run's accounting (``pipeline.runs.mail.summarise_messages``)."""

from __future__ import annotations

from pipeline.runs.mail import MessageResult, summarise_messages


def test_a_copy_of_a_message_does_not_count_its_reply_twice() -> None:
    """An attack of 2026-12-07: two copies of one message (one row, one reply) were counted as two replies sent."""
    results = [MessageResult("1", 7, "processed", "Traités", "sent", {"document": 1}),
               MessageResult("2", 7, "processed", "Traités", "sent", {}),  # the copy: filed like it
               MessageResult("3", 8, "quarantined", "Quarantaine", "none", {"rejected": 1})]

    summary = summarise_messages(results)

    assert summary.messages == 3 and summary.statuses == {"processed": 2, "quarantined": 1}
    assert summary.replies == {"sent": 1, "none": 1}
    assert summary.attachments == {"document": 1, "rejected": 1}
