"""A row per job and scheduled time: claimed before the job runs, so each tick runs once."""

from sqlalchemy import JSON, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from neighbors.core.db import UTCDateTime
from neighbors.extensions import db


class JobRun(db.Model):
    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("job", "scheduled_for"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(60))
    scheduled_for: Mapped[object] = mapped_column(UTCDateTime)
    started_at: Mapped[object] = mapped_column(UTCDateTime, index=True)
    finished_at: Mapped[object | None] = mapped_column(UTCDateTime)
    # host:pid of the scheduler process that ran it.
    worker: Mapped[str] = mapped_column(String(120))
    ok: Mapped[bool | None]
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
