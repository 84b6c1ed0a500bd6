"""Flask extensions, created unbound and bound to the app in ``create_app``."""

import math
import re

from flask import current_app
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
migrate = Migrate(render_as_batch=True, compare_type=True)
limiter = Limiter(key_func=get_remote_address)


def process_share(limit: str) -> str:
    """``limit`` ("5 per minute;20 per hour") for one of ``LOTSEN_RATELIMIT_PROCESSES`` processes that each count
    on their own (``memory://`` counters under several gunicorn workers): every amount divided among them,
    rounded up, so that together they let through about the limit and never a multiple of it."""
    processes = current_app.config.get("LOTSEN_RATELIMIT_PROCESSES", 1)
    if processes <= 1:
        return limit
    return re.sub(r"(^|[;,|])(\s*)(\d+)",
                  lambda m: f"{m.group(1)}{m.group(2)}{math.ceil(int(m.group(3)) / processes)}", limit)
