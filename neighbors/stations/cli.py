"""`neighbors stations import FILE.csv`."""

import click
from flask.cli import AppGroup
from flask_babel import gettext as _

from neighbors.core.cli import reports_errors
from neighbors.stations import services as stations

stations_cli = AppGroup("stations", help="Party and mass service stations and their rooms.")


@stations_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@reports_errors
def import_(path):
    """Create or update stations and rooms from a CSV file; importing it again changes nothing."""
    report = stations.import_stations(path)
    labels = {"stations": _("stations"), "rooms": _("rooms")}
    for kind, counts in report.counts.items():
        click.echo(
            _(
                "%(kind)s: %(created)s created, %(updated)s updated, %(unchanged)s unchanged",
                kind=f"{labels[kind]:>8}",
                **counts,
            )
        )
    click.echo(_("Changes saved.") if report.changed else _("Nothing changed."))
