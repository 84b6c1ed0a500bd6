"""A real throwaway Active Directory: a Samba 4 AD domain controller provisioned into a temporary directory,
listening on 127.0.0.1 only (LDAP 389 with StartTLS, LDAPS 636), with a test CA whose certificate covers
127.0.0.1, and the people and groups of a municipality.

Samba's ports are fixed, so one such DC runs per machine at a time; it needs root (as Samba does) and the
Debian packages ``samba`` and ``samba-ad-provision`` (``scripts/system-packages.sh`` installs them).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import ldap
import ldap.modlist

REALM = "kommun.test"
NETBIOS = "KOMMUN"
BASE = "DC=kommun,DC=test"
ROOT = f"OU=Lotsen,{BASE}"
PEOPLE = f"OU=Personal,{ROOT}"
GROUPS = f"OU=Grupper,{ROOT}"
SYSTEM = f"OU=System,{ROOT}"
ADMIN_PASSWORD = "Admin-Losen-123!"
SERVICE_DN = f"CN=Lotsen Tjänstekonto,{SYSTEM}"
SERVICE_PASSWORD = "Tjanst-Losen-456!"
HR_GROUP = f"CN=Lotsen HR,{GROUPS}"            # mapped to roles; holds the group below, not people
HR_STAFF_GROUP = f"CN=HR-handläggare,{GROUPS}"  # nested inside Lotsen HR
MANAGER_GROUP = f"CN=Chefer\\, alla,{GROUPS}"   # a comma in the name
MISSING_GROUP = f"CN=Finns inte,{GROUPS}"
PASSWORD = "Ratt-Losen-789!"
MANY_GROUPS = 30

# sAMAccountName, CN (the DN's name), displayName, department, userPrincipalName, extra attributes
PEOPLE_ROWS = (
    ("aoberg", "Öberg\\, Åsa", "Åsa Öberg", "Vård- och omsorgsförvaltningen", "asa.oberg@kommun.se", {}),
    ("per.hr", "Per Hårdh", "Per Hårdh", "Kommunledningsförvaltningen", "per.hr@kommun.test", {}),
    ("eva.andersson", "Eva Andersson", "Eva Andersson", "Utbildningsförvaltningen", "eva.andersson@kommun.test", {}),
    ("dis.abled", "Dis Abled", "Dis Abled", "Tekniska förvaltningen", "dis.abled@kommun.test",
     {"userAccountControl": b"514"}),
    ("gammal.konto", "Gammal Konto", "Gammal Konto", "Tekniska förvaltningen", "gammal.konto@kommun.test",
     {"accountExpires": b"129000000000000000"}),  # 2009: the account has expired
    ("nytt.losen", "Nytt Lösen", "Nytt Lösen", "Tekniska förvaltningen", "nytt.losen@kommun.test",
     {"pwdLastSet": b"0"}),  # must change the password at next log-on
    ("gammalt.losen", "Gammalt Lösen", "Gammalt Lösen", "Tekniska förvaltningen", "gammalt.losen@kommun.test", {}),
    ("last.konto", "Låst Konto", "Låst Konto", "Tekniska förvaltningen", "last.konto@kommun.test", {}),
    ("max.grupp", "Max Grupp", "Max Grupp", "Kultur- och fritidsförvaltningen", "max.grupp@kommun.test", {}),
)


def _free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def reap_stale_dcs() -> None:
    """Stop test DCs that a killed test run left behind (Samba leads a process group of its own, so it outlives
    the run) and remove their folders: only DCs this module started, found by their pid files under /tmp, whose
    test run has ended."""
    for pid_file in Path("/tmp").glob("lotsen-samba-*/dc/samba.pid"):
        owner = pid_file.parent.parent / "owner.pid"  # the test run that started it: still alive, leave it
        if owner.exists() and Path(f"/proc/{owner.read_text().strip()}").exists():
            continue
        try:
            pid = int(pid_file.read_text().split()[0])
            if "samba" in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace"):
                os.kill(pid, signal.SIGTERM)
                for _ in range(50):
                    if not Path(f"/proc/{pid}").exists():
                        break
                    time.sleep(0.1)
        except (OSError, ValueError, IndexError):
            pass
        shutil.rmtree(pid_file.parent.parent, ignore_errors=True)


def unavailable_reason() -> str | None:
    """Why a Samba DC cannot run here, or None."""
    if shutil.which("samba") is None or shutil.which("samba-tool") is None or shutil.which("openssl") is None:
        return "samba, samba-tool or openssl is not installed (scripts/system-packages.sh installs them)"
    if os.geteuid() != 0:
        return "a Samba AD DC runs as root"
    if not (_free(389) and _free(636)):
        return "ports 389 and 636 on 127.0.0.1 are taken (another directory server runs here)"
    return None


class SambaDC:
    def __init__(self) -> None:
        self.root = Path("/nonexistent")  # a temporary folder from start() on
        self.process: subprocess.Popen | None = None

    @property
    def ca_file(self) -> str:
        return str(self.root / "ca.pem")

    # --- life cycle -----------------------------------------------------------------------------------------
    def start(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="lotsen-samba-", dir="/tmp"))
        (self.root / "owner.pid").write_text(str(os.getpid()))
        self._certificates()
        self._provision()
        log = (self.root / "samba.out").open("wb")
        self.process = subprocess.Popen(
            ["samba", "-i", "-M", "single", "-s", str(self.root / "dc/etc/smb.conf")],
            stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                conn = self.admin()
                conn.unbind_s()
                break
            except ldap.LDAPError as exc:
                if self.process.poll() is not None:
                    raise RuntimeError("samba stopped: " + (self.root / "samba.out").read_text(errors="replace")
                                       ) from exc
                time.sleep(0.3)
        else:
            raise RuntimeError("samba did not answer within 60 s")
        self._populate()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        if self.root.name.startswith("lotsen-samba-"):
            shutil.rmtree(self.root, ignore_errors=True)

    def _certificates(self) -> None:
        """A test CA and a server certificate for 127.0.0.1 signed by it (openssl)."""
        def run(*args: str) -> None:
            subprocess.run(["openssl", *args], cwd=self.root, check=True, capture_output=True)

        run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "3",
            "-subj", "/CN=Lotsen Test CA", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "dc.key", "-out", "dc.csr",
            "-subj", "/CN=dc1.kommun.test")
        (self.root / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1,DNS:dc1.kommun.test\n"
                                           "extendedKeyUsage=serverAuth\n")
        run("x509", "-req", "-in", "dc.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "dc.pem",
            "-days", "3", "-extfile", "ext.cnf")
        (self.root / "dc.key").chmod(0o600)

    def _provision(self) -> None:
        target = self.root / "dc"
        subprocess.run(
            ["samba-tool", "domain", "provision", f"--realm={REALM.upper()}", f"--domain={NETBIOS}",
             "--server-role=dc", "--dns-backend=NONE", f"--adminpass={ADMIN_PASSWORD}", f"--targetdir={target}",
             "--host-ip=127.0.0.1", "--host-name=dc1", "--option=interfaces=lo", "--option=bind interfaces only=yes"],
            check=True, capture_output=True)
        conf = target / "etc/smb.conf"
        lines = [line for line in conf.read_text().splitlines()
                 if not line.strip().startswith(("server services", "log file"))]
        at = lines.index("[global]") + 1
        lines[at:at] = [
            "\tserver services = ldap",
            f"\tlog file = {self.root}/log.%m",
            f"\tpid directory = {target}",
            "\ttls enabled = yes",
            f"\ttls keyfile = {self.root}/dc.key",
            f"\ttls certfile = {self.root}/dc.pem",
            f"\ttls cafile = {self.ca_file}",
            "\tldap server require strong auth = no",  # simple binds over plain ldap:// too (the tests' choice)
        ]
        conf.write_text("\n".join(lines) + "\n")

    # --- connections ----------------------------------------------------------------------------------------
    def connect(self, dn: str, password: str, uri: str = "ldaps://127.0.0.1:636") -> ldap.ldapobject.LDAPObject:
        conn = ldap.initialize(uri)
        conn.set_option(ldap.OPT_REFERRALS, 0)
        conn.set_option(ldap.OPT_X_TLS_CACERTFILE, self.ca_file)
        conn.set_option(ldap.OPT_X_TLS_REQUIRE_CERT, ldap.OPT_X_TLS_DEMAND)
        conn.set_option(ldap.OPT_X_TLS_NEWCTX, 0)
        conn.set_option(ldap.OPT_NETWORK_TIMEOUT, 5)
        conn.simple_bind_s(dn, password)
        return conn

    def admin(self) -> ldap.ldapobject.LDAPObject:
        return self.connect(f"Administrator@{REALM}", ADMIN_PASSWORD)

    # --- content --------------------------------------------------------------------------------------------
    @staticmethod
    def _add(conn, dn: str, attributes: dict) -> None:
        conn.add_s(dn, ldap.modlist.addModlist({
            key: [v if isinstance(v, bytes) else v.encode() for v in (value if isinstance(value, list) else [value])]
            for key, value in attributes.items()}))

    def add_user(self, conn, sam: str, cn: str, display: str, department: str, upn: str, extra: dict,
                 password: str = PASSWORD) -> str:
        dn = f"CN={cn},{PEOPLE}"
        self._add(conn, dn, {
            "objectClass": ["top", "person", "organizationalPerson", "user"], "sAMAccountName": sam,
            "userPrincipalName": upn, "displayName": display, "department": department, "title": "Handläggare",
            "mail": upn, "unicodePwd": f'"{password}"'.encode("utf-16-le"), "userAccountControl": b"512"})
        if extra:
            conn.modify_s(dn, [(ldap.MOD_REPLACE, key, [value]) for key, value in extra.items()])
        return dn

    def add_group(self, conn, dn: str, *members: str) -> None:
        name = ldap.dn.str2dn(dn)[0][0][1]
        self._add(conn, dn, {"objectClass": ["top", "group"], "sAMAccountName": name.replace(",", "")[:20],
                             **({"member": list(members)} if members else {})})

    def user_dn(self, sam: str) -> str:
        return next(f"CN={cn},{PEOPLE}" for s, cn, *_ in PEOPLE_ROWS if s == sam)

    def _populate(self) -> None:
        conn = self.admin()
        try:
            for ou in (ROOT, PEOPLE, GROUPS, SYSTEM):
                self._add(conn, ou, {"objectClass": ["top", "organizationalUnit"]})
            self._add(conn, SERVICE_DN, {
                "objectClass": ["top", "person", "organizationalPerson", "user"], "sAMAccountName": "lotsen-svc",
                "unicodePwd": f'"{SERVICE_PASSWORD}"'.encode("utf-16-le"), "userAccountControl": b"66048"})
            for row in PEOPLE_ROWS:
                self.add_user(conn, *row)
            self.add_group(conn, HR_STAFF_GROUP, self.user_dn("per.hr"))
            self.add_group(conn, HR_GROUP, HR_STAFF_GROUP)
            self.add_group(conn, MANAGER_GROUP, self.user_dn("aoberg"), self.user_dn("per.hr"))
            for n in range(MANY_GROUPS):
                self.add_group(conn, f"CN=Arbetsgrupp {n:02d},{GROUPS}", self.user_dn("max.grupp"))
            self._password_policies(conn)
        finally:
            conn.unbind_s()
        self._lock_out("last.konto")

    def _password_policies(self, conn) -> None:
        """Fine-grained password policies: one whose passwords expire after a second (for gammalt.losen; Samba
        does not apply it to simple binds), one that locks an account after two wrong passwords (for last.konto),
        one that counts wrong passwords without locking soon (for max.grupp)."""
        container = f"CN=Password Settings Container,CN=System,{BASE}"
        common = {"objectClass": ["top", "msDS-PasswordSettings"], "msDS-PasswordReversibleEncryptionEnabled": "FALSE",
                  "msDS-PasswordHistoryLength": "0", "msDS-PasswordComplexityEnabled": "TRUE",
                  "msDS-MinimumPasswordLength": "7", "msDS-MinimumPasswordAge": "0",
                  "msDS-LockoutObservationWindow": "-18000000000", "msDS-LockoutDuration": "-18000000000"}
        self._add(conn, f"CN=Kort giltighet,{container}", {
            **common, "msDS-PasswordSettingsPrecedence": "10", "msDS-MaximumPasswordAge": "-10000000",
            "msDS-LockoutThreshold": "0", "msDS-PSOAppliesTo": self.user_dn("gammalt.losen")})
        self._add(conn, f"CN=Snabb spärr,{container}", {
            **common, "msDS-PasswordSettingsPrecedence": "20", "msDS-MaximumPasswordAge": "-36000000000000",
            "msDS-LockoutThreshold": "2", "msDS-PSOAppliesTo": self.user_dn("last.konto")})
        self._add(conn, f"CN=Räknar fel,{container}", {  # counts wrong passwords (badPwdCount) for max.grupp
            **common, "msDS-PasswordSettingsPrecedence": "30", "msDS-MaximumPasswordAge": "-36000000000000",
            "msDS-LockoutThreshold": "50", "msDS-PSOAppliesTo": self.user_dn("max.grupp")})

    def _lock_out(self, sam: str) -> None:
        for _ in range(3):
            with contextlib.suppress(ldap.INVALID_CREDENTIALS):
                self.connect(self.user_dn(sam), "fel-losen").unbind_s()

    def rename(self, sam: str, new_sam: str, new_cn: str) -> str:
        """A marriage: new CN and sAMAccountName, the same object (objectGUID)."""
        conn = self.admin()
        try:
            old = self.user_dn(sam) if any(s == sam for s, *_ in PEOPLE_ROWS) else f"CN={sam},{PEOPLE}"
            conn.rename_s(old, f"CN={new_cn}")
            new = f"CN={new_cn},{PEOPLE}"
            conn.modify_s(new, [(ldap.MOD_REPLACE, "sAMAccountName", [new_sam.encode()]),
                                (ldap.MOD_REPLACE, "userPrincipalName", [f"{new_sam}@{REALM}".encode()])])
            return new
        finally:
            conn.unbind_s()

    def modify(self, dn: str, changes: list) -> None:
        conn = self.admin()
        try:
            conn.modify_s(dn, changes)
        finally:
            conn.unbind_s()


if __name__ == "__main__":  # a manual check: provision, start, show the people
    dc = SambaDC()
    try:
        started = time.monotonic()
        dc.start()
        print(f"started in {time.monotonic() - started:.1f} s at {dc.root}")
        admin = dc.admin()
        for dn, attrs in admin.search_s(PEOPLE, ldap.SCOPE_ONELEVEL, "(objectClass=user)", ["sAMAccountName"]):
            print(dn, attrs)
    finally:
        dc.stop()
