"""`neighbors user create` and `neighbors user import`."""

import click
from flask.cli import AppGroup

from neighbors.accounts import services as accounts
from neighbors.core.cli import reports_errors
from neighbors.core.permissions import Role

user_cli = AppGroup("user", help="Create and import users.")


@user_cli.command("create")
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--community", "community_code", help="Community code: managed (staff) or home.")
@click.option("--phone", help="Mobile number, another way to log in.")
@reports_errors
def create(email, password, name, role, community_code, phone):
    """Create a user with one role."""
    user = accounts.create_user(
        email=email,
        password=password,
        name=name,
        role=role,
        community_code=community_code,
        phone=phone,
    )
    click.echo(f"Created user {user.id} ({user.email}) with role {role}.")


@user_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@reports_errors
def import_(path):
    """Create users from a CSV or XLSX file: name,email,phone,password,role,community.

    All or nothing: any error is reported with its line and nothing is imported. Rows
    without a password get an e-mail invitation to set one.
    """
    with click.progressbar(length=0, label="Importing users") as bar:

        def progress(done, total):
            bar.length = total
            bar.update(done - bar.pos)

        created, invited = accounts.import_users(path, progress=progress)
    click.echo(f"Created {created} user(s); {invited} invitation(s) queued.")
