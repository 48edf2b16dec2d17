"""The features stand in layers, each importing only those below it, so that calls go one way:
core < areas < stations < accounts < events < hours < attendance, party, organisations and
mutual_aid < api and jobs.

Stations (and their rooms) sit below events: an event takes a room, and the events lifecycle
asks stations for it; a station's week of events is read and shown by events.

Attendance joins events (who signed up, who came) and hours (what they served): it reads the
sign-ups and hands hours plain values (person, minutes, the event's facts) through
hours.record_service, so it imports both and neither imports it. Events imports neither; hours
reads no table of events. Mutual aid's points follow confirmed service by reading the
records; hours never calls it."""

import ast
from pathlib import Path

import neighbors

PACKAGE = Path(neighbors.__file__).resolve().parent
LAYERS = (
    "core",
    "areas",
    "stations",
    "accounts",
    "events",
    "hours",
    ("attendance", "party", "organisations", "mutual_aid"),
    ("api", "jobs"),
)
RANK = {
    name: rank
    for rank, names in enumerate(LAYERS)
    for name in (names if isinstance(names, tuple) else (names,))
}


def feature(module):
    """neighbors.events.services -> events; None outside the layered features."""
    parts = module.split(".")
    if len(parts) < 2 or parts[0] != "neighbors":
        return None
    return parts[1] if parts[1] in RANK else None


def imports(path):
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        name = ".".join(("neighbors", *path.relative_to(PACKAGE).with_suffix("").parts))
        yield name, path


def upward_imports():
    found = []
    for name, path in modules():
        own = feature(name)
        if own is None:
            continue
        for imported in imports(path):
            other = feature(imported)
            if other is not None and RANK[other] > RANK[own]:
                found.append(f"{name} imports {imported} ({own} < {other})")
    return sorted(set(found))


def test_no_feature_imports_one_above_it():
    assert upward_imports() == []


def test_hours_reads_no_table_of_events():
    """Hours takes plain values from attendance; only the event's enums may be shared."""
    tables = {"Event", "Signup", "Series", "Reminder", "CalendarFeed"}
    found = []
    for name, path in modules():
        if feature(name) != "hours" or name.endswith(".models"):
            continue  # the models' foreign key to events is the schema, not a read
        for imported in imports(path):
            if imported.startswith("neighbors.events.models.") and (
                imported.rsplit(".", 1)[1] in tables
            ):
                found.append(f"{name} imports {imported}")
    assert found == []


def test_the_check_sees_an_upward_import(tmp_path):
    """The check itself works: events importing hours or attendance would be caught."""
    source = tmp_path / "module.py"
    source.write_text(
        "from neighbors.attendance import services\nimport neighbors.hours.services\n"
    )
    seen = {feature(name) for name in imports(source)}
    assert seen == {"attendance", "hours"}
    assert all(RANK[other] > RANK["events"] for other in seen)
