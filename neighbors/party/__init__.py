"""The Party: members report in to a community and its staff confirm them; the Party report
sets each member's confirmed service against the targets."""
