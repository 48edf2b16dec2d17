"""Stations and rooms: import from CSV, create, list, look up; the rooms an event may take."""

import logging
import re
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import exc, select
from sqlalchemy.orm import selectinload

from neighbors.areas.models import Community, Street
from neighbors.core import audit
from neighbors.core.db import transaction
from neighbors.core.errors import Conflict, Invalid, NotFound
from neighbors.core.permissions import Role, managed_community_ids, require_role
from neighbors.core.tabular import ImportFailed, read_table
from neighbors.extensions import db
from neighbors.stations.models import Room, Station

logger = logging.getLogger(__name__)

COLUMNS = (
    "station_code",
    "station_name",
    "address",
    "opening_hours",
    "communities",
    "room_name",
    "room_capacity",
)
LIMITS = {"station_code": 32, "station_name": 100, "address": 200, "opening_hours": 200}
ROOM_NAME_LENGTH = 100
MAX_ROOM_CAPACITY = 100_000
# The exclusion constraint that keeps two events out of one room at once (PostgreSQL).
ROOM_CLASH = "ex_events_room_time"
_SEPARATORS = re.compile(r"[\s;,、；，]+")


@dataclass
class ImportReport:
    """What an import changed: {"stations": {"created": 1, ...}, "rooms": {...}}."""

    counts: dict = field(
        default_factory=lambda: {
            kind: {"created": 0, "updated": 0, "unchanged": 0} for kind in ("stations", "rooms")
        }
    )

    @property
    def changed(self):
        return any(c["created"] or c["updated"] for c in self.counts.values())


def split_codes(text):
    """Community codes as written in one cell: separated by spaces, commas or semicolons."""
    return [code for code in _SEPARATORS.split(text or "") if code]


def import_stations(path, actor=None, progress=None):
    """Create and update stations and their rooms from a CSV (or XLSX) file, one line per room
    (a station without rooms: one line with the room columns empty). All or nothing; the same
    file twice changes nothing. A station serves the communities its lines name; rooms are
    never removed, and a room's capacity is never lowered below an event that takes it.

    Raises ImportFailed with line-numbered errors (nothing written), NotAllowed for non-admins
    when an actor is given (the command line runs with actor=None as the operator).
    """
    if actor is not None:
        require_role(actor, Role.ADMIN)
    rows, errors = read_table(path, COLUMNS, required=("station_code", "station_name"))
    known = set(db.session.scalars(select(Community.code)))
    wanted, more_errors = _collect(rows, known)
    errors += more_errors
    if errors:
        raise ImportFailed(errors)
    report = ImportReport()
    with transaction():
        existing = {
            s.code: s
            for s in db.session.scalars(
                select(Station).options(
                    selectinload(Station.communities), selectinload(Station.rooms)
                )
            )
        }
        communities = {c.code: c for c in db.session.scalars(select(Community))}
        for code, spec in wanted.items():
            station = existing.get(code)
            details = (spec["name"], spec["address"], spec["opening_hours"])
            served = sorted(spec["communities"])
            if station is None:
                station = Station(
                    code=code, name=details[0], address=details[1], opening_hours=details[2]
                )
                station.communities = [communities[c] for c in served]
                db.session.add(station)
                report.counts["stations"]["created"] += 1
            elif (station.name, station.address, station.opening_hours) != details or sorted(
                c.code for c in station.communities
            ) != served:
                station.name, station.address, station.opening_hours = details
                station.communities = [communities[c] for c in served]
                report.counts["stations"]["updated"] += 1
            else:
                report.counts["stations"]["unchanged"] += 1
            rooms = {room.name: room for room in station.rooms}
            for name, (capacity, line) in spec["rooms"].items():
                room = rooms.get(name)
                if room is None:
                    station.rooms.append(Room(name=name, capacity=capacity))
                    report.counts["rooms"]["created"] += 1
                elif room.capacity != capacity:
                    largest = _largest_event(room.id)
                    if largest and largest > capacity:
                        message = _(
                            "room %(room)s has an event for %(n)s people; its capacity cannot "
                            "be lower",
                            room=name,
                            n=largest,
                        )
                        errors.append((line, message))
                        continue
                    room.capacity = capacity
                    report.counts["rooms"]["updated"] += 1
                else:
                    report.counts["rooms"]["unchanged"] += 1
            if progress:
                progress(code)
        if errors:
            raise ImportFailed(errors)
        db.session.flush()
        audit.record(actor, "stations.import", **report.counts)
    logger.info("stations imported: %s", report.counts)
    return report


