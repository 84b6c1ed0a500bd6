"""Issue 16: log-in against a real Active Directory (a Samba 4 AD domain controller, tests/auth/samba_ad.py) and
against servers that misbehave."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from datetime import timedelta
from pathlib import Path

import ldap
import pytest
from sqlalchemy import select

from app.auth import services
from app.auth.exceptions import (
    AccountBlocked,
    AmbiguousUser,
    DirectoryUnavailable,
    InvalidCredentials,
    TryAgainSoon,
    UnknownUser,
)
from app.auth.ldap import LdapDirectory, LoginName, _Connection, _Deadline, directories_from_config
from app.auth.models import LoginSession, User
from app.config import load_config
from app.core.audit import AuditEntry
from app.core.db import db, utcnow
from tests.auth import samba_ad
from tests.auth.conftest import PEOPLE as SLAPD_PEOPLE
from tests.auth.conftest import ad_config, ldap_config


@pytest.fixture
def ad_app(make_app, samba_dc):
    """An app that logs in against the Samba DC, with a twin's app context pushed (requests get their own)."""
    application = make_app(**ad_config(samba_dc))
    with make_app(**ad_config(samba_dc)).app_context():
        yield application


def login(app, username: str, password: str = samba_ad.PASSWORD):
    return app.test_client().post("/login", data={"username": username, "password": password})


def ad_directory(dc, **changes) -> LdapDirectory:
    """The Samba DC's directory, with the settings ``ad_config`` gives and ``changes``, validated as at start-up."""
    values = load_config(Path("/nonexistent"), {}, {}, {
        "LOTSEN_ENV": "testing", "LOTSEN_SECRET_KEY": "x" * 32, **ad_config(dc, **changes)})
    return directories_from_config(values)[0]


