"""Service hours: service records, confirmation, totals, certificates, reports."""
