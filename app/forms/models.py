"""Submitted forms (orders), their history and their approved documents."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import User
from app.core.crypto import EncryptedJSON, KeyedHash
from app.core.db import UTCDateTime, db, utcnow

SUBMISSION_STATUSES = ("draft", "submitted", "returned", "approved")


class FormSubmission(db.Model):
    __tablename__ = "form_submission"
    __table_args__ = (UniqueConstraint("owner_id", "submit_token"),)  # one order per sent form

    id: Mapped[int] = mapped_column(primary_key=True)
    form_slug: Mapped[str] = mapped_column(String(60), index=True)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    data: Mapped[dict] = mapped_column(EncryptedJSON, default=dict)  # the personnummer encrypted at rest
    title: Mapped[str] = mapped_column(String(200), default="")  # for lists; personnummer masked
    owner_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id", ondelete="SET NULL"))
    submit_token: Mapped[str | None] = mapped_column(String(64))  # the one-time token of the form that made it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    # the normal identity number of a sent order, to find the person's earlier employments (conversion rules);
    # stored as its keyed hash: compared with ``==``, never shown
    person_number: Mapped[str | None] = mapped_column(KeyedHash, index=True)
    # the robots' work queue (approved end-of-employment orders): None, pending, claimed, done or failed
    robot_state: Mapped[str | None] = mapped_column(String(20), index=True)
    robot_claim: Mapped[str | None] = mapped_column(String(64))  # the current claim's id
    robot_claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    robot_claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    robot_note: Mapped[str] = mapped_column(Text, default="")
    robot_attempts: Mapped[int] = mapped_column(default=0)
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # culled by a retention rule

    owner: Mapped[User] = relationship(foreign_keys=[owner_id], lazy="joined")
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])
    history: Mapped[list[FormHistory]] = relationship(
        back_populates="submission", cascade="all, delete-orphan", order_by="FormHistory.id")
    documents: Mapped[list[FormDocument]] = relationship(
        back_populates="submission", cascade="all, delete-orphan", order_by="FormDocument.version")
    follow_ups: Mapped[list[FormFollowUp]] = relationship(
        back_populates="submission", cascade="all, delete-orphan", order_by="FormFollowUp.id")


class FormHistory(db.Model):
    """What happened to an order: saved, submitted, returned with a comment, resubmitted, approved."""

    __tablename__ = "form_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("form_submission.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(20))
    comment: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict | None] = mapped_column(EncryptedJSON)  # the order as sent, on "submitted" and "resubmitted"
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    submission: Mapped[FormSubmission] = relationship(back_populates="history")
    user: Mapped[User | None] = relationship(lazy="joined")


class FormDocument(db.Model):
    """An approved document: stored once and never changed; a corrected order gets a new version."""

    __tablename__ = "form_document"
    __table_args__ = (UniqueConstraint("submission_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("form_submission.id", ondelete="CASCADE"))
    version: Mapped[int]
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    submission: Mapped[FormSubmission] = relationship(back_populates="documents")


class FormFollowUp(db.Model):
    """A case an approved order opened for another function (an ending employment: the account, the keys, the
    final pay)."""

    __tablename__ = "form_follow_up"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("form_submission.id", ondelete="CASCADE"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id", ondelete="SET NULL"))
    task: Mapped[str] = mapped_column(String(40))

    submission: Mapped[FormSubmission] = relationship(back_populates="follow_ups")
