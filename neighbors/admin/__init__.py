"""Admin pages: the audit log."""
