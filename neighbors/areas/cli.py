"""`neighbors areas import FILE.csv`."""

import click
from flask.cli import AppGroup
from flask_babel import gettext as _

from neighbors.areas import services as areas
from neighbors.core.cli import reports_errors

areas_cli = AppGroup("areas", help="Districts, streets, communities and grids.")


@areas_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@reports_errors
def import_(path):
    """Create or rename areas from a CSV file; importing the same file again changes nothing."""
    with click.progressbar(length=len(areas.LEVELS), label=_("Importing areas")) as bar:
        report = areas.import_areas(path, progress=lambda _level: bar.update(1))
    for level, counts in report.counts.items():
        click.echo(
            _(
                "%(level)s: %(created)s created, %(updated)s renamed, %(unchanged)s unchanged",
                level=f"{level:>9}",
                **counts,
            )
        )
    click.echo(_("Changes saved.") if report.changed else _("Nothing changed."))
