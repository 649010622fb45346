"""A real Dovecot IMAP server on a free loopback port, living entirely in a temporary directory.

Tests start one per function (or several at once); nothing outside its own directory is read
or written, so servers never see /etc/dovecot, /var/run/dovecot or each other. With `tls=True`
the server also speaks TLS, with a certificate from a throwaway test CA (trustme): STARTTLS on
the plain port and implicit TLS on a second port.
"""

from __future__ import annotations

import atexit
import contextlib
import grp
import os
import pwd
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Self

import trustme
from imapclient import IMAPClient
from imapclient.imap_utf7 import encode as encode_utf7

SKIP_REASON = "dovecot not installed (apt-get install dovecot-imapd)"

HOST = "127.0.0.1"
DEFAULT_USER = "support@example.com"
DEFAULT_PASSWORD = "s3cret-support"

# Debian installs the master in sbin (not on a normal user's PATH) and the per-protocol
# binaries under lib/dovecot; without the imap binary the master starts but every login fails.
_DOVECOT_CANDIDATES = ("/usr/sbin/dovecot", "/usr/local/sbin/dovecot")
_IMAP_CANDIDATES = (
    "/usr/lib/dovecot/imap",
    "/usr/libexec/dovecot/imap",
    "/usr/local/libexec/dovecot/imap",
)

_APPENDUID = re.compile(rb"\[APPENDUID (\d+) ([0-9:,]+)\]")
_MULTIAPPEND_BATCH = 500
_START_TIMEOUT = 15.0
_STOP_TIMEOUT = 15.0


class DovecotError(RuntimeError):
    """The server did not start, did not stop, or did not behave as a helper required."""


def dovecot_binary() -> Path | None:
    """The dovecot master binary, or None when dovecot-imapd is not installed."""
    found = shutil.which("dovecot")
    candidates = ((found,) if found else ()) + _DOVECOT_CANDIDATES
    master = next((Path(c) for c in candidates if os.access(c, os.X_OK)), None)
    if master is None or not any(os.access(c, os.X_OK) for c in _IMAP_CANDIDATES):
        return None
    return master


def dovecot_available() -> bool:
    """True when both the dovecot master and its imap binary are installed."""
    return dovecot_binary() is not None


def free_port(host: str = HOST) -> int:
    """A port nothing listens on right now (the kernel's pick for port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _parse_uid_set(text: bytes) -> list[int]:
    uids: list[int] = []
    for part in text.split(b","):
        first, _, last = part.partition(b":")
        uids.extend(range(int(first), int(last or first) + 1))
    return uids


def _appended_uids(response: bytes) -> list[int]:
    match = _APPENDUID.search(response)
    if match is None:
        raise DovecotError(f"no APPENDUID in the APPEND response: {response!r}")
    return _parse_uid_set(match.group(2))


class _Accounts:
    """Which Unix accounts the server's processes and mail files run as."""

    def __init__(self) -> None:
        if os.geteuid() == 0:
            # Dovecot refuses mail access as uid 0 or gid 0 whatever first_valid_uid says
            # ("Mail access not allowed for root"), so as root the mail files belong to the
            # `dovecot` account that the dovecot-core package always creates.
            mail = pwd.getpwnam("dovecot")
            self.login_user = "dovenull"
            self.internal_user = "dovecot"
            self.internal_group = "dovecot"
        else:
            # Unprivileged, everything must run as ourselves: setuid() to anyone else fails.
            mail = pwd.getpwuid(os.geteuid())
            self.login_user = mail.pw_name
            self.internal_user = mail.pw_name
            # Some unix listeners (stats-writer, dict) are chowned to this group.
            self.internal_group = grp.getgrgid(mail.pw_gid).gr_name
        self.mail_uid = mail.pw_uid
        self.mail_gid = mail.pw_gid
        self.is_root = os.geteuid() == 0