def _largest_event(room_id):
    """The most places any event that is not cancelled takes in this room (None if none)."""
    # Read through the events table without importing events (it stands above stations).
    events = db.metadata.tables["events"]
    return db.session.scalar(
        select(db.func.max(events.c.capacity)).where(
            events.c.room_id == room_id, events.c.status != "cancelled"
        )
    )


def _collect(rows, known):
    """Each station once, as {code: {name, address, opening_hours, communities, rooms, line}},
    and the errors found."""
    wanted, errors = {}, []
    for line, row in rows:
        too_long = [column for column, limit in LIMITS.items() if len(row[column]) > limit]
        if too_long:
            message = _(
                "%(column)s is longer than %(length)s characters",
                column=too_long[0],
                length=LIMITS[too_long[0]],
            )
            errors.append((line, message))
            continue
        codes = split_codes(row["communities"])
        unknown = [code for code in codes if code not in known]
        if unknown:
            errors.append((line, _("unknown community codes: %(codes)s", codes=", ".join(unknown))))
            continue
        code = row["station_code"]
        details = (row["station_name"], row["address"], row["opening_hours"])
        spec = wanted.get(code)
        if spec is None:
            spec = wanted[code] = {
                "name": details[0],
                "address": details[1],
                "opening_hours": details[2],
                "communities": set(),
                "rooms": {},
                "line": line,
            }
        elif (spec["name"], spec["address"], spec["opening_hours"]) != details:
            message = _(
                "station_code %(code)s has another name, address or opening hours on line "
                "%(first)s",
                code=code,
                first=spec["line"],
            )
            errors.append((line, message))
            continue
        spec["communities"].update(codes)
        room, capacity = row["room_name"], row["room_capacity"]
        if not room and not capacity:
            continue
        problem = _room_problem(room, capacity)
        if problem:
            errors.append((line, problem))
        elif room in spec["rooms"]:
            message = _(
                "room %(room)s of station %(code)s is already on line %(first)s",
                room=room,
                code=code,
                first=spec["rooms"][room][1],
            )
            errors.append((line, message))
        else:
            spec["rooms"][room] = (int(capacity), line)
    for code, spec in wanted.items():
        if not spec["communities"]:
            errors.append((spec["line"], _("station %(code)s serves no community", code=code)))
    return wanted, errors


def _room_problem(name, capacity):
    """What is wrong with a room's name and capacity as written, or None."""
    if not name or len(name) > ROOM_NAME_LENGTH or any(ch < " " for ch in name):
        return _("room_name must be 1 to %(n)s characters on one line", n=ROOM_NAME_LENGTH)
    text = str(capacity).strip()
    if not text.isdigit() or not 1 <= int(text) <= MAX_ROOM_CAPACITY:
        return _("room_capacity must be a whole number from 1 to %(n)s", n=MAX_ROOM_CAPACITY)
    return None


