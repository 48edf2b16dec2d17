"""Accounts: users, roles, Party member details, login, profile and API tokens."""
