"""Stations, the communities each serves, and their rooms.

An event may take a room (events.room_id). Two events never hold one room at overlapping times:
on PostgreSQL an exclusion constraint on the events table (ex_events_room_time, made by the
migration with btree_gist) refuses it, on SQLite the check runs inside the IMMEDIATE write
transaction (events.lifecycle)."""

from sqlalchemy import CheckConstraint, Column, ForeignKey, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from neighbors.areas.models import Community
from neighbors.core.db import UTCDateTime, utcnow
from neighbors.extensions import db

station_communities = Table(
    "station_communities",
    db.metadata,
    Column("station_id", ForeignKey("stations.id", ondelete="CASCADE"), primary_key=True),
    Column("community_id", ForeignKey("communities.id"), primary_key=True, index=True),
)


class Station(db.Model):
    __tablename__ = "stations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(200), default="")
    opening_hours: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)

    communities: Mapped[list[Community]] = relationship(
        secondary=station_communities, order_by=Community.code
    )
    rooms: Mapped[list["Room"]] = relationship(back_populates="station", order_by="Room.name")


class Room(db.Model):
    __tablename__ = "rooms"
    __table_args__ = (
        UniqueConstraint("station_id", "name"),
        CheckConstraint("capacity >= 1", name="capacity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    capacity: Mapped[int]

    station: Mapped[Station] = relationship(back_populates="rooms")
