"""Command-line helpers: domain errors become clear messages and a non-zero exit."""

import functools

import click
from flask_babel import gettext as _

from neighbors.core.errors import DomainError
from neighbors.core.tabular import ImportFailed


def reports_errors(command):
    """Print a domain error (every line of an import's errors) and exit with status 1."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except ImportFailed as error:
            for line, message in error.errors:
                click.secho(
                    _("line %(line)s: %(message)s", line=line, message=message), fg="red", err=True
                )
            raise click.ClickException(
                _("%(n)s error(s); nothing was imported.", n=len(error.errors))
            ) from None
        except DomainError as error:
            detail = "; ".join(f"{k}: {v}" for k, v in error.fields.items())
            raise click.ClickException(detail or error.message) from None

    return wrapper