# --- servers that accept and never answer ------------------------------------------------------------------
class StalledServer:
    """Accepts TCP connections and never says anything (a hung DC or a middlebox); with ``answer_start_tls`` it
    answers StartTLS with success and then stalls the TLS handshake."""

    def __init__(self, answer_start_tls: bool = False) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(20)
        self.port = self.sock.getsockname()[1]
        self.answer_start_tls = answer_start_tls
        self.held: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)
            if self.answer_start_tls:
                conn.recv(1024)
                # ExtendedResponse, messageID 1, resultCode success, empty matchedDN and message
                conn.sendall(bytes.fromhex("300c02010178070a010004000400"))

    def close(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


@pytest.mark.parametrize(("scheme", "start_tls", "answers_start_tls"), [
    ("ldaps", False, False), ("ldap", True, False), ("ldap", True, True), ("ldap", False, False)])
def test_a_stalled_server_never_holds_a_log_in_beyond_the_timeout(scheme, start_tls, answers_start_tls):
    """Point 1: before, ``ldaps://`` to a server that accepts and never answers hung the request for ever (the
    TLS handshake had no time limit). Every directory call now ends within LOTSEN_LDAP_TIMEOUT."""
    server = StalledServer(answer_start_tls=answers_start_tls)
    directory = LdapDirectory(uri=f"{scheme}://127.0.0.1:{server.port}", user_base_dn="dc=x", timeout=1.0,
                              start_tls=start_tls, bind_dn="cn=svc", bind_password="x")
    outcome: list = []

    def attempt() -> None:
        started = time.monotonic()
        try:
            directory.authenticate("asa", "losen")
        except DirectoryUnavailable as exc:
            outcome.append((time.monotonic() - started, exc))

    try:
        worker = threading.Thread(target=attempt, daemon=True)
        worker.start()
        worker.join(10)
        assert not worker.is_alive(), "the log-in hung"
        elapsed, _exc = outcome[0]
        assert elapsed < 1.8
    finally:
        server.close()


@pytest.mark.parametrize("scheme", ["ldaps", "ldap"])
def test_a_silent_first_domain_controller_leaves_time_for_the_second(samba_dc, scheme):
    """Point 10 with point 1: the URI list is tried in order and a hung first DC does not use up the time. Review:
    a DC that accepted TCP and never answered LDAP (``ldap``) failed the whole call; the next is now tried."""
    server = StalledServer()
    try:
        directory = ad_directory(samba_dc, LOTSEN_LDAP_URI=f"{scheme}://127.0.0.1:{server.port} ldaps://127.0.0.1",
                                 LOTSEN_LDAP_TIMEOUT=4.0)
        entry = directory.authenticate("aoberg", samba_ad.PASSWORD)
        assert (entry.username, entry.display_name) == ("aoberg", "Åsa Öberg")
    finally:
        server.close()


# --- TLS ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("uri,start_tls", [("ldaps://127.0.0.1", False), ("ldap://127.0.0.1", True)])
def test_ldaps_and_start_tls_check_the_certificate_against_the_ca_file(samba_dc, uri, start_tls):
    entry = ad_directory(samba_dc, LOTSEN_LDAP_URI=uri, LOTSEN_LDAP_START_TLS=start_tls).authenticate(
        "aoberg", samba_ad.PASSWORD)
    assert entry.department == "Vård- och omsorgsförvaltningen"


def test_an_untrusted_certificate_is_logged_as_such(samba_dc, caplog):
    """Point 5: without the municipality's CA the certificate is refused, and the log says so (before: "Can't
    contact LDAP server")."""
    directory = ad_directory(samba_dc, LOTSEN_LDAP_CA_FILE="")
    with caplog.at_level(logging.ERROR), pytest.raises(DirectoryUnavailable, match="certificate not trusted"):
        directory.authenticate("aoberg", samba_ad.PASSWORD)
    assert "is not trusted" in caplog.text and "LOTSEN_LDAP_CA_FILE" in caplog.text


def test_a_wrong_host_name_is_refused_and_checking_can_be_turned_off_for_tests(samba_dc):
    with pytest.raises(DirectoryUnavailable, match="certificate not trusted"):
        ad_directory(samba_dc, LOTSEN_LDAP_URI="ldaps://localhost").authenticate("aoberg", samba_ad.PASSWORD)
    unchecked = ad_directory(samba_dc, LOTSEN_LDAP_CA_FILE="", LOTSEN_LDAP_REQUIRE_CERT=False)
    assert unchecked.authenticate("aoberg", samba_ad.PASSWORD).username == "aoberg"


def test_start_up_warns_about_clear_text_unchecked_certificates_and_missing_groups(samba_dc):
    """Points 5 and 8: warnings at start-up (and from ``flask users check-directory``)."""
    clear = ad_directory(samba_dc, LOTSEN_LDAP_URI="ldap://127.0.0.1", LOTSEN_LDAP_REQUIRE_CERT=False,
                         LOTSEN_LDAP_GROUP_ROLES={samba_ad.HR_GROUP: ["specialist:hr"],
                                                  samba_ad.MISSING_GROUP: ["manager"]})
    warnings = services.directory_warnings([clear])
    assert any("unencrypted" in w for w in warnings)
    assert any("not checked" in w for w in warnings)
    assert [w for w in warnings if "does not exist" in w] == [
        f"directory kommun: the group {samba_ad.MISSING_GROUP} in the settings does not exist: its members get no "
        "roles"]
    assert services.directory_warnings([ad_directory(samba_dc)]) == []


def test_check_directory_command(make_app, samba_dc):
    app = make_app(**ad_config(samba_dc, LOTSEN_LDAP_GROUP_ROLES={samba_ad.MISSING_GROUP: ["manager"]}))
    result = app.test_cli_runner().invoke(args=["users", "check-directory"])
    assert result.exit_code == 1
    assert "does not exist" in result.output


# --- who is who ---------------------------------------------------------------------------------------------
def test_nested_groups_count_through_the_in_chain_rule(ad_app):
    """Point 2: per.hr is in HR-handläggare, which is in Lotsen HR (the mapped group). With LOTSEN_LDAP_TYPE=ad
    the in-chain rule under the domain's root is the default."""
    directory = directories_from_config(ad_app.config)[0]
    assert directory.group_filter == "(member:1.2.840.113556.1.4.1941:={user_dn})"
    assert directory.group_base_dn == "DC=kommun,DC=test"
    assert login(ad_app, "per.hr").status_code == 302
    per = services.get_user("per.hr")
    assert per.has_role("specialist", "hr") and per.has_role("editor", "hr")
    assert per.has_role("manager")  # "Chefer, alla": a comma in the name, written with a space in the setting
    assert per.department == "Kommunledningsförvaltningen" and per.display_name == "Per Hårdh"


@pytest.mark.parametrize("typed", ["aoberg", "AOBERG", "asa.oberg@kommun.se", "KOMMUN\\aoberg", "kommun\\aoberg",
                                   "aoberg@kommun.test"])
def test_every_form_of_the_name_is_one_lotsen_account(ad_app, typed):
    """Point 3: the name as typed, the UPN (which differs from the sAMAccountName) and DOMAIN\\name."""
    assert login(ad_app, "aoberg").status_code == 302
    assert login(ad_app, typed).status_code == 302
    users = db.session.scalars(select(User).where(User.auth_source == "ldap")).all()
    assert [(u.username, u.directory) for u in users] == [("aoberg", "kommun")]
    assert len(users[0].directory_id) == 36  # the objectGUID as a UUID


def test_a_renamed_account_keeps_its_history(ad_app, samba_dc):
    """Point 3: after a marriage, eva.andersson is eva.lind: the same Lotsen user, its roles and cases kept."""
    assert login(ad_app, "eva.andersson").status_code == 302
    eva = services.get_user("eva.andersson")
    services.grant_role(eva, *services.parse_role("manager"))
    db.session.commit()
    before = eva.id
    new_dn = samba_dc.rename("eva.andersson", "eva.lind", "Eva Lind")
    try:
        samba_dc.modify(new_dn, [(ldap.MOD_REPLACE, "displayName", [b"Eva Lind"])])
        assert login(ad_app, "eva.lind").status_code == 302
        db.session.expire_all()
        eva = db.session.get(User, before)
        assert (eva.username, eva.display_name) == ("eva.lind", "Eva Lind")
        assert eva.has_role("manager")
        assert services.get_user("eva.andersson") is None
        assert db.session.scalar(select(AuditEntry.detail).where(AuditEntry.action == "user.renamed")) == (
            "eva.andersson -> eva.lind (kommun)")
    finally:
        samba_dc.rename("Eva Lind", "eva.andersson", "Eva Andersson")


def test_users_from_before_stable_keys_are_adopted_by_their_name(ad_app):
    """Point 3: a row made by the earlier version (keyed on the typed name) keeps its roles and gets the key."""
    old = User(username="per.hr", auth_source="ldap", display_name="Per")
    db.session.add(old)
    db.session.flush()
    services.grant_role(old, *services.parse_role("admin"))
    db.session.commit()
    assert login(ad_app, "KOMMUN\\per.hr").status_code == 302
    db.session.expire_all()
    per = db.session.get(User, old.id)
    assert per.directory_id and per.has_role("admin") and per.has_role("specialist", "hr")
    assert db.session.scalar(select(User).where(User.username != "per.hr", User.auth_source == "ldap")) is None


def test_a_local_account_with_the_same_name_is_left_alone(ad_app, create_user):
    create_user("aoberg", password="lokalt-losen-1")
    assert login(ad_app, "asa.oberg@kommun.se").status_code == 302
    assert services.get_user("aoberg@kommun").directory == "kommun"
    assert services.get_user("aoberg").auth_source == "local"


# --- why AD refuses -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("username", "reason", "says"), [
    ("dis.abled", "disabled", "Ditt konto är avstängt"),
    ("gammal.konto", "account_expired", "Ditt konto har gått ut"),
    ("nytt.losen", "must_change_password", "Du måste välja ett nytt lösenord"),
    ("last.konto", "locked", "Ditt konto är låst"),
])
def test_the_directory_s_reason_is_told_and_logged(ad_app, caplog, username, reason, says):
    """Point 4: before, each got "Fel användarnamn eller lösenord" and no log line."""
    with caplog.at_level(logging.WARNING, logger="app.auth.ldap"):
        response = login(ad_app, username)
    assert response.status_code == 401
    assert says in response.get_data(as_text=True)
    assert f"refused {samba_ad.SambaDC().user_dn(username)}: {reason}" in caplog.text


