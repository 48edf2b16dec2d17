"""The ledger CSV written by PostgreSQL's COPY is the very file the Python writer makes."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from neighbors.core.db import transaction
from neighbors.core.timezone import local_today
from neighbors.extensions import db
from neighbors.foundation import exports, ledger
from neighbors.foundation.models import Fund


@pytest.mark.parametrize("today_only, fund", [(False, None), (True, "EDU"), (False, "OLD")])
def test_the_copy_path_writes_the_same_csv_as_python(ctx, team, today_only, fund):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("COPY is PostgreSQL's; SQLite always uses the Python writer")
    team.fund("EDU", opening="100.00")
    team.fund("OLD", kind="unrestricted", opening="5.00")
    hostile = ["=SUM(A1:A9)", "+86 138", "-负数", "@cmd", "\t制表", '含,逗号与"引号"', "换\n行"]
    edu = db.session.scalar(select(Fund).where(Fund.code == "EDU"))
    for n, summary in enumerate(hostile, start=1):  # summaries a spreadsheet would run
        with transaction():
            ledger.post(
                team.approver, summary=summary, kind="donation",
                lines=[("1002", edu, f"{n}.50", None), ("4102", edu, None, f"{n}.50")],
            )  # fmt: skip
    donation = team.donate("OLD", "1.00", received_on=local_today() - timedelta(days=400))
    ledger.reverse(team.approver, donation.entry_id, "=录入错误")
    period = (local_today(), local_today()) if today_only else (None, None)
    python = b"".join(exports.csv_stream(exports.ledger_lines(*period, fund)))
    copied = b"".join(exports.csv_copy_stream(*period, fund))
    assert copied == python
    if fund != "OLD":
        assert b"'=SUM(A1:A9)" in copied and b"'@cmd" in copied and b"'-\xe8" in copied
