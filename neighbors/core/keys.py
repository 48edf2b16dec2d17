"""`neighbors keys rotate`: move all personal data to the current DATA_KEY.

After DATA_KEY is replaced (the previous key kept in OLD_DATA_KEYS), the site reads data under
either key. This command re-encrypts every encrypted column and recomputes every keyed hash under
the current key, so the old key can then be removed. Models take part by naming their columns:
`ENCRYPTED` (column names) and `LOOKUP_HASHES` (hash column -> the encrypted column it is of).
"""

import logging
from dataclasses import dataclass, field

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from neighbors.core import audit, privacy
from neighbors.core.db import transaction
from neighbors.extensions import db

logger = logging.getLogger(__name__)

BATCH_SIZE = 500


@dataclass
class Rotation:
    changed: int = 0  # rows rewritten
    checked: int = 0  # rows read
    # (table, id, reason) of rows left as they were; ids and reasons only, no personal data.
    skipped: list = field(default_factory=list)


def encrypted_models():
    """Every model with encrypted columns, by table name."""
    models = (mapper.class_ for mapper in db.Model.registry.mappers)
    return sorted(
        (model for model in models if getattr(model, "ENCRYPTED", None)),
        key=lambda model: model.__tablename__,
    )


def rotate(batch_size=BATCH_SIZE, progress=None):
    """Re-encrypt and re-hash every row not yet under the current key, one transaction per
    batch of rows (locked while rewritten); rows already under it are left untouched, so a
    second run changes nothing. progress(table, done, total) is called after each batch.

    A row holding a value that no configured key can decrypt, or whose new hash another row
    already holds (the same number stored twice), is skipped and listed in the result.
    Returns a Rotation; writes one audit entry.
    """
    result = Rotation()
    for model in encrypted_models():
        (key,) = sa.inspect(model).primary_key
        # Only rows holding personal data (most users log in with an e-mail address alone).
        holding = sa.or_(*(getattr(model, column).is_not(None) for column in model.ENCRYPTED))
        total = db.session.scalar(sa.select(sa.func.count()).select_from(model).where(holding))
        after, done = None, 0
        while True:
            with transaction():
                query = (
                    sa.select(model)
                    .where(holding)
                    .order_by(key)
                    .limit(batch_size)
                    .with_for_update()
                )
                if after is not None:
                    query = query.where(key > after)
                rows = db.session.scalars(query).all()
                for row in rows:
                    _rotate_row(model, key, row, result)
            if not rows:
                break
            after = getattr(rows[-1], key.key)
            done += len(rows)
            result.checked += len(rows)
            if progress:
                progress(model.__tablename__, done, total)
    with transaction():
        audit.record(None, "keys.rotate", None, rows=result.changed, skipped=len(result.skipped))
    logger.info("key rotation: %s rows changed, %s skipped", result.changed, len(result.skipped))
    return result


def _rotate_row(model, key, row, result):
    table, row_id = model.__tablename__, getattr(row, key.key)
    plain, stale = {}, {}
    for column in model.ENCRYPTED:
        token = getattr(row, column)
        if token is None:
            continue
        try:
            plain[column] = privacy.decrypt(token)
        except privacy.Undecryptable:
            result.skipped.append((table, row_id, f"{column} cannot be decrypted"))
            return
        if not privacy.is_current(token):
            stale[column] = privacy.encrypt(plain[column])
    for hash_column, source in model.LOOKUP_HASHES.items():
        if plain.get(source) is None:
            continue
        expected = privacy.lookup_hash(plain[source])
        if getattr(row, hash_column) == expected:
            continue
        column = getattr(model, hash_column)
        holder = db.session.scalar(sa.select(key).where(column == expected, key != row_id))
        if holder is not None:
            result.skipped.append(
                (table, row_id, f"{hash_column} is the same as {table} {holder}'s")
            )
            return
        stale[hash_column] = expected
    if stale:
        for column, value in stale.items():
            setattr(row, column, value)
        db.session.flush()
        result.changed += 1


keys_cli = AppGroup("keys", help="The key that encrypts personal data (DATA_KEY).")


@keys_cli.command("rotate")
@click.option("--batch-size", default=BATCH_SIZE, show_default=True, type=click.IntRange(1))
def rotate_command(batch_size):
    """Re-encrypt all personal data under DATA_KEY; then OLD_DATA_KEYS can be removed.

    Safe to run while the site serves, and again: rows already under DATA_KEY are skipped.
    """
    old = len(privacy.data_keys()) - 1
    click.echo(f"Rotating personal data to DATA_KEY (old keys configured: {old}).")

    def progress(table, done, total):
        click.echo(f"  {table}: {done}/{total} rows checked")

    result = rotate(batch_size=batch_size, progress=progress)
    click.echo(f"{result.changed} of {result.checked} rows changed.")
    if result.skipped:
        for table, row_id, reason in result.skipped:
            click.secho(f"  {table} {row_id}: {reason}; left as it was", fg="red", err=True)
        raise click.ClickException(
            f"{len(result.skipped)} row(s) could not be moved to DATA_KEY: keep OLD_DATA_KEYS "
            "until they are dealt with"
        )
    click.echo("All personal data is under DATA_KEY: OLD_DATA_KEYS can now be removed.")