def test_a_wrong_password_on_a_disabled_account_says_nothing_more(ad_app):
    response = login(ad_app, "dis.abled", "Fel-Losen-1!")
    assert "Fel användarnamn eller lösenord." in response.get_data(as_text=True)


def test_an_expired_password_from_a_recorded_answer(ad_app, monkeypatch):
    """Samba does not expire a password within a test's time (its fine-grained maximum age is not applied to
    simple binds), so AD's answer for an expired password (data 532) is recorded here."""
    recorded = ldap.INVALID_CREDENTIALS({"result": 49, "desc": "Invalid credentials", "info": (
        "80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data 532, v4f7c")})

    def refuse(self, dn, password):
        raise recorded

    monkeypatch.setattr(_Connection, "bind", lambda self, dn, password: (
        refuse(self, dn, password) if "Gammalt" in dn else ldap.ldapobject.LDAPObject.simple_bind_s(
            self.conn, dn, password)))
    response = login(ad_app, "gammalt.losen")
    assert "Ditt lösenord har gått ut" in response.get_data(as_text=True)


def test_wrong_passwords_reach_the_directory_no_faster_than_a_person_types(make_app, samba_dc):
    """Point 4: a second password for the same account within LOTSEN_LDAP_BIND_INTERVAL after a wrong one waits
    its turn before it goes to AD, and the answer is the usual one (it tells nothing about the account)."""
    def bad_count() -> int:
        admin = samba_dc.admin()
        try:
            found = admin.search_s(samba_dc.user_dn("max.grupp"), ldap.SCOPE_BASE, attrlist=["badPwdCount"])
            return int(found[0][1].get("badPwdCount", [b"0"])[0])
        finally:
            admin.unbind_s()

    app = make_app(**ad_config(samba_dc, LOTSEN_LDAP_BIND_INTERVAL=1.5))
    with make_app(**ad_config(samba_dc)).app_context():
        before = bad_count()
        started = time.monotonic()
        assert login(app, "max.grupp", "Fel-Losen-1!").status_code == 401
        second = login(app, "KOMMUN\\max.grupp", "Fel-Losen-2!")
        assert time.monotonic() - started >= 1.5
        assert second.status_code == 401
        assert "Fel användarnamn eller lösenord." in second.get_data(as_text=True)
        assert bad_count() == before + 2
        started = time.monotonic()
        assert login(app, "max.grupp").status_code == 302  # waits its turn too, then gets in
        assert login(app, "max.grupp").status_code == 302  # a right password frees the turn at once
        assert time.monotonic() - started < 3


