"""Scheduled jobs: what runs when, and the one scheduler process that runs them."""
