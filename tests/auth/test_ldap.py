import socket

import pytest
from sqlalchemy import func, select

from app.auth import services
from app.auth.exceptions import DirectoryUnavailable, InvalidCredentials
from app.auth.ldap import LdapDirectory, directories_from_config
from app.auth.models import User
from app.core.audit import AuditEntry
from app.core.db import db
from tests.auth.conftest import HR_GROUP, PEOPLE, ldap_config


@pytest.fixture
def directory(slapd):
    config = {**ldap_config(slapd)}
    return LdapDirectory(
        uri=config["LOTSEN_LDAP_URI"], user_base_dn=PEOPLE, bind_dn=config["LOTSEN_LDAP_BIND_DN"],
        bind_password=config["LOTSEN_LDAP_BIND_PASSWORD"], group_base_dn=config["LOTSEN_LDAP_GROUP_BASE_DN"],
        department_attrs=("department", "ou"), timeout=2.0, bind_interval=0.01,
    )


def test_adapter_returns_attributes_and_groups(directory):
    entry = directory.authenticate("hugo.hr", "hugos-losen-1")
    assert entry.dn == f"uid=hugo.hr,{PEOPLE}"
    assert entry.display_name == "Hugo Hansson"
    assert entry.email == "hugo.hr@kommun.example"
    assert entry.department == "Kommunledningsförvaltningen"
    assert entry.title == "HR-konsult"
    assert HR_GROUP in entry.groups


@pytest.mark.parametrize(("username", "password"), [
    ("karin.larare", "fel-losenord"),
    ("finns.inte", "karins-losen-1"),
    ("karin.larare", ""),
    ("", "karins-losen-1"),
    ("*", "karins-losen-1"),
    ("*)(uid=*", "karins-losen-1"),
    ("karin.larare)(|(uid=*", "karins-losen-1"),
    ("st*", "stars-losen-1"),
])
def test_adapter_refuses_bad_credentials_and_filter_injection(directory, username, password):
    with pytest.raises(InvalidCredentials):
        directory.authenticate(username, password)


def test_adapter_reports_a_refused_service_account_as_unavailable(directory):
    directory.bind_password = "fel"
    with pytest.raises(DirectoryUnavailable):
        directory.authenticate("karin.larare", "karins-losen-1")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_adapter_reports_an_unreachable_directory(directory):
    directory.uri = f"ldap://127.0.0.1:{_closed_port()}"
    with pytest.raises(DirectoryUnavailable):
        directory.authenticate("karin.larare", "karins-losen-1")


def test_first_login_creates_the_user_with_directory_attributes(ldap_app):
    client = ldap_app.test_client()
    response = client.post("/login", data={"username": "karin.larare", "password": "karins-losen-1"})
    assert response.status_code == 302
    user = services.get_user("karin.larare")
    assert user.auth_source == "ldap"
    assert user.password_hash is None
    assert user.display_name == "Karin Lärare"
    assert user.department == "Utbildningsförvaltningen"
    assert user.title == "Lärare"
    assert user.roles == {"employee"}
    assert "Hej Karin!" in client.get("/").get_data(as_text=True)


def test_wrong_password_and_unknown_user_give_the_same_answer(ldap_app):
    client = ldap_app.test_client()
    wrong = client.post("/login", data={"username": "karin.larare", "password": "fel"})
    unknown = client.post("/login", data={"username": "okand", "password": "fel"})
    assert wrong.status_code == unknown.status_code == 401
    assert "Fel användarnamn eller lösenord." in unknown.get_data(as_text=True)
    assert db.session.scalar(select(func.count(User.id))) == 0


def test_filter_metacharacters_do_not_log_anyone_in(ldap_app):
    client = ldap_app.test_client()
    response = client.post("/login", data={"username": "*)(uid=*", "password": "karins-losen-1"})
    assert response.status_code == 401
    assert client.get("/").status_code == 302


def test_groups_map_to_roles(ldap_app):
    ldap_app.test_client().post("/login", data={"username": "hugo.hr", "password": "hugos-losen-1"})
    user = services.get_user("hugo.hr")
    assert user.has_role("specialist", "hr")
    assert user.has_role("editor", "hr")
    assert user.has_role("manager")
    assert not user.has_role("specialist", "it")
    assert not user.has_role("admin")
    assert {g.source for g in user.role_grants} == {"ldap"}


