"""`neighbors scheduler` (the scheduler process) and `neighbors jobs run NAME` (one job, now)."""

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from neighbors.jobs import scheduler
from neighbors.jobs.tasks import JOBS


@click.command("scheduler")
@with_appcontext
def scheduler_command():
    """Run the scheduled jobs; with several such processes, one leads and the others wait."""
    scheduler.serve(current_app._get_current_object())


jobs_cli = AppGroup("jobs", help="Scheduled jobs.")


@jobs_cli.command("run")
@click.argument("name", type=click.Choice(sorted(JOBS)))
def run(name):
    """Run one job now, outside its schedule (e.g. deliver the outbox)."""
    result = scheduler.run_job(current_app._get_current_object(), name)
    click.echo(f"{name}: {'ok' if result.ok else 'failed'} {result.detail}")
    if not result.ok:
        raise SystemExit(1)
