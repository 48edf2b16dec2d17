"""Events: service events, series, sign-ups, the waitlist and calendars."""
