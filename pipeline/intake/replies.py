"""Replies to schools: one French acknowledgement per message, sent by SMTP, at most once.

Off by default (``CLAS_MAIL__SMTP__ENABLED``). A reply lists the files of the
message it answers, each with what became of it: accepted, being checked by the
team, or to correct with the reason in French. It names files by the names the
school gave them and forms by their serial; it never copies anything read on a
form, so it cannot name a pupil who was not in that message. Decorations (logos)
are not mentioned.

At most once: ``pipeline.intake.mail_store.MailStore.claim_reply`` marks the reply as
being sent before the SMTP conversation starts; a run killed during it leaves the
mark, and the reply is not sent again. Only a failure before any message data
reached the server (connection, TLS, login) puts the reply back as pending.
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from pipeline.errors import ClasError
from pipeline.intake.mail_store import AttachmentOutcome, MailStore, ReplyStatus
from pipeline.intake.mailbox import is_loopback, tls_context
from pipeline.settings import SmtpSettings

logger = logging.getLogger(__name__)

REPLY_SUBJECT_FR = "Accusé de réception de vos fiches d'orientation CLAS"
INTERNAL_REASONS = frozenset({"low_confidence", "sender_unknown", "sender_school_mismatch",
                              "pupil_already_referred", "waiting_list", "internal_error"})
"""Reasons for the city's team, not the school's to correct: a form held for them is "being checked"."""


class ReplyError(ClasError):
    """A reply could not be sent.

    Attributes:
        delivered_nothing: True when the failure came before any message data reached the
            server (connection, TLS, login): the reply may be tried again on a later run.
    """

    code = "reply_failed"
    default_reason_fr = "Réponse à l'école non envoyée : vérifier les réglages SMTP (CLAS_MAIL__SMTP__*)."

    def __init__(self, message: str, *, delivered_nothing: bool, reason_fr: str | None = None) -> None:
        """Create the error; see the class docstring for ``delivered_nothing``."""
        super().__init__(message, reason_fr=reason_fr)
        self.delivered_nothing = delivered_nothing


_STAFF_DIRECTIVE = re.compile(r"(?:(?:le|la) traiter à la main ou )?demander à l'école d(e |')", re.IGNORECASE)
"""A reason is written for the city's team (« le traiter à la main ou demander à l'école de le renvoyer »); said to
the school, its directive is addressed to the school (« merci de le renvoyer »). An attack (2026-12-07) found
replies telling a school « le traiter à la main ou demander à l'école… »."""


_STAFF_ONLY = re.compile(r",? ou (?:le|la) (?:traiter|saisir) à la main")
"""The team's own way out (« …, ou le traiter à la main »), not the school's to take."""
_STAFF_FIRST = re.compile(r"(?:le|la) (?:traiter|saisir) à la main ou (?=\w)", re.IGNORECASE)
"""The same way out offered first (« la saisir à la main ou la rescanner »): the school is asked the other."""


_TO_TECHNICAL_TEAM = re.compile(r"(?:la |le )?transmettre (?:le document )?à l'équipe technique(?: pour vérification)?")
"""The team's own step on a file the product failed on (« la transmettre à l'équipe technique pour vérification »,
``pipeline.deciding.validate``; ``pipeline.errors.DocumentError``'s default): the school is told the team sees to
it."""


def to_school(reason_fr: str) -> str:
    """``reason_fr``, a reason written for the city's team, as said to the school that sent the file: its
    « (le traiter à la main ou) demander à l'école de … » becomes « merci de … » (« d'… » kept elided), with a
    capital where the directive began a sentence, and the team's « le traiter à la main » goes."""
    def merci(elision: str) -> Callable[[re.Match[str]], str]:
        return lambda m: f"{'M' if m.group(0)[0].isupper() else 'm'}erci d{elision or m.group(1)}"

    text = _STAFF_ONLY.sub("", _STAFF_DIRECTIVE.sub(merci(""), reason_fr))
    return _TO_TECHNICAL_TEAM.sub("l'équipe CLAS s'en occupe", _STAFF_FIRST.sub(merci("e "), text))


