"""Mail sources: an IMAP mailbox (imap-tools), a folder of ``.eml`` files, a Maildir.

Every source lists the messages present when the run starts (keys and sizes only,
so a run's memory is bounded by one message), fetches one message's bytes without
marking it read, and files a message once the caller has durably recorded its
documents: moved to the processed or quarantine folder, or flagged with a keyword.
A source never decides where a message goes; ``pipeline.runs.mail`` does.

The IMAP password comes from settings (``CLAS_MAIL__PASSWORD``) as a secret and is
never logged; :attr:`MailSource.label` names the mailbox without it.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from pipeline.settings import MailSettings

logger = logging.getLogger(__name__)

PROCESSED_KEYWORD = "$ClasTraite"
QUARANTINE_KEYWORD = "$ClasQuarantaine"
"""IMAP keywords set instead of moving, with ``MailSettings.after = "flag"`` (RFC 3501 §2.3.2 flag-keyword)."""


class MailSourceError(Exception):
    """The mailbox cannot be reached, logged into or changed; the run stops and nothing is filed.

    The message says what to check next; it never holds the password.
    """


@dataclass(frozen=True)
class MessageRef:
    """A message present in the source when the run started.

    Attributes:
        key: The source's id for it (an IMAP UID, a file name).
        size_bytes: Its size as the source reports it, in bytes.
    """

    key: str
    size_bytes: int


class MailSource(Protocol):
    """What the mail intake needs from a mailbox."""

    label: str
    """Where messages come from, without any secret (e.g. ``imap:clas@mail.example:993/INBOX``)."""

    def list_messages(self) -> list[MessageRef]:
        """The messages to read, present now, in a stable order."""
        ...

    def fetch(self, key: str) -> bytes:
        """One message's bytes, without marking it read."""
        ...

    def fetch_header(self, key: str) -> bytes:
        """Only the message's header (for a message too large to read whole)."""
        ...

    def file_message(self, key: str, folder: str) -> None:
        """Move the message to ``folder`` (or flag it), once its documents are recorded."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...


# --- IMAP ------------------------------------------------------------------------------

_FETCH_SIZE = re.compile(rb"UID (\d+).*?RFC822\.SIZE (\d+)|RFC822\.SIZE (\d+).*?UID (\d+)")


def is_loopback(host: str) -> bool:
    """Whether ``host`` resolves to a loopback address (plain text is allowed only there)."""
    try:
        return ipaddress.ip_address(socket.gethostbyname(host)).is_loopback
    except (OSError, ValueError):
        return False


def tls_context(ca_file: Path | None) -> ssl.SSLContext:
    """A verifying TLS context (system CAs, plus ``ca_file`` when given); TLS 1.2 at least."""
    context = ssl.create_default_context()
    if ca_file is not None:
        context.load_verify_locations(cafile=str(ca_file))
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


class ImapSource:
    """An IMAP folder read with imap-tools, over TLS, STARTTLS or (loopback only) plain text.

    Args:
        settings: The mail section (host, port, security, user, password, folders).

    Raises:
        MailSourceError: Connection, TLS or login failure, or plain text to a non-loopback host.
    """

    def __init__(self, settings: MailSettings) -> None:
        from imap_tools import BaseMailBox, MailBox, MailBoxStartTls, MailBoxUnencrypted
        from imap_tools.errors import MailboxLoginError

        self.settings = settings
        default_port = 993 if settings.security == "tls" else 143
        port = settings.port or default_port
        self.label = f"imap:{settings.user}@{settings.host}:{port}/{settings.folder}"
        if not settings.host:
            raise MailSourceError("no IMAP host: set CLAS_MAIL__HOST (and CLAS_MAIL__USER, CLAS_MAIL__PASSWORD)")
        if settings.security == "none" and not is_loopback(settings.host):
            raise MailSourceError(f"refusing a plain-text IMAP connection to {settings.host}: "
                                  "set CLAS_MAIL__SECURITY=tls or starttls")
        try:
            box: BaseMailBox
            if settings.security == "tls":
                box = MailBox(settings.host, port, timeout=settings.timeout_s,
                              ssl_context=tls_context(settings.ca_file))
            elif settings.security == "starttls":
                box = MailBoxStartTls(settings.host, port, timeout=settings.timeout_s,
                                      ssl_context=tls_context(settings.ca_file))
            else:
                box = MailBoxUnencrypted(settings.host, port, timeout=settings.timeout_s)
            self.box = box.login(settings.user, settings.password.get_secret_value(), initial_folder=settings.folder)
        except MailboxLoginError:
            raise MailSourceError(f"IMAP login refused for {self.label}: check CLAS_MAIL__USER and "
                                  "CLAS_MAIL__PASSWORD") from None
        except (OSError, ssl.SSLError) as exc:
            raise MailSourceError(f"cannot reach {self.label}: {type(exc).__name__}: {exc}; check host, port, "
                                  "CLAS_MAIL__SECURITY and CLAS_MAIL__CA_FILE") from None
        self._folders_ready: set[str] = set()

    def list_messages(self) -> list[MessageRef]:
        """UIDs and sizes of the folder's messages (skipping flagged ones in ``flag`` mode)."""
        criteria = "ALL"
        if self.settings.after == "flag":
            criteria = f"NOT KEYWORD {PROCESSED_KEYWORD} NOT KEYWORD {QUARANTINE_KEYWORD}"
        uids = self.box.uids(criteria)
        refs: list[MessageRef] = []
        for start in range(0, len(uids), 500):
            chunk = ",".join(uids[start:start + 500])
            status, data = self.box.client.uid("FETCH", chunk, "(RFC822.SIZE)")
            if status != "OK":
                raise MailSourceError(f"cannot list the messages of {self.label}: {status}")
            for item in data:
                line = item[0] if isinstance(item, tuple) else item
                if not isinstance(line, bytes):
                    continue
                m = _FETCH_SIZE.search(line)
                if m:
                    uid, size = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
                    refs.append(MessageRef(uid.decode(), int(size)))
        return sorted(refs, key=lambda r: int(r.key))

    def fetch(self, key: str) -> bytes:
        """The message's bytes (``BODY.PEEK[]``: the \\Seen flag is left as it was)."""
        status, data = self.box.client.uid("FETCH", key, "(BODY.PEEK[])")
        for item in data if status == "OK" else []:
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
                return item[1]
        raise MailSourceError(f"message {key} of {self.label} could not be fetched ({status})")

    def fetch_header(self, key: str) -> bytes:
        """The message's header only (``BODY.PEEK[HEADER]``)."""
        status, data = self.box.client.uid("FETCH", key, "(BODY.PEEK[HEADER])")
        for item in data if status == "OK" else []:
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
                return item[1]
        raise MailSourceError(f"header of message {key} of {self.label} could not be fetched ({status})")

    def _ensure_folder(self, folder: str) -> None:
        if folder in self._folders_ready:
            return
        if not self.box.folder.exists(folder):
            self.box.folder.create(folder)
        self._folders_ready.add(folder)

    def file_message(self, key: str, folder: str) -> None:
        """Move the message to ``folder`` (created if missing), or set the matching keyword."""
        if self.settings.after == "flag":
            keyword = QUARANTINE_KEYWORD if folder == self.settings.quarantine_folder else PROCESSED_KEYWORD
            self.box.flag(key, [keyword], True)
            return
        self._ensure_folder(folder)
        self.box.move(key, folder)

    def close(self) -> None:
        """Log out (errors ignored: the server may already have closed the connection)."""
        try:
            self.box.logout()
        except Exception:  # noqa: BLE001 - closing a dead connection must not hide the run's result
            pass