def create_station(actor, *, code, name, address="", opening_hours="", communities, rooms=()):
    """Create a station serving these communities (codes), with rooms ({"name", "capacity"}).

    Admins, and staff who manage every community it serves, may. Raises NotAllowed, NotFound
    (a community unknown or out of the actor's scope), Invalid, Conflict (station_exists).
    """
    require_role(actor, Role.STAFF)
    values = {
        "station_code": (code or "").strip(),
        "station_name": (name or "").strip(),
        "address": (address or "").strip(),
        "opening_hours": (opening_hours or "").strip(),
    }
    problems = {}
    for column, limit in LIMITS.items():
        value = values[column]
        if (column in ("station_code", "station_name") and not value) or len(value) > limit:
            problems[column.removeprefix("station_")] = _("Enter 1 to %(n)s characters.", n=limit)
        elif any(ch < " " for ch in value):
            problems[column.removeprefix("station_")] = _("Enter one line.")
    codes = [str(c).strip() for c in communities or () if str(c).strip()]
    if not codes:
        problems["communities"] = _("Name at least one community it serves.")
    wanted_rooms = {}
    for room in rooms or ():
        room_name = str(room.get("name") or "").strip() if isinstance(room, dict) else ""
        capacity = room.get("capacity") if isinstance(room, dict) else None
        if isinstance(capacity, bool) or not isinstance(capacity, int):
            capacity = "x"
        problem = _room_problem(room_name, capacity)
        if problem or room_name in wanted_rooms:
            problems["rooms"] = problem or _("Two rooms are named %(name)s.", name=room_name)
            break
        wanted_rooms[room_name] = capacity
    if problems:
        raise Invalid.from_fields(problems)
    with transaction():
        found = db.session.scalars(select(Community).where(Community.code.in_(codes))).all()
        scope = managed_community_ids(actor)
        missing = set(codes) - {c.code for c in found}
        if missing or (scope is not None and any(c.id not in scope for c in found)):
            raise NotFound(
                _(
                    "No community you manage has the code %(code)s.",
                    code=sorted(missing or codes)[0],
                )
            )
        if db.session.scalar(select(Station.id).where(Station.code == values["station_code"])):
            raise Conflict(
                _("A station with this code exists."),
                code="station_exists",
                fields={"code": _("This code is taken.")},
            )
        station = Station(
            code=values["station_code"],
            name=values["station_name"],
            address=values["address"],
            opening_hours=values["opening_hours"],
            communities=sorted(found, key=lambda c: c.code),
            rooms=[Room(name=n, capacity=c) for n, c in sorted(wanted_rooms.items())],
        )
        db.session.add(station)
        db.session.flush()
        audit.record(actor, "station.create", station, code=station.code, rooms=len(wanted_rooms))
    return station


def _loaded():
    return select(Station).options(selectinload(Station.communities), selectinload(Station.rooms))


def list_stations(community_code=None, street_code=None):
    """Stations (with their communities and rooms) in code order: those serving one community,
    or any community of one street, when its code is given. Raises NotFound for an unknown
    community."""
    query = _loaded().order_by(Station.code)
    if community_code:
        community_id = db.session.scalar(
            select(Community.id).where(Community.code == community_code)
        )
        if community_id is None:
            raise NotFound(_("No community has the code %(code)s.", code=community_code))
        query = query.where(Station.communities.any(Community.id == community_id))
    elif street_code:
        query = query.where(
            Station.communities.any(Community.street.has(Street.code == street_code))
        )
    return db.session.scalars(query).all()


def get_station(code):
    """One station with its communities and rooms. Raises NotFound."""
    station = db.session.scalar(_loaded().where(Station.code == code))
    if station is None:
        raise NotFound(_("No station has the code %(code)s.", code=code))
    return station


def room_for_event(room_id, community_id):
    """The room an event of this community may take. Raises Invalid (unknown room, or at a
    station that does not serve the community)."""
    room = (
        db.session.scalar(
            select(Room)
            .options(selectinload(Room.station).selectinload(Station.communities))
            .where(Room.id == room_id)
        )
        if isinstance(room_id, int) and not isinstance(room_id, bool)
        else None
    )
    if room is None:
        raise Invalid.from_fields({"room": _("No such room.")}, code="unknown_room")
    if community_id not in {c.id for c in room.station.communities}:
        message = _("This room's station does not serve the event's community.")
        raise Invalid.from_fields({"room": message}, code="room_not_serving")
    return room


def room_choices(community_ids=None):
    """Rooms for a select box, grouped by station: {"Station name": [(id, label), ...]}; only at
    stations serving one of these communities when given."""
    query = (
        select(Station.name, Room.id, Room.name, Room.capacity)
        .join(Room.station)
        .order_by(Station.code, Room.name)
    )
    if community_ids is not None:
        served = db.metadata.tables["station_communities"]
        query = query.where(
            Station.id.in_(
                select(served.c.station_id).where(served.c.community_id.in_(community_ids))
            )
        )
    choices = {}
    for station_name, room_id, room_name, capacity in db.session.execute(query):
        label = _("%(room)s (%(n)s places)", room=room_name, n=capacity)
        choices.setdefault(station_name, []).append((room_id, label))
    return choices


def is_room_clash(error):
    """Whether a database error is the exclusion constraint refusing two events in one room."""
    return isinstance(error, exc.IntegrityError) and ROOM_CLASH in str(error.orig)
