"""A real throwaway OpenLDAP server (slapd, through python-ldap's slapdtest) with people and groups."""

from __future__ import annotations

import shutil
import tempfile

import pytest
from slapdtest import SlapdObject

from app.auth.ldap import BIND_PACE
from tests.conftest import skip_unless_available

SUFFIX = "dc=kommun,dc=example"
PEOPLE = f"ou=people,{SUFFIX}"
GROUPS = f"ou=groups,{SUFFIX}"
SERVICE_DN = f"uid=lotsen-svc,ou=system,{SUFFIX}"
SERVICE_PASSWORD = "tjanstekonto-123"
HR_GROUP = f"cn=lotsen-hr,{GROUPS}"
MANAGER_GROUP = f"cn=lotsen-chefer,{GROUPS}"
ADMIN_GROUP = f"cn=lotsen-admin,{GROUPS}"


def person(uid: str, name: str, department: str, title: str, password: str) -> str:
    given, _, family = name.partition(" ")
    return f"""dn: uid={uid},{PEOPLE}
objectClass: inetOrgPerson
uid: {uid}
cn: {name}
givenName: {given}
sn: {family}
displayName: {name}
mail: {uid}@kommun.example
ou: {department}
title: {title}
userPassword: {password}
"""


def group(dn: str, *members: str) -> str:
    cn = dn.split(",")[0].split("=")[1]
    lines = [f"dn: {dn}", "objectClass: groupOfNames", f"cn: {cn}"]
    lines += [f"member: uid={m},{PEOPLE}" for m in members]
    return "\n".join(lines) + "\n"


DIRECTORY_LDIF = "\n".join([
    f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: kommun\no: Exempelkommun\n",
    f"dn: {PEOPLE}\nobjectClass: organizationalUnit\nou: people\n",
    f"dn: {GROUPS}\nobjectClass: organizationalUnit\nou: groups\n",
    f"dn: ou=system,{SUFFIX}\nobjectClass: organizationalUnit\nou: system\n",
    f"dn: {SERVICE_DN}\nobjectClass: account\nobjectClass: simpleSecurityObject\nuid: lotsen-svc\n"
    f"userPassword: {SERVICE_PASSWORD}\n",
    person("karin.larare", "Karin Lärare", "Utbildningsförvaltningen", "Lärare", "karins-losen-1"),
    person("hugo.hr", "Hugo Hansson", "Kommunledningsförvaltningen", "HR-konsult", "hugos-losen-1"),
    person("maja.chef", "Maja Chef", "Vård- och omsorgsförvaltningen", "Enhetschef", "majas-losen-1"),
    person("star", "Stjärn Användare", "Tekniska förvaltningen", "Tekniker", "stars-losen-1"),
    group(HR_GROUP, "hugo.hr"),
    group(MANAGER_GROUP, "maja.chef", "hugo.hr"),
    group(ADMIN_GROUP, "nobody"),
])


class LotsenSlapd(SlapdObject):
    suffix = SUFFIX
    openldap_schema_files = ("core.ldif", "cosine.ldif", "inetorgperson.ldif")
    slapd_loglevel = "none"
    # the LDAPI socket path must stay short (about 108 characters)
    TMPDIR = tempfile.mkdtemp(prefix="lotsen-ldap-", dir="/tmp")


@pytest.fixture(autouse=True)
def _fresh_bind_pace():
    """Each test starts with no recent wrong passwords (the pace between attempts is per process)."""
    BIND_PACE.forget()
    yield
    BIND_PACE.forget()


@pytest.fixture(scope="session")
def slapd():
    """A running slapd with the directory above; stopped and removed at the end of the session."""
    server = LotsenSlapd()
    server.start()
    try:
        server.ldapadd(DIRECTORY_LDIF)
        yield server
    finally:
        server.stop()
        shutil.rmtree(LotsenSlapd.TMPDIR, ignore_errors=True)


def ldap_config(server) -> dict:
    return {
        "LOTSEN_LDAP_URI": server.ldap_uri,
        "LOTSEN_LDAP_BIND_DN": SERVICE_DN,
        "LOTSEN_LDAP_BIND_PASSWORD": SERVICE_PASSWORD,
        "LOTSEN_LDAP_USER_BASE_DN": PEOPLE,
        "LOTSEN_LDAP_GROUP_BASE_DN": GROUPS,
        "LOTSEN_LDAP_GROUP_ROLES": {
            HR_GROUP.lower(): ["specialist:hr", "editor:hr"],
            MANAGER_GROUP.lower(): ["manager"],
        },
        "LOTSEN_LDAP_TIMEOUT": 2.0,
    }


@pytest.fixture
def ldap_app(make_app, slapd):
    """An app that logs in against the throwaway directory, with an app context pushed."""
    application = make_app(**ldap_config(slapd))
    with make_app(**ldap_config(slapd)).app_context():  # a twin, so requests get contexts of their own
        yield application


@pytest.fixture(scope="session")
def samba_dc():
    """A running Samba AD domain controller (tests/auth/samba_ad.py), provisioned once per test session. Where
    one cannot run, the tests that need it are skipped, except in CI (``CI`` set), where that is a failure."""
    from tests.auth.samba_ad import SambaDC, reap_stale_dcs, unavailable_reason

    reap_stale_dcs()
    skip_unless_available(unavailable_reason(), "the Samba AD tests")
    server = SambaDC()
    try:
        server.start()
        yield server
    finally:
        server.stop()


def ad_config(dc, **changes) -> dict:
    """Settings for the Samba DC as README's "Active Directory" section gives them."""
    from tests.auth import samba_ad

    return {
        "LOTSEN_LDAP_URI": "ldaps://127.0.0.1",
        "LOTSEN_LDAP_CA_FILE": dc.ca_file,
        "LOTSEN_LDAP_BIND_DN": samba_ad.SERVICE_DN,
        "LOTSEN_LDAP_BIND_PASSWORD": samba_ad.SERVICE_PASSWORD,
        "LOTSEN_LDAP_TYPE": "ad",  # the user filter and nested groups under the domain's root by default
        "LOTSEN_LDAP_USER_BASE_DN": samba_ad.ROOT,
        "LOTSEN_LDAP_GROUP_ROLES": {
            samba_ad.HR_GROUP: ["specialist:hr", "editor:hr"],
            samba_ad.MANAGER_GROUP.replace(",OU=", ", OU="): ["manager"],
        },
        "LOTSEN_LDAP_ATTR_DEPARTMENT": "department",
        "LOTSEN_LDAP_NAME": "kommun",
        "LOTSEN_LDAP_DOMAINS": ["kommun", "kommun.test", "kommun.se"],
        "LOTSEN_LDAP_TIMEOUT": 5.0,
        **changes,
    }
