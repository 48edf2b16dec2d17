"""`neighbors ledger verify` and `neighbors ledger name-beneficiary`."""

import click
from flask.cli import AppGroup
from flask_babel import gettext as _

from neighbors.core.cli import reports_errors
from neighbors.foundation import reports
from neighbors.foundation import services as foundation

ledger_cli = AppGroup("ledger", help="The foundation's ledger.")


@ledger_cli.command("verify")
def verify():
    """Check every entry against the hash chain and every fund against its postings."""
    result = reports.verify()
    if result.ok:
        click.echo(_("The ledger verifies: %(n)s entries, each as posted.", n=result.entries))
        return
    raise click.ClickException(result.message)


@ledger_cli.command("name-beneficiary")
@click.argument("fund")
@click.option("--name", "beneficiary_name", required=True, help="The beneficiary's name.")
@click.option("--id-number", "beneficiary_id_number", help="The beneficiary's ID number.")
@reports_errors
def name_beneficiary(fund, beneficiary_name, beneficiary_id_number):
    """Name the beneficiary of a custodial fund opened before funds named theirs."""
    opened = foundation.name_beneficiary(
        None,
        fund,
        beneficiary_name=beneficiary_name,
        beneficiary_id_number=beneficiary_id_number,
    )
    click.echo(_("The fund %(code)s is held for its named beneficiary.", code=opened.code))
