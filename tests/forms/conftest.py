"""The people of the forms tests: two managers, an employee, HR, payroll and IT."""

import pytest


@pytest.fixture
def people(create_user):
    """Users by name, with their roles."""
    return {name: create_user(name, roles=roles, display_name=display, email=f"{name}@kommun.example")
            for name, roles, display in [
                ("anna", ["manager"], "Anna Chef"), ("bo", ["manager"], "Bo Chef"), ("erik", [], "Erik Anställd"),
                ("hanna", ["specialist:hr"], "Hanna HR"), ("lars", ["specialist:payroll"], "Lars Lön"),
                ("ivar", ["specialist:it"], "Ivar IT")]}