class DovecotServer:
    """One Dovecot master process (`dovecot -F`) with its own config, users and Maildirs.

    `start()` returns once the port answers with this server's greeting; `stop()` signals the
    master by pid and returns once the port is closed; `restart()` keeps the port and the mail.

    With `tls=True` the plain port offers STARTTLS (`ssl = yes`, not `required`, so plain logins
    still work for the helpers below) and `tls_port` speaks implicit TLS (imaps); a client must
    trust `ca_pem_path`, the test CA that signed the certificate for 127.0.0.1 and localhost.
    Without it `tls_port` and `ca_pem_path` are None and the server has no TLS at all.
    """

    def __init__(
        self,
        users: Mapping[str, str] | None = None,
        *,
        port: int | None = None,
        binary: Path | None = None,
        tls: bool = False,
        tls_port: int | None = None,
    ) -> None:
        users = dict(users) if users else {DEFAULT_USER: DEFAULT_PASSWORD}
        for name, password in users.items():
            if not name or any(c in name + password for c in ":\n\r") or name != name.lower():
                # passwd-file is colon-separated, and Dovecot lower-cases login names before
                # the lookup (auth_username_format = %Lu), so such names could never log in.
                raise ValueError(f"unusable Dovecot test user {name!r}")
        self.users: dict[str, str] = users
        self.user, self.password = next(iter(users.items()))
        self.host = HOST
        self.port = port or 0
        # A port we picked by binding 0 may be swapped if someone takes it before dovecot
        # binds it; a caller's port, or ours once a start succeeded (restart), never is.
        self._port_pinned = port is not None
        if tls_port is not None and not tls:
            raise ValueError("tls_port needs tls=True")
        self.tls = tls
        self.tls_port: int | None = (tls_port or 0) if tls else None
        self._tls_port_pinned = tls_port is not None
        self.ca_pem_path: Path | None = None
        self._cert_path: Path | None = None
        self._key_path: Path | None = None
        resolved = binary or dovecot_binary()
        if resolved is None:
            raise DovecotError(SKIP_REASON)
        self.binary = resolved
        self._accounts = _Accounts()
        # Unix socket paths are limited to 108 bytes, so everything lives in a short directory
        # of its own (never pytest's deep tmp_path, which is also 0700 and so closed to the
        # `dovecot` account the mail processes run as).
        self.root = Path(tempfile.mkdtemp(prefix="dovecot-", dir=_scratch_parent()))
        self.root.chmod(0o755)
        self.config_path = self.root / "dovecot.conf"
        self.log_path = self.root / "dovecot.log"
        self._stderr_path = self.root / "stderr.log"
        self._greeting = f"maild-test-dovecot {uuid.uuid4().hex[:12]} ready"
        self._process: subprocess.Popen[bytes] | None = None
        self._write_files()
        if tls:
            self._write_certificates()

    # -- paths ------------------------------------------------------------------------------

    def home(self, user: str | None = None) -> Path:
        return self.root / "home" / (user or self.user)

    def maildir_of(self, user: str | None = None) -> Path:
        return self.home(user) / "Maildir"

    @property
    def maildir(self) -> Path:
        """The default user's Maildir (INBOX's cur/new/tmp live directly in it)."""
        return self.maildir_of(self.user)

    def folder_path(self, folder: str = "INBOX", user: str | None = None) -> Path:
        """The directory Dovecot keeps *folder* in (Maildir++ layout, '.' separator)."""
        if folder.upper() == "INBOX":
            return self.maildir_of(user)
        encoded: bytes = encode_utf7(folder)
        return self.maildir_of(user) / ("." + encoded.decode("ascii"))

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def log_text(self) -> str:
        """Dovecot's own log plus anything the master wrote to stderr before its log existed."""
        return "".join(
            path.read_text(errors="replace")
            for path in (self._stderr_path, self.log_path)
            if path.exists()
        )

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> Self:
        if self.running:
            raise DovecotError(f"dovecot already running on {self._ports_text()}")
        all_pinned = self._port_pinned and (self.tls_port is None or self._tls_port_pinned)
        for _attempt in range(1 if all_pinned else 5):
            if not self._port_pinned:
                self.port = free_port(self.host)
            if self.tls_port is not None and not self._tls_port_pinned:
                self.tls_port = free_port(self.host)
                while self.tls_port == self.port:
                    self.tls_port = free_port(self.host)
            self._write_config()
            log_offset = len(self.log_text())
            if self._spawn_and_wait():
                self._port_pinned = self._tls_port_pinned = True
                _live_servers.add(self)
                return self
            if "Address already in use" not in self.log_text()[log_offset:]:
                break
        raise DovecotError(f"dovecot did not start on {self._ports_text()}:\n{self.log_text()}")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        _live_servers.discard(self)
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                # start_new_session made the master a group leader, so this reaches exactly
                # its children too, which would otherwise keep the listening socket open.
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self._wait_port_closed()

    def restart(self) -> Self:
        self.stop()
        return self.start()

    def cleanup(self) -> None:
        """Stop the server and delete its directory (config, log and all mail)."""
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Self:
        try:
            return self.start()
        except BaseException:
            # __exit__ never runs when __enter__ raises; the directory must not leak.
            self.cleanup()
            raise

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.cleanup()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        tls = f" imaps:{self.tls_port}" if self.tls_port is not None else ""
        return f"<DovecotServer {self.user}@{self.host}:{self.port}{tls} {state} {self.root}>"

    def client_ssl_context(self) -> ssl.SSLContext:
        """A verifying client context that trusts this server's test CA (and nothing else)."""
        if self.ca_pem_path is None:
            raise DovecotError("this server was started without tls=True")
        return ssl.create_default_context(cafile=str(self.ca_pem_path))

    # -- IMAP helpers -----------------------------------------------------------------------

    def connect(self, user: str | None = None) -> IMAPClient:
        """A logged-in imapclient connection; the caller logs out (or uses it as a context)."""
        user = user or self.user
        client = IMAPClient(self.host, port=self.port, ssl=False, timeout=30)
        try:
            client.login(user, self.users[user])
        except BaseException:
            client.shutdown()
            raise
        return client

    def append(
        self,
        raw: bytes,
        folder: str = "INBOX",
        flags: Sequence[str | bytes] = (),
        internaldate: datetime | None = None,
        *,
        user: str | None = None,
    ) -> int:
        """Store *raw* byte-for-byte with a real APPEND and return its UID.

        A naive *internaldate* is taken as local time (imapclient's rule); pass an aware one.
        """
        with self.connect(user) as client:
            response = client.append(folder, raw, flags=tuple(flags), msg_time=internaldate)
        (uid,) = _appended_uids(response)
        return uid

    def append_many(
        self, raws: Iterable[bytes], folder: str = "INBOX", *, user: str | None = None
    ) -> list[int]:
        """Store many messages over one connection with MULTIAPPEND; return their UIDs in order.

        Batches keep the client's memory bounded; each batch is one command and one Dovecot
        transaction, so 50,000 messages take seconds rather than 50,000 round trips.
        """
        uids: list[int] = []
        with self.connect(user) as client:
            batch: list[bytes] = []
            for raw in raws:
                batch.append(raw)
                if len(batch) == _MULTIAPPEND_BATCH:
                    uids.extend(self._multiappend(client, folder, batch))
                    batch = []
            if batch:
                uids.extend(self._multiappend(client, folder, batch))
        return uids

    def create_folder(self, name: str, *, user: str | None = None) -> None:
        """Create and subscribe *name*; an already existing folder is left as it is."""
        with self.connect(user) as client:
            if not client.folder_exists(name):
                client.create_folder(name)
            client.subscribe_folder(name)

    def message_count(self, folder: str = "INBOX", *, user: str | None = None) -> int:
        with self.connect(user) as client:
            status = client.folder_status(folder, [b"MESSAGES"])
        return int(status[b"MESSAGES"])

    def uidvalidity(self, folder: str = "INBOX", *, user: str | None = None) -> int:
        with self.connect(user) as client:
            status = client.folder_status(folder, [b"UIDVALIDITY"])
        return int(status[b"UIDVALIDITY"])

    def delete_all(self, folder: str = "INBOX", *, user: str | None = None) -> int:
        """Expunge every message in *folder*; return how many there were."""
        with self.connect(user) as client:
            count = int(client.select_folder(folder)[b"EXISTS"])
            if count:
                client.add_flags("1:*", [b"\\Deleted"], silent=True)
                client.expunge()
            client.close_folder()
        return count

    def reset_uidvalidity(self, folder: str = "INBOX", *, user: str | None = None) -> int:
        """Make Dovecot assign *folder* a new UIDVALIDITY (and fresh UIDs), keeping its mail.

        This is what a client sees after a server migration or a rebuilt index. The server is
        restarted (same port) because a running Dovecot may hold the old index in memory.
        Returns the new UIDVALIDITY, checked to differ from the old one.
        """
        before = self.uidvalidity(folder, user=user)
        self.stop()
        directory = self.folder_path(folder, user)
        # dovecot-uidlist holds UIDVALIDITY and the filename-to-UID map; the index files cache
        # both. dovecot-uidvalidity (the mailbox root's high-water mark) is kept on purpose:
        # it is what guarantees the new value differs even within the same second.
        for pattern in ("dovecot-uidlist*", "dovecot.index*"):
            for path in directory.glob(pattern):
                path.unlink()
        for path in self.maildir_of(user).glob("dovecot.list.index*"):
            path.unlink()
        self.start()
        after = self.uidvalidity(folder, user=user)
        if after == before:
            raise DovecotError(f"UIDVALIDITY of {folder!r} stayed {before} after the reset")
        return after

    # -- internals --------------------------------------------------------------------------

    @staticmethod
    def _multiappend(client: IMAPClient, folder: str, batch: list[bytes]) -> list[int]:
        typ, data = client.multiappend(folder, batch)
        text = b" ".join(d for d in data if isinstance(d, bytes))
        if typ != "OK":
            raise DovecotError(f"MULTIAPPEND to {folder!r} failed: {typ} {text!r}")
        uids = _appended_uids(text)
        if len(uids) != len(batch):
            raise DovecotError(f"MULTIAPPEND stored {len(uids)} of {len(batch)} messages")
        return uids

    def _write_files(self) -> None:
        accounts = self._accounts
        for sub in ("run", "state", "home"):
            (self.root / sub).mkdir(mode=0o755)
        lines = []
        for name, password in self.users.items():
            home = self.home(name)
            home.mkdir(mode=0o700)
            if accounts.is_root:
                os.chown(home, accounts.mail_uid, accounts.mail_gid)
            lines.append(
                f"{name}:{{PLAIN}}{password}:{accounts.mail_uid}:{accounts.mail_gid}::{home}::\n"
            )
        passwd = self.root / "passwd"
        passwd.write_text("".join(lines))
        # The auth process runs as the unprivileged internal user and reads this file itself.
        passwd.chmod(0o644)

    def _write_certificates(self) -> None:
        # A fresh CA per server: no system trust store knows it, so a client that does not
        # name ca_pem_path must fail verification.
        ca = trustme.CA(organization_name="maild test CA")
        cert = ca.issue_cert(self.host, "localhost")
        tls_dir = self.root / "tls"
        tls_dir.mkdir(mode=0o755)
        self.ca_pem_path = tls_dir / "ca.pem"
        self._cert_path = tls_dir / "server-chain.pem"
        self._key_path = tls_dir / "server-key.pem"
        ca.cert_pem.write_to_path(str(self.ca_pem_path))
        self._cert_path.write_bytes(b"".join(blob.bytes() for blob in cert.cert_chain_pems))
        cert.private_key_pem.write_to_path(str(self._key_path))
        self.ca_pem_path.chmod(0o644)
        self._cert_path.chmod(0o644)
        # Dovecot reads `ssl_key = <file` as the user that starts the master (us), never
        # as the login or mail accounts, so the key can stay private.
        self._key_path.chmod(0o600)

    def _ssl_settings(self) -> str:
        if self.tls_port is None:
            return "ssl = no\n"
        # `yes`, not `required`: STARTTLS is offered on the plain port and plain logins there
        # still work, which the helpers (and the plain-text tests) rely on.
        return f"ssl = yes\nssl_cert = <{self._cert_path}\nssl_key = <{self._key_path}\n"

    def _write_config(self) -> None:
        accounts = self._accounts
        root = self.root
        # imap-login chroots into base_dir/login by default, which only root may do.
        login_chroot = "" if accounts.is_root else "  chroot =\n"
        self.config_path.write_text(
            f"""\
# Written by tests/servers/dovecot.py for one test server; nothing here is shared.
protocols = imap
listen = {self.host}
base_dir = {root}/run
state_dir = {root}/state
instance_name = maild-test-{root.name}
log_path = {self.log_path}
log_timestamp = "%Y-%m-%d %H:%M:%S "
login_greeting = {self._greeting}

{self._ssl_settings()}disable_plaintext_auth = no
auth_mechanisms = plain login
# Tests of wrong passwords should not sleep the default two seconds.
auth_failure_delay = 0
auth_verbose = yes

default_login_user = {accounts.login_user}
default_internal_user = {accounts.internal_user}
default_internal_group = {accounts.internal_group}
first_valid_uid = {min(accounts.mail_uid, 500)}
first_valid_gid = {min(accounts.mail_gid, 500)}

passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/passwd
}}

mail_location = maildir:~/Maildir
# Test data is disposable; fsync per message would make bulk loads disk-bound.
mail_fsync = never

namespace inbox {{
  inbox = yes
  mailbox Drafts {{
    special_use = \\Drafts
  }}
  mailbox Junk {{
    special_use = \\Junk
  }}
  mailbox Sent {{
    special_use = \\Sent
  }}
  mailbox Trash {{
    special_use = \\Trash
  }}
}}

protocol imap {{
  # The default of 10 would refuse a test that opens many connections as one user.
  mail_max_userip_connections = 1000
}}

service imap-login {{
{login_chroot}  inet_listener imap {{
    address = {self.host}
    port = {self.port}
  }}
  inet_listener imaps {{
{self._imaps_listener()}  }}
}}
"""
        )

    def _spawn_and_wait(self) -> bool:
        with self._stderr_path.open("ab") as stderr:
            self._process = subprocess.Popen(
                [str(self.binary), "-F", "-c", str(self.config_path)],
                stdin=subprocess.DEVNULL,
                stdout=stderr,
                stderr=subprocess.STDOUT,
                # Own process group, so a last-resort SIGKILL can reach the children by pid.
                start_new_session=True,
            )
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._process = None
                return False
            if self._greets() and (self.tls_port is None or self._greets(tls=True)):
                return True
            time.sleep(0.02)
        self.stop()
        raise DovecotError(f"dovecot gave no greeting on {self._ports_text()}:\n{self.log_text()}")

    def _greets(self, *, tls: bool = False) -> bool:
        greeting = b""
        port = self.tls_port if tls else self.port
        try:
            with contextlib.ExitStack() as stack:
                sock = stack.enter_context(socket.create_connection((self.host, port), timeout=2))
                if tls:
                    # A verified handshake also proves the certificate files are the ones served.
                    context = self.client_ssl_context()
                    sock = stack.enter_context(context.wrap_socket(sock, server_hostname=self.host))
                while not greeting.endswith(b"\n"):
                    chunk = sock.recv(4096)
                    if not chunk:
                        break
                    greeting += chunk
                sock.sendall(b"x LOGOUT\r\n")
        except OSError:  # ssl.SSLError is an OSError too
            return False
        # Checking our own greeting string proves it is this server that answered, not some
        # other process that grabbed the port between free_port() and dovecot's bind().
        return self._greeting.encode() in greeting

    def _wait_port_closed(self) -> None:
        ports = [self.port] if self.tls_port is None else [self.port, self.tls_port]
        deadline = time.monotonic() + _STOP_TIMEOUT
        for port in ports:
            while time.monotonic() < deadline:
                try:
                    with socket.create_connection((self.host, port), timeout=1):
                        pass
                except OSError:
                    break
                time.sleep(0.02)
            else:
                raise DovecotError(f"port {port} still accepts connections after dovecot stopped")

    def _imaps_listener(self) -> str:
        if self.tls_port is None:
            return "    port = 0\n"  # no implicit-TLS listener at all
        return f"    address = {self.host}\n    port = {self.tls_port}\n"

    def _ports_text(self) -> str:
        if self.tls_port is None:
            return f"port {self.port}"
        return f"ports {self.port} (imap) and {self.tls_port} (imaps)"


def _scratch_parent() -> str | None:
    # tmpfs makes bulk loads several times faster and steadier than a disk-backed /tmp
    # (50,000 messages: ~3.5 s against ~9 s), but Docker's default /dev/shm is only 64 MiB.
    shm = "/dev/shm"
    if os.access(shm, os.W_OK | os.X_OK):
        stat = os.statvfs(shm)
        if stat.f_bavail * stat.f_frsize >= 2 << 30:
            return shm
    default = tempfile.gettempdir()
    if len(default) <= 40:
        return default
    return "/tmp" if os.path.isdir("/tmp") else None


# A test run that dies between start() and stop() (an interrupted session, a crashing
# fixture) must not leave masters behind holding ports: stop whatever is still running.
_live_servers: set[DovecotServer] = set()


@atexit.register
def _stop_leftovers() -> None:
    for server in list(_live_servers):
        with contextlib.suppress(Exception):
            server.stop()
