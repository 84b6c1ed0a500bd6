"""A throwaway Dovecot IMAP server for the mail-in tests (Debian ``dovecot-imapd``), and the OAuth 2.0 service
it checks XOAUTH2 tokens with.

Configured into a temporary folder, listening on 127.0.0.1 only on free ports: plain IMAP (with STARTTLS) and
IMAPS, with a self-signed certificate for 127.0.0.1. Mail users come from passwd files (one per user); their
maildirs live in the folder and belong to the ``dovecot`` system user, which the mail processes run as (Dovecot
refuses root). It needs root to start, as Dovecot does. XOAUTH2 log-ins go to Dovecot's ``oauth2`` passdb, which
asks the ``TokenService`` (token introspection, RFC 7662) whether a token is live and whose it is; the same service
hands out tokens by the client-credentials grant over HTTPS, as Microsoft's token endpoint does for Exchange Online.
"""

from __future__ import annotations

import contextlib
import imaplib
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

PASSWORD = "Brevlada-123"


def unavailable_reason() -> str | None:
    if not shutil.which("dovecot") and not Path("/usr/sbin/dovecot").exists():
        return "dovecot is not installed (apt-get install dovecot-imapd; make setup does it)"
    if os.geteuid() != 0:
        return "the test IMAP server needs root (Dovecot starts as root and drops to its own users)"
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class TokenService:
    """A small OAuth 2.0 authorisation server: ``/token`` (client-credentials grant, HTTPS) and ``/introspect``
    (plain HTTP on loopback, for Dovecot). ``clients`` maps a client id to its secret and the mailbox user its
    tokens open; ``grants`` counts the tokens handed out."""

    def __init__(self) -> None:
        self.clients: dict[str, tuple[str, str]] = {}
        self.tokens: dict[str, str] = {}
        self.grants = 0
        self.servers: list[ThreadingHTTPServer] = []
        self.token_port = self.introspection_port = 0

    @property
    def token_url(self) -> str:
        return f"https://127.0.0.1:{self.token_port}/token"

    @property
    def introspection_url(self) -> str:
        return f"http://127.0.0.1:{self.introspection_port}/introspect"

    def start(self, cert_file: str, key_file: str) -> None:
        service = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                status, answer = service.answer(self.path, form)
                body = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        token_server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        token_server.socket = context.wrap_socket(token_server.socket, server_side=True)
        introspection_server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.token_port = token_server.server_address[1]
        self.introspection_port = introspection_server.server_address[1]
        for server in (token_server, introspection_server):
            self.servers.append(server)
            threading.Thread(target=server.serve_forever, daemon=True).start()

    def answer(self, path: str, form: dict[str, str]) -> tuple[int, dict]:
        if path == "/token":
            secret, user = self.clients.get(form.get("client_id", ""), ("", ""))
            if form.get("grant_type") != "client_credentials" or not secret or form.get("client_secret") != secret:
                return 401, {"error": "invalid_client"}
            token = secrets.token_urlsafe(24)
            self.tokens[token] = user
            self.grants += 1
            return 200, {"access_token": token, "token_type": "Bearer", "expires_in": 3599}
        if path == "/introspect":
            user = self.tokens.get(form.get("token", ""))
            return 200, ({"active": "true", "username": user} if user else {"active": "false"})
        return 404, {"error": "not_found"}

    def stop(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()


class Dovecot:
    """One Dovecot with users added by ``add_user``; ``imap(user)`` logs in as one for delivering test mail."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="lotsen-dovecot-"))
        self.port, self.tls_port = _free_port(), _free_port()
        self.process: subprocess.Popen | None = None
        self.users: list[str] = []
        self.oauth = TokenService()

    @property
    def cert_file(self) -> str:
        return str(self.folder / "cert.pem")

    def add_user(self, name: str, password: str = PASSWORD) -> None:
        self.users.append(name)
        # A file per user: Dovecot looks at a password file at most once a second, so a user appended to a shared
        # file within the second of another log-in was refused; a new file is read when first asked.
        (self.folder / "users" / name).write_text(f"{name}:{{PLAIN}}{password}::::::\n", encoding="utf-8")

    def start(self) -> None:
        folder = self.folder
        folder.chmod(0o755)
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", str(folder / "key.pem"), "-out", self.cert_file],
                       check=True, capture_output=True)
        (folder / "users").mkdir()
        self.oauth.start(self.cert_file, str(folder / "key.pem"))
        (folder / "oauth2.conf.ext").write_text(
            f"introspection_mode = post\nintrospection_url = {self.oauth.introspection_url}\n"
            "username_attribute = username\nactive_attribute = active\nactive_value = true\n", encoding="utf-8")
        mail = folder / "mail"
        mail.mkdir()
        shutil.chown(mail, "dovecot", "dovecot")
        (folder / "dovecot.conf").write_text(f"""
base_dir = {folder}/run
state_dir = {folder}/state
listen = 127.0.0.1
protocols = imap
log_path = {folder}/dovecot.log
ssl = yes
ssl_cert = <{folder}/cert.pem
ssl_key = <{folder}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login xoauth2 oauthbearer
default_login_user = dovenull
default_internal_user = dovecot
mail_location = maildir:{mail}/%u
mail_uid = dovecot
mail_gid = dovecot
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = {folder}/users/%u
}}
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {folder}/oauth2.conf.ext
}}
userdb {{
  driver = static
  args = uid=dovecot gid=dovecot home={mail}/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.tls_port}
    ssl = yes
  }}
}}
namespace inbox {{
  inbox = yes
  separator = /
}}
""", encoding="utf-8")
        binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
        self.process = subprocess.Popen([binary, "-F", "-c", str(folder / "dovecot.conf")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                        start_new_session=True)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dovecot stopped: {self.process.stderr.read().decode(errors='replace')}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return
            time.sleep(0.1)
        raise RuntimeError("dovecot did not start listening")

    def stop(self) -> None:
        self.oauth.stop()
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)

    def imap(self, user: str) -> imaplib.IMAP4_SSL:
        context = ssl.create_default_context(cafile=self.cert_file)
        connection = imaplib.IMAP4_SSL("127.0.0.1", self.tls_port, ssl_context=context, timeout=10)
        connection.login(user, PASSWORD)
        return connection

    def deliver(self, user: str, raw: bytes, folder: str = "INBOX") -> None:
        """Put one message into a folder of the user's mailbox, as the mail server's delivery would."""
        connection = self.imap(user)
        try:
            connection.create(folder)  # an existing folder answers NO, which is fine
            status, answer = connection.append(folder, None, None, raw)
            assert status == "OK", answer
        finally:
            connection.logout()

    def messages(self, user: str, folder: str = "INBOX") -> list[bytes]:
        """The messages now in a folder (read without marking them seen)."""
        connection = self.imap(user)
        try:
            status, _ = connection.select(f'"{folder}"', readonly=True)
            if status != "OK":
                return []
            _, data = connection.uid("SEARCH", None, "ALL")
            found = []
            for uid in data[0].split():
                _, parts = connection.uid("FETCH", uid, "(BODY.PEEK[])")
                found.append(parts[0][1])
            return found
        finally:
            connection.logout()
