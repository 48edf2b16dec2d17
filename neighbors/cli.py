"""The `flask --app wsgi neighbors …` command group; each feature contributes its commands."""

from flask.cli import AppGroup

from neighbors.accounts.cli import user_cli
from neighbors.areas.cli import areas_cli
from neighbors.core.backup import backup_command
from neighbors.core.keys import keys_cli
from neighbors.demo import demo_command
from neighbors.foundation.cli import ledger_cli
from neighbors.jobs.cli import jobs_cli, scheduler_command
from neighbors.stations.cli import stations_cli

neighbors_cli = AppGroup("neighbors", help="Neighbors administration commands.")
neighbors_cli.add_command(user_cli)
neighbors_cli.add_command(areas_cli)
neighbors_cli.add_command(stations_cli)
neighbors_cli.add_command(demo_command)
neighbors_cli.add_command(ledger_cli)
neighbors_cli.add_command(scheduler_command)
neighbors_cli.add_command(jobs_cli)
neighbors_cli.add_command(backup_command)
neighbors_cli.add_command(keys_cli)