def _line(o: AttachmentOutcome) -> tuple[str, str]:
    """``(section, line)`` for one file: section is ``accepted``, ``checking`` or ``correct``."""
    serial = f" (fiche {o.form_id})" if o.form_id and not o.form_id.startswith("sha256:") else ""
    name = f"« {o.filename} »{serial}"
    if o.kind != "document":
        return "correct", f"- {name} : {to_school(o.reasons[0][1]) if o.reasons else 'fichier non lu.'}"
    if o.outcome in ("routed", "waiting_list"):
        return "accepted", f"- {name} : fiche acceptée."
    if o.outcome == "duplicate":
        return "accepted", f"- {name} : déjà reçue, rien à faire."
    to_correct = [text for code, text in o.reasons if code not in INTERNAL_REASONS]
    if o.outcome == "review" and not to_correct:
        return "checking", f"- {name} : reçue, en cours de vérification par l'équipe CLAS."
    details = " ".join(to_school(text) for text in to_correct) or "fichier non lu."
    return "correct", f"- {name} : {details}"


def reply_text(outcomes: Sequence[AttachmentOutcome], message_reasons: Sequence[str] = ()) -> str:
    """The reply's French body for a message's files (decorations left out).

    Args:
        outcomes: The message's files and what became of them.
        message_reasons: French reasons that concern the whole message (refused, no document).
    """
    sections: dict[str, list[str]] = {"accepted": [], "checking": [], "correct": []}
    for o in outcomes:
        if o.kind == "decoration":
            continue
        section, line = _line(o)
        sections[section].append(line)
    received = sum(1 for o in outcomes if o.kind != "decoration")
    count = f" ({received} fichier{'s' if received > 1 else ''})" if received or not message_reasons else ""
    parts = ["Bonjour,", "", f"Le service CLAS a bien reçu votre message{count}."]  # a message refused whole: unread
    parts += ["", *(to_school(r) for r in message_reasons)] if message_reasons else []
    titles = {"accepted": "Fiches acceptées :", "checking": "Fiches en cours de vérification :",
              "correct": "À corriger (merci de renvoyer la fiche corrigée) :"}
    for key, title in titles.items():
        if sections[key]:
            parts += ["", title, *sections[key]]
    parts += ["", "Ce message est envoyé automatiquement. Pour toute question, répondre à ce message.", "",
              "Le service CLAS"]
    return "\n".join(parts) + "\n"


def compose_reply(smtp: SmtpSettings, to: str, in_reply_to: str, outcomes: Sequence[AttachmentOutcome],
                  message_reasons: Sequence[str] = ()) -> EmailMessage:
    """The reply message, threaded under the school's message (``In-Reply-To``, ``References``).

    Args:
        smtp: SMTP settings (``sender`` is the ``From``).
        to: The school's address.
        in_reply_to: The school's Message-ID (without brackets), or ``sha256:…`` when it had none.
        outcomes: The message's files.
        message_reasons: French reasons that concern the whole message.
    """
    reply = EmailMessage()
    reply["From"] = smtp.sender
    reply["To"] = to
    reply["Subject"] = REPLY_SUBJECT_FR
    reply["Date"] = format_datetime(datetime.now(UTC))
    reply["Message-ID"] = make_msgid(domain=smtp.sender.rpartition("@")[2] or None)
    reply["Auto-Submitted"] = "auto-replied"  # RFC 3834: no auto-reply loops
    if not in_reply_to.startswith("sha256:"):
        reply["In-Reply-To"] = f"<{in_reply_to}>"
        reply["References"] = f"<{in_reply_to}>"
    reply.set_content(reply_text(outcomes, message_reasons))
    return reply


def open_smtp(smtp: SmtpSettings) -> smtplib.SMTP:
    """A logged-in SMTP connection (TLS, STARTTLS, or plain text to a loopback host only); the caller quits it.

    Shared by the replies to schools and the notices to referring teachers (:mod:`pipeline.notices`).

    Raises:
        ReplyError: With ``delivered_nothing`` true: plain text refused off loopback, or the connection, TLS
            handshake or login failed (the message names the host and the error's type, never a credential).
    """
    port = smtp.port or {"tls": 465, "starttls": 587, "none": 25}[smtp.security]
    if smtp.security == "none" and not is_loopback(smtp.host):
        raise ReplyError(f"refusing plain-text SMTP to {smtp.host}", delivered_nothing=True)
    try:
        if smtp.security == "tls":
            client: smtplib.SMTP = smtplib.SMTP_SSL(smtp.host, port, timeout=smtp.timeout_s,
                                                    context=tls_context(smtp.ca_file))
        else:
            client = smtplib.SMTP(smtp.host, port, timeout=smtp.timeout_s)
        if smtp.security == "starttls":
            client.starttls(context=tls_context(smtp.ca_file))
        if smtp.user:
            client.login(smtp.user, smtp.password.get_secret_value())
    except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:
        raise ReplyError(f"SMTP connection to {smtp.host}:{port} failed: {type(exc).__name__}",
                         delivered_nothing=True) from None
    return client