def test_a_turn_further_away_than_the_time_limit_is_refused_without_asking(samba_dc):
    directory = ad_directory(samba_dc, LOTSEN_LDAP_BIND_INTERVAL=60.0)
    with pytest.raises(InvalidCredentials):
        directory.authenticate("max.grupp", "Fel-Losen-3!")
    with pytest.raises(TryAgainSoon):
        directory.authenticate("max.grupp", samba_ad.PASSWORD)


# --- large directories --------------------------------------------------------------------------------------
def test_searches_read_every_page(samba_dc):
    """Point 6: AD answers at most 1,000 entries without paging; with pages of 2 every person still comes."""
    directory = ad_directory(samba_dc, LOTSEN_LDAP_PAGE_SIZE=2)
    with directory._service(_Deadline(5, directory.uri)) as conn:
        people = conn.search(samba_ad.PEOPLE, ldap.SCOPE_ONELEVEL, "(objectClass=user)", ["sAMAccountName"])
    assert len(people) == len(samba_ad.PEOPLE_ROWS)
    assert len(directory.search_people("Konto", limit=1)) == 1


def test_ranged_attributes_are_read_to_the_end(samba_dc):
    """Point 6: AD hands out at most 1,500 values of memberOf at once (``memberOf;range=0-1499``). Samba does not
    range on its own, so the first part is asked for by range here and the rest is read from the real DC."""
    directory = ad_directory(samba_dc)
    dn = samba_dc.user_dn("max.grupp")
    with directory._service(_Deadline(5, directory.uri)) as conn:
        first = conn.search(dn, ldap.SCOPE_BASE, "(objectClass=*)", ["memberOf;range=0-9", "displayName"])[0][1]
        assert len(first["memberOf;range=0-9"]) == 10
        merged = conn.read_ranged(dn, first)
    assert len(merged["memberOf"]) == samba_ad.MANY_GROUPS
    assert merged["displayName"] == [b"Max Grupp"]


def test_a_recorded_ranged_answer_is_followed(monkeypatch):
    """The same as AD sends it for a person in 3,200 groups: three parts, the last ending in ``*``."""
    groups = [f"CN=G{n},DC=x".encode() for n in range(3200)]
    parts = {"memberOf;range=1500-*": ("memberOf;range=1500-2999", groups[1500:3000]),
             "memberOf;range=3000-*": ("memberOf;range=3000-*", groups[3000:])}
    fake = _Connection.__new__(_Connection)
    monkeypatch.setattr(_Connection, "search", lambda self, base, scope, flt, attrs: [
        ("CN=P,DC=x", dict([parts[attrs[0]]]))])
    merged = fake.read_ranged("CN=P,DC=x", {"memberOf;range=0-1499": groups[:1500], "mail": [b"p@x"]})
    assert merged["memberOf"] == groups and merged["mail"] == [b"p@x"]


