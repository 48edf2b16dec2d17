"""Shared building blocks: database helpers, errors, permissions, audit log, outbox, privacy."""
