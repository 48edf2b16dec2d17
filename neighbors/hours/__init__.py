"""Service hours: attendance, service records, confirmation, totals, certificates, reports."""
