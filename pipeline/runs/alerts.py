"""The staff alert: one French e-mail when a nightly run fails, with no personal data.

A run that fails (the inbox folder missing, the database unreachable after its
retries, another run holding the lock, an unexpected error) leaves the forms where
they were and the next run takes them again; staff still need to know the night
was lost. Both flows call :func:`send_alert` once from their failure hook
(``flows.tasks.alert_staff``), so a failed run sends one alert, and a run that did not fail sends none.

No personal data: the alert names the run (Prefect's run name and id, the time)
and the error by its stable code and French reason (``ClasError.reason_fr``, written
for staff) or, for any other exception, by its type only. Exception messages are
never copied: they may carry a path named after a pupil or a value read on a form.

At most once: a try that delivered part of the message to the server is never
repeated; only a failure before any message data went out (connection, TLS, login)
is tried again, after an exponential backoff (``AlertSettings.backoff_s``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from enum import StrEnum
from zoneinfo import ZoneInfo

from pipeline.errors import ClasError
from pipeline.intake.replies import ReplyError, send_reply
from pipeline.settings import AlertSettings, SmtpSettings

logger = logging.getLogger(__name__)

ALERT_SUBJECT_FR = "Échec de l'exécution nocturne CLAS"
STAFF_TIMEZONE = ZoneInfo("Europe/Paris")
"""Times in the alert are Paris local time, as the schedule is."""
UNEXPECTED_REASON_FR = (
    "Erreur inattendue : transmettre ce message à l'équipe technique, qui trouvera le détail dans le journal "
    "de l'exécution (Prefect)."
)


CRASHED_REASON_FR = (
    "Exécution interrompue brutalement (processus arrêté, machine redémarrée ou mémoire épuisée) : les fichiers "
    "non traités restent où ils étaient et la prochaine exécution les reprendra ; si cela se répète, prévenir "
    "l'équipe technique."
)
INTERRUPTED_REASON_FR = (
    "Exécution arrêtée sans avoir enregistré sa fin (processus tué ou machine arrêtée) : constaté au démarrage de "
    "l'exécution suivante, qui a repris les fichiers non traités."
)
RUN_CRASHED = "run_crashed"
"""Error code of a crashed run in alerts and in ``runs.end_reason``'s context."""


class AlertStatus(StrEnum):
    """What became of an alert."""

    SENT = "sent"
    DISABLED = "disabled"
    """No staff address (``CLAS_ALERTS__STAFF_ADDRESS``) or no SMTP host: nothing was tried."""
    FAILED = "failed"
    """The SMTP server could not be reached after every try, or refused the message."""


@dataclass(frozen=True)
class RunFailure:
    """What the alert says about a failed run: identifiers, times and the error's kind only.

    Attributes:
        flow_name: The flow, e.g. ``clas-nightly``.
        run_name: Prefect's generated run name (two random words).
        run_id: Prefect's flow run id.
        failed_at: When the run failed (timezone-aware).
        error_code: ``ClasError.code``, or the exception's type name for any other error.
        reason_fr: What staff should do, in French.
    """

    flow_name: str
    run_name: str
    run_id: str
    failed_at: datetime
    error_code: str
    reason_fr: str


def describe_failure(flow_name: str, run_name: str, run_id: str, failed_at: datetime,
                     error: BaseException | None) -> RunFailure:
    """The alert's facts for a run that ended with ``error`` (its message is never kept).

    Args:
        flow_name: The flow's name.
        run_name: The run's name.
        run_id: The run's id.
        failed_at: When it failed (timezone-aware).
        error: The exception the run raised, when known.
    """
    if isinstance(error, ClasError):
        return RunFailure(flow_name, run_name, run_id, failed_at, error.code, error.reason_fr)
    code = type(error).__name__ if error is not None else "unknown"
    return RunFailure(flow_name, run_name, run_id, failed_at, code, UNEXPECTED_REASON_FR)


def describe_crash(flow_name: str, run_name: str, run_id: str, failed_at: datetime) -> RunFailure:
    """The alert's facts for a run that crashed (Prefect's Crashed state: a signal, an interpreter exit)."""
    return RunFailure(flow_name, run_name, run_id, failed_at, RUN_CRASHED, CRASHED_REASON_FR)


def describe_interrupted(flow_name: str, run_id: int, started_at: datetime) -> RunFailure:
    """The alert's facts for a run found unfinished by the next one (killed outright: no hook could run).

    Args:
        flow_name: The flow that found it.
        run_id: The interrupted run's row in ``runs``.
        started_at: When it started (the time the alert gives).
    """
    return RunFailure(flow_name, f"exécution n° {run_id} de la base", str(run_id), started_at, RUN_CRASHED,
                      INTERRUPTED_REASON_FR)


def alert_text(failure: RunFailure) -> str:
    """The alert's French body."""
    local = failure.failed_at.astimezone(STAFF_TIMEZONE)
    return "\n".join([
        "Bonjour,",
        "",
        f"L'exécution « {failure.flow_name} » du {local:%d/%m/%Y} à {local:%H:%M} (heure de Paris) a échoué.",
        "",
        f"Motif : {failure.reason_fr}",
        f"Code de l'erreur : {failure.error_code}",
        f"Exécution Prefect : {failure.run_name} ({failure.run_id})",
        "",
        "Les fichiers non traités restent où ils étaient : la prochaine exécution les reprendra.",
        "Ce message ne contient aucune donnée personnelle ; il est envoyé une seule fois par exécution échouée.",
        "",
        "Le service CLAS (message automatique)",
    ]) + "\n"


def compose_alert(alerts: AlertSettings, smtp: SmtpSettings, failure: RunFailure) -> EmailMessage:
    """The alert message from ``smtp.sender`` to ``alerts.staff_address``."""
    message = EmailMessage()
    message["From"] = smtp.sender
    message["To"] = alerts.staff_address
    message["Subject"] = ALERT_SUBJECT_FR
    message["Date"] = format_datetime(failure.failed_at)
    message["Message-ID"] = make_msgid(domain=smtp.sender.rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no automatic reply to it
    message.set_content(alert_text(failure))
    return message


def send_alert(alerts: AlertSettings, smtp: SmtpSettings, failure: RunFailure,
               sleep: Callable[[float], None] = time.sleep) -> AlertStatus:
    """Send the alert once, trying to connect up to ``alerts.connect_attempts`` times.

    Never raises for a mail problem: a failing alert must not hide the run's own error.

    Args:
        alerts: Where to send and how often to try.
        smtp: The SMTP server (the replies' one).
        failure: The failed run.
        sleep: Waits between tries (tests pass a recorder).
    """
    if not alerts.staff_address or not smtp.host:
        return AlertStatus.DISABLED
    message = compose_alert(alerts, smtp, failure)
    delay = alerts.backoff_s
    for attempt in range(1, max(1, alerts.connect_attempts) + 1):
        try:
            send_reply(smtp, message)
        except ReplyError as exc:
            if not exc.delivered_nothing or attempt >= alerts.connect_attempts:
                logger.warning("run %s: staff alert not sent after %d try(ies) (%s)", failure.run_id, attempt, exc)
                return AlertStatus.FAILED
            logger.info("run %s: staff alert, try %d failed (%s); next in %.0f s", failure.run_id, attempt, exc,
                        delay)
            sleep(delay)
            delay *= 2
            continue
        logger.info("run %s: staff alert sent", failure.run_id)
        return AlertStatus.SENT
    return AlertStatus.FAILED  # pragma: no cover - the loop always returns
