"""Jobs of the background worker (``flask --app wsgi worker``), registered by the features at start-up: daily
jobs with the setting that names the hour they run (Stockholm time; the worker runs each once a day, at or after
that hour) and periodic jobs with the setting that names their interval in seconds. The worker commits what a
daily job did; a periodic job commits as it goes (a mailbox read commits each mail)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import UTCDateTime, db, utcnow


@dataclass(frozen=True)
class DailyJob:
    name: str
    run: Callable[[], str]  # does the work (flushes) and says what it did, in a line for the worker's output
    hour_setting: str


DAILY_JOBS: dict[str, DailyJob] = {}


def register_daily(name: str, run: Callable[[], str], hour_setting: str) -> None:
    DAILY_JOBS[name] = DailyJob(name, run, hour_setting)


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    run: Callable[[], str]  # does the work and says what it did ("" when nothing)
    interval_setting: str


PERIODIC_JOBS: dict[str, PeriodicJob] = {}


def register_periodic(name: str, run: Callable[[], str], interval_setting: str) -> None:
    PERIODIC_JOBS[name] = PeriodicJob(name, run, interval_setting)


class WorkerHeartbeat(db.Model):
    """When each worker (host and process) last finished a round: ``/metrics`` shows how long ago."""

    __tablename__ = "worker_heartbeat"

    id: Mapped[int] = mapped_column(primary_key=True)
    worker: Mapped[str] = mapped_column(String(120), unique=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def beat(worker: str) -> None:
    """Note that ``worker`` finished a round (flushes; the worker commits)."""
    row = db.session.scalar(select(WorkerHeartbeat).where(WorkerHeartbeat.worker == worker))
    if row is None:
        row = WorkerHeartbeat(worker=worker)
        db.session.add(row)
    row.seen_at = utcnow()
    db.session.flush()