# --- Folder of .eml files --------------------------------------------------------------

HEADER_MAX_BYTES = 256 * 1024
"""Most bytes read for a header alone (RFC 5322 sets no limit; real headers stay well under)."""


def read_header(path: Path) -> bytes:
    """A message file's header: its bytes up to the first empty line, at most ``HEADER_MAX_BYTES``."""
    with path.open("rb") as fh:
        head = fh.read(HEADER_MAX_BYTES)
    for sep in (b"\r\n\r\n", b"\n\n"):
        end = head.find(sep)
        if end >= 0:
            return head[:end + len(sep)]
    return head


def _move_file(path: Path, folder: Path) -> None:
    """Atomically move ``path`` into ``folder`` (same file system), keeping a free name."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    n = 1
    while target.exists():
        n += 1
        target = folder / f"{path.stem}-{n}{path.suffix}"
    os.replace(path, target)


class EmlFolderSource:
    """A folder of ``.eml`` files (one message each); filed messages go to sub-folders.

    Args:
        settings: The mail section; ``path`` is the folder, ``processed_folder`` and
            ``quarantine_folder`` are created inside it.

    Raises:
        MailSourceError: The folder does not exist.
    """

    def __init__(self, settings: MailSettings) -> None:
        if settings.path is None or not settings.path.is_dir():
            raise MailSourceError(f"mail folder not found: {settings.path}; set CLAS_MAIL__PATH")
        self.root = settings.path
        self.label = f"eml:{self.root.resolve()}"

    def list_messages(self) -> list[MessageRef]:
        """The ``.eml`` files directly in the folder, by name."""
        return [MessageRef(p.name, p.stat().st_size) for p in sorted(self.root.glob("*.eml")) if p.is_file()]

    def fetch(self, key: str) -> bytes:
        """The file's bytes."""
        return (self.root / key).read_bytes()

    def fetch_header(self, key: str) -> bytes:
        """The file's header."""
        return read_header(self.root / key)

    def file_message(self, key: str, folder: str) -> None:
        """Move the file into the sub-folder ``folder``."""
        _move_file(self.root / key, self.root / folder)

    def close(self) -> None:
        """Nothing to release."""


