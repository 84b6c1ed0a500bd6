from flask import render_template
from flask_login import current_user, login_required

from app.auth.services import list_functions
from app.core.permissions import Role
from app.selfservice import bp


@bp.get("/")
@login_required
def index():
    return render_template(
        "selfservice/index.html",
        functions=[f for f in list_functions() if not f.is_first_line],
        specialist_functions=current_user.functions_for(Role.SPECIALIST),
        editor_functions=current_user.functions_for(Role.EDITOR),
    )
