"""Accounts' public face: what the pages, the API, the CLI and other features call. The work is
done in contacts.py (logins normalised and kept unique), credentials.py (passwords, logging in,
sessions, invitations, API tokens), profiles.py (registration and profile), imports.py
(users from the command line and spreadsheets) and people.py (roles and accounts, by admins
and street or district staff). Party report-in is the party feature's."""

from neighbors.accounts.contacts import (
    EMAIL_RE,
    KEEP,
    PHONE_RE,
    find_by_login,
    login_key,
    normalize_email,
    normalize_phone,
    phone_of,
)
from neighbors.accounts.credentials import (
    PASSWORD_MAX,
    PASSWORD_MIN,
    accept_invitation,
    authenticate,
    change_password,
    end_session,
    hash_password,
    invitation_token,
    issue_token,
    prune_sessions,
    revoke_token,
    start_session,
    user_for_invitation,
    user_for_session,
    user_for_token,
)
from neighbors.accounts.imports import (
    IMPORT_COLUMNS,
    active_admins,
    create_user,
    has_users,
    import_users,
    user_by_email,
    user_exists,
)
from neighbors.accounts.notices import channels_of, notify
from neighbors.accounts.people import grant_role, names_of, revoke_role
from neighbors.accounts.phones import (
    issue_code_token,
    request_code,
    sign_in_with_code,
    verify_phone,
)
from neighbors.accounts.profiles import register, set_locale, update_profile

__all__ = [
    "EMAIL_RE",
    "IMPORT_COLUMNS",
    "KEEP",
    "PASSWORD_MAX",
    "PASSWORD_MIN",
    "PHONE_RE",
    "accept_invitation",
    "active_admins",
    "authenticate",
    "change_password",
    "channels_of",
    "create_user",
    "end_session",
    "find_by_login",
    "grant_role",
    "has_users",
    "hash_password",
    "import_users",
    "invitation_token",
    "issue_code_token",
    "issue_token",
    "login_key",
    "names_of",
    "normalize_email",
    "normalize_phone",
    "notify",
    "phone_of",
    "prune_sessions",
    "register",
    "request_code",
    "revoke_role",
    "revoke_token",
    "set_locale",
    "sign_in_with_code",
    "start_session",
    "update_profile",
    "user_by_email",
    "user_exists",
    "user_for_invitation",
    "user_for_session",
    "user_for_token",
    "verify_phone",
]
