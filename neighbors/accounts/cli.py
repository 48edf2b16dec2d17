"""`neighbors user create|import|grant|revoke`."""

import click
from flask.cli import AppGroup
from flask_babel import gettext as _

from neighbors.accounts import services as accounts
from neighbors.core.cli import reports_errors
from neighbors.core.permissions import Role

user_cli = AppGroup("user", help="Create, import and give roles to users.")
ROLES = click.Choice([r.value for r in Role])


@user_cli.command("create")
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--name", required=True)
@click.option("--role", required=True, type=ROLES)
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
    click.echo(
        _(
            "Created user %(id)s (%(email)s) with role %(role)s.",
            id=user.id,
            email=user.email,
            role=role,
        )
    )


@user_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@reports_errors
def import_(path):
    """Create users from a CSV or XLSX file: name,email,phone,password,role,community.

    All or nothing: any error is reported with its line and nothing is imported. Rows
    without a password get an invitation to set one (queued for e-mail, and printed here).
    """
    with click.progressbar(length=1, label=_("Checking and hashing passwords")) as bar:

        def progress(done, total):
            bar.length = total
            bar.update(done - bar.pos)

        created, invitations = accounts.import_users(path, progress=progress)
    click.echo(
        _("Created %(n)s user(s); %(m)s invitation(s) queued.", n=created, m=len(invitations))
    )
    for email, link in invitations:
        click.echo(f"  {email}  {link}")


@user_cli.command("grant")
@click.argument("email")
@click.argument("role", type=ROLES)
@click.option("--community", "community_code", help="For staff: the community to manage.")
@click.option("--street", "street_code", help="For staff: a street (all its communities).")
@click.option("--district", "district_code", help="For staff: a district (all its communities).")
@reports_errors
def grant(email, role, community_code, street_code, district_code):
    """Give a user a further role (staff may manage several communities, streets, districts)."""
    accounts.grant_role(
        email, role, community_code, street_code=street_code, district_code=district_code
    )
    click.echo(_("%(email)s now has the role %(role)s.", email=email, role=role))


@user_cli.command("revoke")
@click.argument("email")
@click.argument("role", type=ROLES)
@click.option("--community", "community_code", help="For staff: the community.")
@click.option("--street", "street_code", help="For staff: the street.")
@click.option("--district", "district_code", help="For staff: the district.")
@reports_errors
def revoke(email, role, community_code, street_code, district_code):
    """Take a role away from a user."""
    accounts.revoke_role(
        email, role, community_code, street_code=street_code, district_code=district_code
    )
    click.echo(_("%(email)s no longer has the role %(role)s.", email=email, role=role))