# --- several directories --------------------------------------------------------------------------------------
def test_several_directories_tried_in_order_and_picked_by_domain(make_app, samba_dc, slapd):
    """Point 7: the AD first, the school's OpenLDAP second. A bare name is looked for in order; a domain part
    goes straight to its directory; a password is tried in one directory only."""
    school = {key[len("LOTSEN_LDAP_"):].lower(): value for key, value in ldap_config(slapd).items()}
    school |= {"name": "skola", "domains": ["skola", "kommun.example"], "upn_filter": "(mail={upn})"}
    app = make_app(**ad_config(samba_dc), LOTSEN_LDAP_DIRECTORIES=[school])
    with app.app_context():
        assert login(app, "karin.larare", "karins-losen-1").status_code == 302  # not in AD: the school's
        assert login(app, "SKOLA\\karin.larare", "karins-losen-1").status_code == 302
        assert login(app, "karin.larare@kommun.example", "karins-losen-1").status_code == 302  # UPN filter: mail
        assert login(app, "karin.larare@okand.se", "karins-losen-1").status_code == 401  # no directory's domain
        assert login(app, "KOMMUN\\karin.larare", "karins-losen-1").status_code == 401  # only AD asked
        assert login(app, "SKOLA\\aoberg").status_code == 401
        assert login(app, "aoberg").status_code == 302
        rows = {(u.username, u.directory) for u in db.session.scalars(select(User))}
        assert rows == {("karin.larare", "skola"), ("aoberg", "kommun")}
        karin = services.get_user("karin.larare")
        assert karin.directory_id and karin.directory_id != services.get_user("aoberg").directory_id


def test_several_directories_in_the_settings_are_checked(make_app, tmp_path, monkeypatch):
    from app.config import ConfigError

    with pytest.raises(ConfigError, match="directory 2"):
        make_app(LOTSEN_LDAP_URI="ldap://a", LOTSEN_LDAP_USER_BASE_DN="dc=a",
                 LOTSEN_LDAP_DIRECTORIES=[{"uri": "ldap://b", "user_base_dn": "dc=b", "colour": "red"}])
    with pytest.raises(ConfigError, match="name must be set"):
        make_app(LOTSEN_LDAP_URI="ldap://a", LOTSEN_LDAP_USER_BASE_DN="dc=a",
                 LOTSEN_LDAP_DIRECTORIES=[{"uri": "ldap://b", "user_base_dn": "dc=b"}])
    with pytest.raises(ConfigError, match="NAME of its own"):
        make_app(LOTSEN_LDAP_URI="ldap://a", LOTSEN_LDAP_USER_BASE_DN="dc=a",
                 LOTSEN_LDAP_DIRECTORIES=[{"name": "kommun", "uri": "ldap://b", "user_base_dn": "dc=b"}])


def test_login_names_are_parsed():
    assert LoginName.parse(" KOMMUN\\asa.oberg ") == LoginName("asa.oberg", "kommun")
    assert LoginName.parse("Asa.Oberg@Kommun.SE") == LoginName("Asa.Oberg@Kommun.SE", "kommun.se", is_upn=True)
    assert LoginName.parse("asa.oberg@kommun.se").local_part == "asa.oberg"
    assert LoginName.parse("asa") == LoginName("asa")


# --- sessions follow the directory ----------------------------------------------------------------------------
def test_a_disabled_user_loses_the_session_at_the_next_check(ad_app, samba_dc):
    """Point 9: before, a user disabled in AD kept the Lotsen session for as long as it lasted."""
    client = ad_app.test_client()
    assert client.post("/login", data={"username": "eva.andersson", "password": samba_ad.PASSWORD}
                       ).status_code == 302
    assert client.get("/tickets").status_code == 200
    eva = services.get_user("eva.andersson")
    samba_dc.modify(samba_dc.user_dn("eva.andersson"), [(ldap.MOD_REPLACE, "userAccountControl", [b"514"])])
    try:
        assert client.get("/tickets").status_code == 200  # checked at log-in: not due yet
        eva.directory_checked_at = utcnow() - timedelta(hours=4)
        db.session.commit()
        answer = client.get("/tickets")
        assert answer.status_code == 302 and "/login" in answer.headers["Location"]
        assert db.session.scalar(select(LoginSession).where(LoginSession.user_id == eva.id)) is None
        assert db.session.scalar(select(AuditEntry.detail).where(
            AuditEntry.action == "session.ended_by_directory")) == "kommun: disabled"
    finally:
        samba_dc.modify(samba_dc.user_dn("eva.andersson"), [(ldap.MOD_REPLACE, "userAccountControl", [b"512"])])