def send_reply(smtp: SmtpSettings, reply: EmailMessage) -> None:
    """Send one message by SMTP (:func:`open_smtp`).

    Raises:
        ReplyError: With ``delivered_nothing`` true when nothing reached the server.
    """
    client = open_smtp(smtp)
    try:
        client.send_message(reply)
    except (smtplib.SMTPSenderRefused, smtplib.SMTPRecipientsRefused) as exc:
        raise ReplyError(f"SMTP server refused the reply: {type(exc).__name__}", delivered_nothing=False) from None
    except (OSError, smtplib.SMTPException) as exc:
        raise ReplyError(f"SMTP failure while sending: {type(exc).__name__}", delivered_nothing=False) from None
    finally:
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            pass


def reply_once(mail_store: MailStore, row_id: int, smtp: SmtpSettings, message_reasons: Sequence[str] = ()
               ) -> ReplyStatus | None:
    """Send a settled message's reply if it is due and nobody took it yet.

    Returns:
        The reply's new status, or ``None`` when there was nothing to send (not due, or
        already claimed by this or an earlier run).
    """
    if not smtp.enabled or not mail_store.claim_reply(row_id):
        return None
    view = mail_store.find_by_row(row_id)
    reply = compose_reply(smtp, view.sender, view.message_id, mail_store.outcomes(row_id), message_reasons)
    try:
        send_reply(smtp, reply)
    except ReplyError as exc:
        status = ReplyStatus.PENDING if exc.delivered_nothing else ReplyStatus.FAILED
        logger.warning("message #%s: reply not sent (%s); now %s", row_id, exc, status.value)
        mail_store.finish_reply(row_id, status)
        return status
    mail_store.finish_reply(row_id, ReplyStatus.SENT)
    return ReplyStatus.SENT


def compose_rejection(smtp: SmtpSettings, to: str, in_reply_to: str, form_id: str, filenames: Sequence[str],
                      reason_fr: str) -> EmailMessage:
    """The French notice that staff rejected a form, threaded under the school's message.

    Like the acknowledgement, it names the form by its printed serial and the files by
    the names the school gave them, and copies nothing read on the form: the only
    free text is the reason staff typed for the school. Sent once per form by the
    review desk (``web.rejection``) with :func:`send_reply`.

    Args:
        smtp: SMTP settings (``sender`` is the ``From``).
        to: The school's address (the sender of the message that carried the form).
        in_reply_to: That message's Message-ID (without brackets), or ``sha256:…`` when it had none.
        form_id: The form's key; a shared serial's ``@…`` suffix (``form_definition.form_key``) is left out.
        filenames: The files of that message that carried the form, as the school named them.
        reason_fr: Why the form was rejected, as staff wrote it for the school.
    """
    serial = form_id.partition("@")[0]
    printed = "" if serial.startswith("sha256:") else f" n° {serial}"
    files = ", ".join(f"« {name} »" for name in filenames)
    notice = EmailMessage()
    notice["From"] = smtp.sender
    notice["To"] = to
    notice["Subject"] = f"Fiche d'orientation CLAS{printed} rejetée"
    notice["Date"] = format_datetime(datetime.now(UTC))
    notice["Message-ID"] = make_msgid(domain=smtp.sender.rpartition("@")[2] or None)
    notice["Auto-Submitted"] = "auto-generated"  # RFC 3834: written by a program, no auto-reply expected
    if not in_reply_to.startswith("sha256:"):
        notice["In-Reply-To"] = f"<{in_reply_to}>"
        notice["References"] = f"<{in_reply_to}>"
    body = ["Bonjour,", "",
            f"La fiche d'orientation CLAS{printed} que vous nous avez envoyée"
            + (f" (fichier{'s' if len(filenames) > 1 else ''} {files})" if files else "")
            + " a été rejetée par l'équipe CLAS.", "",
            f"Motif : {reason_fr}", "",
            "Merci de renvoyer une fiche corrigée si l'orientation de l'élève reste souhaitée.", "",
            "Pour toute question, répondre à ce message.", "", "Le service CLAS"]
    notice.set_content("\n".join(body) + "\n")
    return notice
