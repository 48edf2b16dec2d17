"""Attendance: check-in codes, roster taps, walk-ins, completing events, no-shows and the
minutes people were present, between events (who signed up) and hours (what they served)."""
