"""Security tests: who may do what, hostile input, CSRF, sessions and headers."""
