"""Real mail servers on loopback for the tests: Dovecot (IMAP, Debian's dovecot-imapd) and aiosmtpd (SMTP).

Dovecot runs from a configuration written into a fresh folder, with a self-signed
certificate, a throwaway user in a passwd-file and Maildir storage under that
folder. Dovecot refuses to run its login processes as root: as root, they run as
``dovenull`` and its internal processes as ``dovecot`` (users the Debian package
creates), and the mail user's processes as ``nobody``; as another user, all run
as that user.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout_s} s")


@dataclass(frozen=True)
class ImapServer:
    """A running Dovecot.

    Attributes:
        imaps_port: Implicit TLS port.
        imap_port: STARTTLS port (plain-text login refused before TLS).
        user: The mail user.
        password: Its password.
        ca_file: The server's self-signed certificate, to trust.
        root: The server's folder (config, logs, mail).
    """

    imaps_port: int
    imap_port: int
    user: str
    password: str
    ca_file: Path
    root: Path


def _self_signed(root: Path) -> Path:
    cert, key = root / "cert.pem", root / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True)
    return cert


@contextmanager
def dovecot_server() -> Iterator[ImapServer]:
    """Start Dovecot on two free loopback ports; stop it and remove its folder afterwards."""
    root = Path(tempfile.mkdtemp(prefix="clas-dovecot-"))
    os.chmod(root, 0o755)  # the unprivileged processes must reach their sockets and the mail folder
    user, password = "fiches-clas", "mot-de-passe-de-test"
    if os.geteuid() == 0:
        login_user, internal_user = "dovenull", "dovecot"
        mail = pwd.getpwnam("nobody")
    else:
        login_user = internal_user = pwd.getpwuid(os.geteuid()).pw_name
        mail = pwd.getpwuid(os.geteuid())
    home = root / "home" / user
    home.mkdir(parents=True)
    for path in (root / "home", home):
        os.chown(path, mail.pw_uid, mail.pw_gid)
    cert = _self_signed(root)
    (root / "passwd").write_text(f"{user}:{{PLAIN}}{password}::::::\n")
    imaps_port, imap_port = free_port(), free_port()
    conf = root / "dovecot.conf"
    conf.write_text(f"""
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = yes
ssl_cert = <{cert}
ssl_key = <{root}/key.pem
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes
auth_mechanisms = plain login
default_login_user = {login_user}
default_internal_user = {internal_user}
first_valid_uid = 1
mail_location = maildir:~/Maildir
namespace inbox {{
  inbox = yes
  separator = /
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={mail.pw_uid} gid={mail.pw_gid} home={home}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
    ssl = yes
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
""")
    process = subprocess.Popen([DOVECOT, "-F", "-c", str(conf)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        try:
            _wait_port(imaps_port)
            _wait_port(imap_port)
        except TimeoutError:
            process.terminate()
            out = process.communicate(timeout=10)[0].decode(errors="replace")
            log = (root / "dovecot.log").read_text(errors="replace") if (root / "dovecot.log").exists() else ""
            raise RuntimeError(f"dovecot did not start:\n{out}\n{log}") from None
        yield ImapServer(imaps_port, imap_port, user, password, cert, root)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class SmtpSink:
    """Messages received by the loopback SMTP server.

    Attributes:
        port: Its port on 127.0.0.1.
        messages: Each message received, parsed, with its envelope recipients.
        refused: Messages answered with a temporary failure (see ``smtp_server(refuse_first=...)``).
    """

    port: int
    messages: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    refused: int = 0


@contextmanager
def smtp_server(refuse_first: int = 0) -> Iterator[SmtpSink]:
    """Start an aiosmtpd server on a free loopback port that keeps what it receives.

    Args:
        refuse_first: How many messages it answers first with a temporary failure (``451``), keeping nothing.
    """
    from aiosmtpd.controller import Controller

    sink = SmtpSink(free_port())

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN202, N802 - aiosmtpd's hook
            if sink.refused < refuse_first:
                sink.refused += 1
                return "451 4.3.0 Temporary failure, try again later"
            msg = message_from_bytes(envelope.content, policy=policy.default)
            sink.messages.append((list(envelope.rcpt_tos), msg))  # type: ignore[arg-type]
            return "250 Message accepted for delivery"

    controller = Controller(Handler(), hostname="127.0.0.1", port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()
