"""Shared building blocks: database helpers, domain errors, permissions, audit log, outbox, masking."""
