"""Tests of what ships in deploy/."""
