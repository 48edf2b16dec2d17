"""Keyset paging by id: each page is a fixed-cost range read however long the list grows (no
OFFSET), and the cursor of the next page is the id its last row stopped at."""

from neighbors.extensions import db

PAGE = 30


class Page(list):
    """The rows of one page; `next` is the cursor of the following page (None at the end)."""

    next = None


def by_id(query, column, *, cursor=None, limit=PAGE, newest_first=True):
    """One page of `query` (a select of model rows) in the order of `column` (an id), from
    `cursor` on (the id of the last row of the page before)."""
    if isinstance(cursor, int) and not isinstance(cursor, bool):
        query = query.where(column < cursor if newest_first else column > cursor)
    query = query.order_by(column.desc() if newest_first else column).limit(limit + 1)
    rows = db.session.scalars(query).all()
    page = Page(rows[:limit])
    if len(rows) > limit:
        page.next = page[-1].id
    return page


def cursor_arg(args, name="after"):
    """The cursor in a query string: a positive id, or None for anything else."""
    value = args.get(name, type=int)
    return value if value is not None and 0 < value < 2**31 else None