def test_lost_groups_take_their_roles_at_the_next_check(make_app, samba_dc):
    """Point 9: a user taken out of the required group loses the session; one out of a mapped group keeps the
    session without the role."""
    settings = ad_config(samba_dc, LOTSEN_LDAP_REQUIRED_GROUP=samba_ad.MANAGER_GROUP)
    app = make_app(**settings)
    with make_app(**settings).app_context():
        assert login(app, "eva.andersson").status_code == 401  # not a member of the required group
        client = app.test_client()
        assert client.post("/login", data={"username": "aoberg", "password": samba_ad.PASSWORD}).status_code == 302
        asa = services.get_user("aoberg")
        assert asa.has_role("manager")
        samba_dc.modify(samba_ad.MANAGER_GROUP, [(ldap.MOD_DELETE, "member", [samba_dc.user_dn("aoberg").encode()])])
        try:
            asa.directory_checked_at = utcnow() - timedelta(hours=4)
            db.session.commit()
            assert client.get("/tickets").status_code == 302
            assert db.session.scalar(select(AuditEntry.detail).where(
                AuditEntry.action == "session.ended_by_directory")) == "kommun: not_permitted"
        finally:
            samba_dc.modify(samba_ad.MANAGER_GROUP, [(ldap.MOD_ADD, "member", [samba_dc.user_dn("aoberg").encode()])])


def test_a_directory_down_at_the_check_keeps_the_session_and_asks_again_later(make_app, samba_dc):
    app = make_app(**ad_config(samba_dc))
    with make_app(**ad_config(samba_dc)).app_context():
        client = app.test_client()
        assert client.post("/login", data={"username": "aoberg", "password": samba_ad.PASSWORD}).status_code == 302
        asa = services.get_user("aoberg")
        asa.directory_checked_at = utcnow() - timedelta(hours=4)
        db.session.commit()
        app.config["LOTSEN_DIRECTORIES"][0]["uri"] = "ldap://127.0.0.1:9"
        assert client.get("/tickets").status_code == 200
        db.session.expire_all()
        due_again = services.directory_recheck_due(db.session.get(User, asa.id), 3)
        assert not due_again  # asked again in 15 minutes, not on every request


def test_unknown_user_in_one_directory_is_not_a_wrong_password(samba_dc):
    with pytest.raises(UnknownUser):
        ad_directory(samba_dc).authenticate("finns.inte", samba_ad.PASSWORD)
    with pytest.raises(AccountBlocked):
        ad_directory(samba_dc).authenticate("dis.abled", samba_ad.PASSWORD)


def test_slapd_users_get_their_entry_uuid_as_key(make_app, slapd):
    app = make_app(**ldap_config(slapd))
    with app.app_context():
        assert login(app, "karin.larare", "karins-losen-1").status_code == 302
        karin = services.get_user("karin.larare")
        assert len(karin.directory_id) == 36 and karin.directory == "kommun"
        directory = directories_from_config(app.config)[0]
        assert directory.lookup(karin.directory_id).dn == f"uid=karin.larare,{SLAPD_PEOPLE}"


# --- faults found in review ---------------------------------------------------------------------------------
def test_the_directory_timeout_is_its_own_not_the_mail_server_s(samba_dc):
    directory = ad_directory(samba_dc, LOTSEN_LDAP_TIMEOUT=2.0, LOTSEN_SMTP_TIMEOUT=30)
    assert directory.timeout == 2.0


class TicketServer:
    """A TLS server (Python's ssl, two TLS 1.3 session tickets per connection) that echoes what it gets."""

    def __init__(self, certificate: str, key: str) -> None:
        import ssl

        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(certificate, key)
        self.context.num_tickets = 2
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        conn, _ = self.sock.accept()
        with self.context.wrap_socket(conn, server_side=True) as tls:
            while data := tls.recv(1024):
                tls.sendall(data)


def test_the_tls_tunnel_passes_bytes_although_session_tickets_came_first(samba_dc):
    """Review: TLS 1.3 session tickets arriving before libldap's first request left the tunnel waiting in a
    blocking read, and the request was never sent."""
    import ssl

    from app.auth.ldap import _tls_context, _Tunnel

    server = TicketServer(str(samba_dc.root / "dc.pem"), str(samba_dc.root / "dc.key"))
    raw = socket.create_connection(("127.0.0.1", server.port), timeout=3)
    tls = _tls_context(samba_dc.ca_file, True).wrap_socket(raw, server_hostname="127.0.0.1")
    assert tls.version() == "TLSv1.3"
    time.sleep(0.2)  # the tickets are there before anything is written
    tunnel = _Tunnel(tls, 3.0)
    tunnel.start()
    tunnel.outer.settimeout(3)
    tunnel.outer.sendall(b"hej")
    assert tunnel.outer.recv(10) == b"hej"
    tunnel.outer.close()
    tunnel.join(3)
    assert not tunnel.is_alive()
    assert isinstance(tls, ssl.SSLSocket)


