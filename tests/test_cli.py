"""The command line: user create and import, areas and stations import, the demo city."""

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from neighbors import demo
from neighbors.accounts import services as accounts
from neighbors.accounts.models import User
from neighbors.extensions import db
from neighbors.party.models import ReportStatus
from tests.factories import COMMUNITY, DEMO_AREAS, DEMO_STATIONS, PASSWORD
from tests.servers import ROOT


@pytest.fixture(autouse=True)
def english_terminal(monkeypatch):
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)


def run(app, *args):
    return app.test_cli_runner().invoke(args=["neighbors", *args], catch_exceptions=False)


def count_users(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


def test_areas_import_reports_changes_then_nothing(app, db):
    first = run(app, "areas", "import", DEMO_AREAS)
    assert first.exit_code == 0, first.output
    assert "14 created" in first.output and "Changes saved." in first.output
    second = run(app, "areas", "import", DEMO_AREAS)
    assert "0 created, 0 renamed, 28 unchanged" in second.output
    assert "Nothing changed." in second.output


def test_areas_import_errors_exit_non_zero_with_lines(app, db, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        "district_code,district_name,street_code,street_name,community_code,"
        "community_name,grid_code,grid_name\nd1,,s1,街道,c1,社区,,\n",
        encoding="utf-8",
    )
    result = run(app, "areas", "import", str(path))
    assert result.exit_code == 1
    assert "line 2" in result.output and "nothing was imported" in result.output


def test_stations_import_reports_changes_then_nothing(app, areas_loaded):
    first = run(app, "stations", "import", DEMO_STATIONS)
    assert first.exit_code == 0, first.output
    assert "stations: 2 created" in first.output and "rooms: 5 created" in first.output
    assert "Changes saved." in first.output
    second = run(app, "stations", "import", DEMO_STATIONS)
    assert "rooms: 0 created, 0 updated, 5 unchanged" in second.output
    assert "Nothing changed." in second.output


def test_stations_import_errors_exit_non_zero_with_lines(app, areas_loaded, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        "station_code,station_name,address,opening_hours,communities,room_name,room_capacity\n"
        f"ST1,一号站,,,{COMMUNITY},活动室,30\nST2,二号站,,,nowhere,活动室,10\n",
        encoding="utf-8",
    )
    result = run(app, "stations", "import", str(path))
    assert result.exit_code == 1
    assert "line 3: unknown community codes: nowhere" in result.output
    assert "nothing was imported" in result.output
    assert "stations: 2 created" in run(app, "stations", "import", DEMO_STATIONS).output


def test_user_create(app, areas_loaded):
    result = run(
        app,
        "user",
        "create",
        "--email",
        "s@example.org",
        "--password",
        PASSWORD,
        "--name",
        "李静",
        "--role",
        "staff",
        "--community",
        COMMUNITY,
    )
    assert result.exit_code == 0, result.output
    assert "with role staff" in result.output
    again = run(
        app,
        "user",
        "create",
        "--email",
        "s@example.org",
        "--password",
        PASSWORD,
        "--name",
        "李静",
        "--role",
        "staff",
        "--community",
        COMMUNITY,
    )
    assert again.exit_code == 1 and "already registered" in again.output
    bad = run(
        app,
        "user",
        "create",
        "--email",
        "t@example.org",
        "--password",
        PASSWORD,
        "--name",
        "x",
        "--role",
        "staff",
    )
    assert bad.exit_code == 1 and "community" in bad.output


def test_user_import(app, areas_loaded, tmp_path):
    path = tmp_path / "users.csv"
    path.write_text(
        "name,email,phone,password,role,community\n"
        f"刘洋,liu@example.org,13800000011,,volunteer,{COMMUNITY}\n"
        f"陈红,chen@example.org,,{PASSWORD},volunteer,{COMMUNITY}\n",
        encoding="utf-8",
    )
    result = run(app, "user", "import", str(path))
    assert result.exit_code == 0, result.output
    assert "Created 2 user(s); 1 invitation(s) queued." in result.output
    assert "liu@example.org  http://127.0.0.1:5000/invitation/" in result.output
    result = run(app, "user", "import", str(path))
    assert result.exit_code == 1
    assert "line 2" in result.output and "line 3" in result.output
    assert count_users(app) == 2


def test_demo_loads_once_and_prints_logins(app, db):
    result = run(app, "demo", "--if-empty")
    assert result.exit_code == 0, result.output
    assert "admin@example.org" in result.output and "demo-password" in result.output
    loaded = count_users(app)
    assert loaded >= 9
    again = run(app, "demo", "--if-empty")
    assert "already has users" in again.output
    assert run(app, "demo").exit_code == 0  # idempotent without the flag too
    assert count_users(app) == loaded


def readme_table(section, header):
    """The rows (lists of cells) of the table under `header` in the README's `## section`."""
    text = (Path(ROOT) / "README.md").read_text()
    body = text.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    lines = body.split(f"\n{header}\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert set(lines[0]) <= set("|- ")  # the rule under the header
    return [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in lines[1:]]


def test_the_printed_demo_logins_are_the_readmes_and_each_logs_in(app, db):
    result = run(app, "demo", "--if-empty")
    assert result.exit_code == 0, result.output
    table = [[who, shown] for who, shown, _logins in demo.LOGINS]
    assert readme_table("Run it", "| role | login |") == table
    for who, shown in table:
        assert re.search(rf"^  {re.escape(who)} +{re.escape(shown)}$", result.output, re.M)
    logins = [login for _who, _shown, listed in demo.LOGINS for login in listed]
    assert {email for email, *_rest in demo.ACCOUNTS} <= set(logins)  # nobody left out
    with app.app_context():
        for login in logins:
            assert accounts.authenticate(login, demo.PASSWORD).id
        party = accounts.user_by_email("party@example.org").party
        assert party.status == ReportStatus.DECLARED  # waiting for staff, as the table says


def test_user_grant_and_revoke(app, areas_loaded):
    run(
        app,
        "user",
        "create",
        "--email",
        "s@example.org",
        "--password",
        PASSWORD,
        "--name",
        "李静",
        "--role",
        "staff",
        "--community",
        COMMUNITY,
    )
    result = run(app, "user", "grant", "s@example.org", "staff", "--community", "210103001001")
    assert result.exit_code == 0 and "now has the role staff" in result.output
    assert run(app, "user", "grant", "nobody@example.org", "admin").exit_code == 1
    result = run(app, "user", "revoke", "s@example.org", "staff", "--community", COMMUNITY)
    assert result.exit_code == 0
    with app.app_context():
        from neighbors.accounts import services as accounts

        user = accounts.user_by_email("s@example.org")
        assert [g.community.code for g in user.roles] == ["210103001001"]
