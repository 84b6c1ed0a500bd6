import re

import pytest

from app.auth import services
from app.auth.models import RoleGrant
from app.core.db import db
from app.core.permissions import Role


def test_everyone_is_an_employee(create_user):
    user = create_user("karin")
    assert user.roles == {Role.EMPLOYEE}
    assert user.has_role("employee")
    assert not user.has_role("manager")


def test_one_user_can_hold_several_roles(create_user):
    user = create_user("multi", roles=["manager", "specialist:hr", "specialist:payroll", "editor:it", "lead:it",
                                       "admin", "auditor"])
    assert user.roles == set(Role)
    assert [f.slug for f in user.functions_for("specialist")] == ["hr", "payroll"]
    assert user.has_role("editor", "it")
    assert not user.has_role("editor", "hr")


@pytest.mark.parametrize(("spec", "message"), [
    ("boss", "unknown role"),
    ("specialist", "needs a support function"),
    ("manager:hr", "does not take a support function"),
])
def test_parse_role_rejects_bad_specs(spec, message):
    with pytest.raises(ValueError, match=message):
        services.parse_role(spec)


def test_unknown_function_is_refused(create_user):
    user = create_user("karin")
    with pytest.raises(ValueError, match="unknown support function 'legal'"):
        services.grant_role(user, Role.SPECIALIST, "legal")


def test_grant_is_idempotent(create_user):
    user = create_user("karin")
    services.grant_role(user, Role.SPECIALIST, "it")
    services.grant_role(user, Role.SPECIALIST, "it")
    db.session.commit()
    assert db.session.query(RoleGrant).filter_by(user_id=user.id).count() == 1


def test_revoke_removes_only_local_grants(create_user):
    user = create_user("karin", roles=["manager"])
    services.grant_role(user, Role.MANAGER, source="ldap")
    services.revoke_role(user, Role.MANAGER)
    assert [g.source for g in user.role_grants] == ["ldap"]
    assert user.has_role("manager")


def test_support_functions_are_seeded_by_the_migration(app):
    functions = services.list_functions()
    assert [(f.slug, f.name_sv, f.name_en, f.is_confidential, f.is_first_line, f.sort_order)
            for f in functions] == list(services.DEFAULT_FUNCTIONS)
    assert services.ensure_support_functions() == functions


# Pages and who may open them: (method, path) x role -> expected status.
ROLE_USERS = {
    "anonymous": None,
    "employee": [],
    "manager": ["manager"],
    "specialist": ["specialist:it"],
    "editor": ["editor:hr"],
    "admin": ["admin"],
}
PAGE_ACCESS = [
    ("/", {"anonymous": 302, "employee": 200, "manager": 200, "specialist": 200, "editor": 200, "admin": 200}),
    ("/admin/users", {"anonymous": 302, "employee": 403, "manager": 403, "specialist": 403, "editor": 403,
                      "admin": 200}),
    ("/admin/users/{own_id}", {"anonymous": 302, "employee": 403, "manager": 403, "specialist": 403,
                               "editor": 403, "admin": 200}),
    ("/login", {"anonymous": 200, "employee": 302, "manager": 302, "specialist": 302, "editor": 302,
                "admin": 302}),
]


@pytest.mark.parametrize("role", list(ROLE_USERS))
@pytest.mark.parametrize(("path", "expected"), PAGE_ACCESS)
def test_access_matrix(client, create_user, auth, role, path, expected):
    own_id = 0
    if ROLE_USERS[role] is not None:
        own_id = create_user(f"user-{role}", roles=ROLE_USERS[role]).id
        assert auth.login(f"user-{role}").status_code == 302
    response = client.get(path.format(own_id=own_id or 1))
    assert response.status_code == expected[role]
    if response.status_code == 302 and role == "anonymous":
        assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize(("username", "roles", "visible", "hidden"), [
    ("erik.anstalld", [], ["Vad behöver du hjälp med?"], ["För chefer", "Administration", "Dina supportfunktioner"]),
    ("anna.chef", ["manager"], ["För chefer"], ["Administration"]),
    ("hanna.hr", ["specialist:hr"], ["Dina supportfunktioner", "<li>HR</li>"], ["För chefer"]),
    ("rita.redaktor", ["editor:payroll"], ["Artiklar du redigerar", "<li>Lön</li>"], ["Administration"]),
    ("admin", ["admin"], ["Administration", "Hantera användare och roller"], ["För chefer"]),
])
def test_start_page_fits_the_role(client, create_user, auth, username, roles, visible, hidden):
    create_user(username, roles=roles)
    auth.login(username)
    html = client.get("/").get_data(as_text=True)
    for text in visible:
        assert text in html
    for text in hidden:
        assert text not in html


def test_admin_edits_roles_and_directory_roles_stay(client, create_user, auth):
    admin = create_user("chefadmin", roles=["admin"])
    target = create_user("karin", roles=["manager"])
    services.grant_role(target, Role.SPECIALIST, "hr", source="ldap")
    db.session.commit()
    auth.login("chefadmin")

    page = client.get(f"/admin/users/{target.id}").get_data(as_text=True)
    assert "Roller från katalogen" in page
    assert re.search(r'<input checked[^>]*value="manager"', page)

    response = client.post(f"/admin/users/{target.id}", data={
        "display_name": "Karin K", "email": "karin@kommun.example", "is_active": "y",
        "roles": ["specialist:it", "editor:it"],
    })
    assert response.status_code == 302
    db.session.expire_all()
    assert {(g.label, g.source) for g in target.role_grants} == {
        ("specialist:it", "local"), ("editor:it", "local"), ("specialist:hr", "ldap")}
    assert target.display_name == "Karin K"
    assert admin.has_role("admin")


def test_admin_form_keeps_values_on_error(client, create_user, auth):
    create_user("chefadmin", roles=["admin"])
    target = create_user("karin")
    auth.login("chefadmin")
    response = client.post(f"/admin/users/{target.id}", data={
        "display_name": "Nytt Namn", "email": "inte-en-adress", "is_active": "y", "roles": ["manager"],
    })
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Fyll i en giltig e-postadress" in html
    assert 'value="Nytt Namn"' in html
    db.session.expire_all()
    assert target.display_name == "Karin"


def test_admin_cannot_remove_own_admin_role(client, create_user, auth):
    admin = create_user("chefadmin", roles=["admin"])
    auth.login("chefadmin")
    response = client.post(f"/admin/users/{admin.id}", data={"is_active": "y", "roles": ["manager"]})
    assert "Du kan inte ta bort din egen administratörsroll" in response.get_data(as_text=True)
    db.session.expire_all()
    assert admin.has_role("admin")


def test_deactivated_user_is_logged_out(client, create_user, auth):
    user = create_user("karin")
    auth.login("karin")
    assert client.get("/").status_code == 200
    user.is_active = False
    db.session.commit()
    assert client.get("/").status_code == 302
