"""`neighbors ledger verify`."""

import click
from flask.cli import AppGroup
from flask_babel import gettext as _

from neighbors.foundation import reports

ledger_cli = AppGroup("ledger", help="The foundation's ledger.")


@ledger_cli.command("verify")
def verify():
    """Check every entry against the hash chain and every fund against its postings."""
    result = reports.verify()
    if result.ok:
        click.echo(_("The ledger verifies: %(n)s entries, each as posted.", n=result.entries))
        return
    raise click.ClickException(result.message)
