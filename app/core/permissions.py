"""Roles and the decorators that guard views.

Everyone who logs in is an employee; the other roles are granted, specialist and editor for a support
function. The user object only has to offer ``has_role(role, function_slug=None)``.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from functools import wraps
from typing import Any

from flask import abort
from flask_login import current_user, login_required


class Role(StrEnum):
    EMPLOYEE = "employee"
    MANAGER = "manager"
    SPECIALIST = "specialist"
    EDITOR = "editor"
    LEAD = "lead"  # a support function's lead: its reports, its people's figures
    AUDITOR = "auditor"  # data protection and archive staff: reads the audit log
    ADMIN = "admin"

    @property
    def needs_function(self) -> bool:
        return self in (Role.SPECIALIST, Role.EDITOR, Role.LEAD)


def role_required(*roles: Role) -> Callable:
    """Allow the view to users holding any of ``roles``; others get 403, anonymous users the log-in."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not any(current_user.has_role(role) for role in roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator
