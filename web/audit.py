"""Audit trail entries written by the web page: who (username), when, what (no personal data)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.store import AuditRow, DocumentRow


def audit_form(s: Session, actor: str, action: str, form_id: str, detail: str = "") -> None:
    """Record an action on a form or its referral, pointing at the form's first document.

    Args:
        s: The session of the action itself, so the entry commits (or not) with it.
        actor: Username.
        action: Stable verb, e.g. ``form_viewed``, ``review_approved``.
        form_id: The form serial (not personal data).
        detail: Codes and ids only: never names, phones, addresses or field values.
    """
    sha = s.scalar(select(DocumentRow.sha256).where(DocumentRow.form_id == form_id)
                   .order_by(DocumentRow.original_name).limit(1))
    text = f"form {form_id}" + (f"; {detail}" if detail else "")
    s.add(AuditRow(actor=actor, action=action, sha256=sha, detail=text))