def test_second_login_syncs_attributes_and_groups(ldap_app, slapd):
    client = ldap_app.test_client()
    client.post("/login", data={"username": "maja.chef", "password": "majas-losen-1"})
    maja = services.get_user("maja.chef")
    services.grant_role(maja, *services.parse_role("admin"))  # granted locally, must survive syncs
    db.session.commit()
    assert maja.has_role("manager")

    dn = f"uid=maja.chef,{PEOPLE}"
    slapd.ldapmodify(f"dn: {dn}\nchangetype: modify\nreplace: title\ntitle: Verksamhetschef\n-\n"
                     f"replace: ou\nou: Socialförvaltningen\n")
    slapd.ldapmodify(f"dn: cn=lotsen-chefer,ou=groups,dc=kommun,dc=example\nchangetype: modify\n"
                     f"delete: member\nmember: {dn}\n")
    slapd.ldapmodify(f"dn: {HR_GROUP}\nchangetype: modify\nadd: member\nmember: {dn}\n")
    try:
        client.post("/logout")
        assert client.post("/login", data={"username": "maja.chef", "password": "majas-losen-1"}).status_code == 302
        db.session.expire_all()
        maja = services.get_user("maja.chef")
        assert maja.title == "Verksamhetschef"
        assert maja.department == "Socialförvaltningen"
        assert not maja.has_role("manager")
        assert maja.has_role("specialist", "hr")
        assert maja.has_role("admin")
        trail = db.session.scalars(select(AuditEntry).where(AuditEntry.object_id == str(maja.id))
                                   .order_by(AuditEntry.id)).all()
        changes = {(e.action, e.detail) for e in trail}
        assert {("revoke", "manager (ldap)"), ("grant", "specialist:hr (ldap)")} <= changes
    finally:
        slapd.ldapmodify(f"dn: {dn}\nchangetype: modify\nreplace: title\ntitle: Enhetschef\n-\n"
                         f"replace: ou\nou: Vård- och omsorgsförvaltningen\n")
        slapd.ldapmodify(f"dn: cn=lotsen-chefer,ou=groups,dc=kommun,dc=example\nchangetype: modify\n"
                         f"add: member\nmember: {dn}\n")
        slapd.ldapmodify(f"dn: {HR_GROUP}\nchangetype: modify\ndelete: member\nmember: {dn}\n")


def test_directory_down_is_said_plainly_and_local_accounts_still_work(make_app, slapd, create_user):
    config = {**ldap_config(slapd), "LOTSEN_LDAP_URI": f"ldap://127.0.0.1:{_closed_port()}"}
    app = make_app(**config)
    with app.app_context():
        services.create_local_user("nodadmin", "break-glass-123", roles=["admin"])
        db.session.commit()
    client = app.test_client()
    response = client.post("/login", data={"username": "karin.larare", "password": "karins-losen-1"})
    assert response.status_code == 503
    html = response.get_data(as_text=True)
    assert "Personalkatalogen går inte att nå just nu" in html
    assert "Fel användarnamn" not in html

    client.get("/language/en")
    response = client.post("/login", data={"username": "karin.larare", "password": "karins-losen-1"})
    assert "The staff directory cannot be reached right now" in response.get_data(as_text=True)

    assert client.post("/login", data={"username": "nodadmin", "password": "break-glass-123"}).status_code == 302


def test_directory_stopped_mid_session(ldap_app, slapd):
    client = ldap_app.test_client()
    slapd.terminate()
    slapd.wait()
    try:
        response = client.post("/login", data={"username": "karin.larare", "password": "karins-losen-1"})
        assert response.status_code == 503
    finally:
        slapd.resume()
    response = client.post("/login", data={"username": "karin.larare", "password": "karins-losen-1"})
    assert response.status_code == 302


def test_local_account_is_never_checked_against_the_directory(ldap_app, create_user):
    create_user("karin.larare", password="lokalt-losen-1")
    client = ldap_app.test_client()
    assert client.post("/login", data={"username": "karin.larare", "password": "karins-losen-1"}).status_code == 401
    assert client.post("/login", data={"username": "karin.larare", "password": "lokalt-losen-1"}).status_code == 302


def test_people_are_found_in_the_directory_as_you_type(ldap_app):
    """Registering a case for someone who never logged in: the directory is searched too, its filter escaped."""
    from app.auth.services import search_people

    directory = directories_from_config(ldap_app.config)[0]
    found = {p.username: p for p in search_people("Hansson", [directory])}
    assert found["hugo.hr"].name == "Hugo Hansson" and found["hugo.hr"].department == "Kommunledningsförvaltningen"
    assert search_people("*)(uid=*", [directory]) == []  # escaped: no injection, nothing found
    assert directory.search_people("a") == []  # too short to ask
    assert len(directory.search_people("an", limit=2)) == 2  # the size limit holds (more match)


def test_group_dns_are_compared_as_dns_not_as_strings(app):
    """Issue 16, point 8: a mapped group written with spaces after the commas or in other case (as AD shows DNs)
    is the same group; before, every member silently lost the role."""
    from app.auth.ldap import DirectoryEntry, normalize_dn

    assert normalize_dn("CN=Lotsen HR, OU=Grupper ,DC=kommun,DC=se") == "cn=lotsen hr,ou=grupper,dc=kommun,dc=se"
    assert normalize_dn("cn=Åsa\\, HR,dc=se") == normalize_dn("CN=åsa\\, hr, DC=se")
    entry = DirectoryEntry(dn="cn=asa,dc=kommun,dc=se", username="asa.oberg",
                           groups=["CN=Lotsen-HR,OU=Groups,DC=kommun,DC=se"])
    user = services.sync_directory_user(entry, {"cn=lotsen-hr, ou=groups, dc=kommun, dc=se": ["specialist:hr"]})
    assert user.has_role("specialist", "hr")
    db.session.rollback()