@pytest.mark.parametrize("answer", ["7800", "78010a", "3003020101", "30840fffffff"])
def test_a_malformed_start_tls_answer_counts_as_unavailable(answer):
    """Review: these answers crashed the log-in with a 500 (StopIteration, IndexError) or read without bound."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def serve() -> None:
        conn, _ = server.accept()
        conn.recv(100)
        payload = bytes.fromhex(answer)
        conn.sendall(payload if payload[0] == 0x30 else b"\x30" + bytes([len(payload) + 3]) + b"\x02\x01\x01"
                     + payload)
        time.sleep(2)
        conn.close()

    threading.Thread(target=serve, daemon=True).start()
    directory = LdapDirectory(uri=f"ldap://127.0.0.1:{server.getsockname()[1]}", user_base_dn="dc=x", timeout=1.0,
                              start_tls=True)
    started = time.monotonic()
    with pytest.raises(DirectoryUnavailable):
        directory.authenticate("asa", "losen")
    assert time.monotonic() - started < 1.8
    server.close()


def test_a_start_tls_answer_that_trickles_is_bounded_by_the_call_s_time():
    """Review: one byte every half second kept a call with a 2 s limit going for 8 s."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def serve() -> None:
        conn, _ = server.accept()
        conn.recv(100)
        with contextlib.suppress(OSError):
            for byte in bytes.fromhex("300c02010178070a010004000400"):
                conn.sendall(bytes([byte]))
                time.sleep(0.5)
        conn.close()

    threading.Thread(target=serve, daemon=True).start()
    directory = LdapDirectory(uri=f"ldap://127.0.0.1:{server.getsockname()[1]}", user_base_dn="dc=x", timeout=2.0,
                              start_tls=True)
    started = time.monotonic()
    with pytest.raises(DirectoryUnavailable):
        directory.authenticate("asa", "losen")
    assert time.monotonic() - started < 2.8
    server.close()


def test_ipv6_addresses_work_and_leave_no_sockets_open(samba_dc):
    """Review: ``ldaps://[::1]`` lost its brackets on the way to libldap, failed, and leaked a socket each time."""
    directory = ad_directory(samba_dc, LOTSEN_LDAP_URI="ldaps://[::1]", LOTSEN_LDAP_REQUIRE_CERT=False)
    before = len(list(Path("/proc/self/fd").iterdir()))
    for _ in range(5):
        assert directory.authenticate("aoberg", samba_ad.PASSWORD).username == "aoberg"
    time.sleep(0.3)  # the tunnels end when libldap closes its side
    assert len(list(Path("/proc/self/fd").iterdir())) <= before + 1


def test_a_name_several_entries_match_stops_the_search(make_app, samba_dc, slapd):
    """Review: a name matching two people in the first directory went on to the next directory's person."""
    settings = ad_config(samba_dc, LOTSEN_LDAP_USER_FILTER="(|(sAMAccountName={username})(sAMAccountName=per.hr))")
    school = {key[len("LOTSEN_LDAP_"):].lower(): value for key, value in ldap_config(slapd).items()}
    app = make_app(**settings, LOTSEN_LDAP_DIRECTORIES=[{**school, "name": "skola"}])
    with pytest.raises(AmbiguousUser):
        directories_from_config(app.config)[0].authenticate("aoberg", samba_ad.PASSWORD)
    samba_dc.add_user(samba_dc.admin(), "karin.larare", "Karin Dubbel", "Karin Dubbel", "X", "kd@kommun.test", {})
    try:
        with make_app(**settings).app_context():
            assert login(app, "karin.larare", "karins-losen-1").status_code == 401
            assert services.get_user("karin.larare") is None
    finally:
        conn = samba_dc.admin()
        conn.delete_s(f"CN=Karin Dubbel,{samba_ad.PEOPLE}")
        conn.unbind_s()