# --- Maildir ---------------------------------------------------------------------------

class MaildirSource:
    """A Maildir (``new/`` and ``cur/``); filed messages go to Maildir++ sub-folders (``.Traités``).

    Files are moved with one ``rename`` each, so a message is never in two folders.

    Args:
        settings: The mail section; ``path`` is the Maildir.

    Raises:
        MailSourceError: ``path`` is not a Maildir.
    """

    def __init__(self, settings: MailSettings) -> None:
        root = settings.path
        if root is None or not (root / "cur").is_dir() or not (root / "new").is_dir():
            raise MailSourceError(f"not a Maildir: {root}; set CLAS_MAIL__PATH to a folder with cur/ and new/")
        self.root = root
        self.label = f"maildir:{root.resolve()}"

    def _path(self, key: str) -> Path:
        sub, _, name = key.partition("/")
        if sub not in ("new", "cur") or "/" in name or not name:
            raise MailSourceError(f"not a message key of this Maildir: {key!r}")
        return self.root / sub / name

    def list_messages(self) -> list[MessageRef]:
        """Messages in ``new/`` then ``cur/``, by file name (Maildir names start with the delivery time)."""
        refs = []
        for sub in ("new", "cur"):
            for p in sorted((self.root / sub).iterdir()):
                if p.is_file() and not p.name.startswith("."):
                    refs.append(MessageRef(f"{sub}/{p.name}", p.stat().st_size))
        return refs

    def fetch(self, key: str) -> bytes:
        """The message file's bytes."""
        return self._path(key).read_bytes()

    def fetch_header(self, key: str) -> bytes:
        """The message file's header."""
        return read_header(self._path(key))

    def file_message(self, key: str, folder: str) -> None:
        """Move the message to the Maildir++ folder ``.<folder>`` (created with its marker file)."""
        target = self.root / f".{folder}"
        for sub in ("cur", "new", "tmp"):
            (target / sub).mkdir(parents=True, exist_ok=True)
        (target / "maildirfolder").touch()
        source = self._path(key)
        name = source.name if ":2," in source.name else f"{source.name}:2,"
        os.replace(source, target / "cur" / name)

    def close(self) -> None:
        """Nothing to release."""


def open_source(settings: MailSettings) -> MailSource:
    """Open the source ``settings.source`` names.

    Raises:
        MailSourceError: It cannot be opened (see each source).
    """
    if settings.source == "imap":
        return ImapSource(settings)
    if settings.source == "eml":
        return EmlFolderSource(settings)
    return MaildirSource(settings)


_SOURCES: dict[MailSettings, MailSource] = {}


def mail_source(settings: MailSettings) -> MailSource:
    """The source for these settings, opened once per process and reused (like ``pipeline.stages.run_context``).

    Tasks receive the (small, frozen) settings and look the open source up here, so
    that no open connection crosses a task boundary.

    Raises:
        MailSourceError: The source cannot be opened.
    """
    if settings not in _SOURCES:
        _SOURCES[settings] = open_source(settings)
    return _SOURCES[settings]


def reset_mail_source(settings: MailSettings) -> None:
    """Close and forget the source after an I/O error, so that a retry reconnects."""
    source = _SOURCES.pop(settings, None)
    if source is not None:
        source.close()


def close_mail_sources() -> None:
    """Close every source opened by :func:`mail_source`."""
    while _SOURCES:
        _SOURCES.popitem()[1].close()
