"""`neighbors demo`: a small Shenyang-like demo city with users of every role."""

from datetime import date
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from neighbors.accounts import services as accounts
from neighbors.accounts.models import User
from neighbors.areas import services as areas
from neighbors.core.cli import reports_errors
from neighbors.extensions import db

AREAS_CSV = Path(__file__).with_name("areas.csv")
PASSWORD = "demo-password"  # noqa: S105 (printed for everyone to use)
HOME = "210102002001"  # 南湖街道 文安路社区
OTHER = "210103001001"  # 五里河街道 青年大街社区

# (e-mail, name, role, community, phone)
ACCOUNTS = [
    ("admin@example.org", "王磊", "admin", None, None),
    ("staff@example.org", "李静", "staff", HOME, None),
    ("staff2@example.org", "张伟", "staff", OTHER, None),
    ("preparer@example.org", "赵敏", "preparer", None, None),
    ("approver@example.org", "孙强", "approver", None, None),
    ("cashier@example.org", "周芳", "cashier", None, None),
    ("accountant@example.org", "吴刚", "accountant", None, None),
    ("volunteer@example.org", "刘洋", "volunteer", HOME, "13800000001"),
    ("party@example.org", "陈红", "volunteer", HOME, "13800000002"),
]
RESIDENTS = [
    "杨帆", "黄丽", "郑浩", "马超", "朱琳", "胡军",
    "郭静", "何勇", "高峰", "林娜", "罗斌", "梁雪",
]  # fmt: skip


@click.command("demo")
@click.option("--if-empty", is_flag=True, help="Load only when the database has no users.")
@with_appcontext
@reports_errors
def demo_command(if_empty):
    """Load the demo city (idempotent) and print the demo logins."""
    has_users = db.session.scalar(select(func.count(User.id)))
    if if_empty and has_users:
        click.echo("The database already has users; the demo city was not loaded.")
    else:
        load_demo()
    click.echo(f"Demo logins (password for all: {PASSWORD}):")
    for email, name, role, community, _phone in ACCOUNTS:
        where = f" · {community}" if community else ""
        click.echo(f"  {role:<10} {email:<24} {name}{where}")


def load_demo():
    """Create the demo areas and accounts; those that exist already are left alone."""
    areas.import_areas(AREAS_CSV)
    known = set(db.session.scalars(select(User.email)))
    for email, name, role, community, phone in ACCOUNTS:
        if email not in known:
            accounts.create_user(
                email=email,
                password=PASSWORD,
                name=name,
                role=role,
                community_code=community,
                phone=phone,
            )
    party = db.session.scalar(select(User).where(User.email == "party@example.org"))
    if party.party is None:
        accounts.declare_party_membership(
            party, branch="沈阳市税务局第三党支部", work_unit="沈阳市税务局",
            community_code=HOME, grid_code=HOME + "01", reported_on=date(2026, 3, 5),
        )  # fmt: skip
    codes = [code for street in areas.community_choices().values() for code, _name in street]
    for number, name in enumerate(RESIDENTS, start=1):
        email = f"resident{number:02d}@example.org"
        if email not in known:
            accounts.create_user(
                email=email,
                password=PASSWORD,
                name=name,
                role="volunteer",
                community_code=codes[number % len(codes)],
            )