def test_a_user_of_one_directory_is_never_taken_over_from_another(make_app, samba_dc, slapd):
    """Review: an older row of the first directory was adopted by a same-named person of a directory without
    stable keys, and stable keys were not scoped to their directory."""
    school = {key[len("LOTSEN_LDAP_"):].lower(): value for key, value in ldap_config(slapd).items()}
    school |= {"name": "skola", "attr_id": "nsUniqueId"}  # entries without a stable key
    app = make_app(**ad_config(samba_dc), LOTSEN_LDAP_DIRECTORIES=[school])
    with make_app(**ad_config(samba_dc)).app_context():
        hugo = User(username="hugo.hr", auth_source="ldap", display_name="Kommunens Hugo")
        db.session.add(hugo)
        db.session.flush()
        services.grant_role(hugo, *services.parse_role("admin"))
        db.session.commit()
        assert login(app, "SKOLA\\hugo.hr", "hugos-losen-1").status_code == 302
        db.session.expire_all()
        assert db.session.get(User, hugo.id).has_role("admin")
        school_hugo = services.get_user("hugo.hr@skola")
        assert school_hugo.id != hugo.id and not school_hugo.has_role("admin")
        for name, directory in (("tvilling", "skola"), ("tvilling2", "kommun")):
            db.session.add(User(username=name, auth_source="ldap", directory=directory, directory_id="samma-nyckel"))
        db.session.commit()  # the same key in two directories is two people


def test_bad_shapes_of_further_directories_are_named(make_app):
    from app.config import ConfigError

    base = {"LOTSEN_LDAP_URI": "ldap://a", "LOTSEN_LDAP_USER_BASE_DN": "dc=a"}
    ok = {"name": "b", "uri": "ldap://b", "user_base_dn": "dc=b"}
    for bad, says in [({"uri": 5}, "uri: expected a text"), ({"timeout": -1}, "timeout"),
                      ({"timeout": None}, "timeout"), ({"page_size": 2.5}, "page_size"),
                      ({"domains": 5}, "domains"), ({"group_roles": ["x"]}, "group_roles"),
                      ({"user_filter": None}, "user_filter"), ({"bind_interval": -3}, "bind_interval"),
                      ({"start_tls": "kanske"}, "start_tls"), ({"type": "novell"}, "type"),
                      ({"name": ""}, "name must be set")]:
        with pytest.raises(ConfigError, match=f"directory 2.*{says}"):
            make_app(**base, LOTSEN_LDAP_DIRECTORIES=[{**ok, **bad}])
    app = make_app(**base, LOTSEN_LDAP_DIRECTORIES=[{**ok, "timeout": "3", "domains": ["SKOLA"], "start_tls": True}])
    second = directories_from_config(app.config)[1]
    assert (second.timeout, second.domains, second.start_tls) == (3.0, ("skola",), True)


def test_the_check_is_kept_when_the_request_fails(make_app, samba_dc):
    """Review: a check made on a request that ended in 404 was rolled back with it, and the next request asked
    the directory again."""
    app = make_app(**ad_config(samba_dc))
    with make_app(**ad_config(samba_dc)).app_context():
        client = app.test_client()
        assert client.post("/login", data={"username": "aoberg", "password": samba_ad.PASSWORD}).status_code == 302
        asa = services.get_user("aoberg")
        asa.directory_checked_at = utcnow() - timedelta(hours=4)
        db.session.commit()
        assert client.get("/tickets/LOT-2099-999999").status_code == 404
        db.session.expire_all()
        assert not services.directory_recheck_due(db.session.get(User, asa.id), 3)


def test_a_disabled_user_s_access_tokens_end_too(make_app, samba_dc):
    app = make_app(**ad_config(samba_dc))
    with make_app(**ad_config(samba_dc)).app_context():
        assert login(app, "eva.andersson").status_code == 302
        eva = services.get_user("eva.andersson")
        raw, _token = services.create_access_token(eva, "robot", ["cases:read"])
        eva.directory_checked_at = utcnow() - timedelta(hours=4)
        db.session.commit()
        samba_dc.modify(samba_dc.user_dn("eva.andersson"), [(ldap.MOD_REPLACE, "userAccountControl", [b"514"])])
        try:
            answer = app.test_client().get("/api/v1/me/cases", headers={"Authorization": f"Bearer {raw}"})
            assert answer.status_code == 401
            assert services.list_access_tokens(db.session.get(User, eva.id)) == []
        finally:
            samba_dc.modify(samba_dc.user_dn("eva.andersson"), [(ldap.MOD_REPLACE, "userAccountControl", [b"512"])])
