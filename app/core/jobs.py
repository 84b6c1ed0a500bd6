"""Daily jobs of the background worker (``flask --app wsgi worker``): a feature registers its job at start-up
with the setting that names the hour it runs (Stockholm time); the worker runs each once a day, at or after that
hour, and commits what it did."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class DailyJob:
    name: str
    run: Callable[[], str]  # does the work (flushes) and says what it did, in a line for the worker's output
    hour_setting: str


DAILY_JOBS: dict[str, DailyJob] = {}


def register_daily(name: str, run: Callable[[], str], hour_setting: str) -> None:
    DAILY_JOBS[name] = DailyJob(name, run, hour_setting)
