"""Hours' public face: what the pages, the API, attendance and the jobs call. The work is done
in records.py (records and corrections, what counts, totals), confirming.py (staff review and the
overdue queue) and certificates.py."""

from neighbors.hours.certificates import (
    certificate_token,
    issue_certificate,
    my_certificate,
    my_certificates,
    verify_certificate,
    volunteer_number,
)
from neighbors.hours.confirming import (
    CONFIRM_WITHIN_WORKING_DAYS,
    MAX_BULK,
    is_overdue,
    overdue_before,
    queue_overdue_digests,
    records_to_confirm,
    review,
)
from neighbors.hours.records import (
    Totals,
    correct_record,
    event_records,
    has_record,
    is_effective,
    my_records,
    own_record,
    record_for_staff,
    record_service,
    recorded_people,
    request_correction,
    served_in_year,
    star_level,
    submit_service,
    totals,
)

__all__ = [
    "CONFIRM_WITHIN_WORKING_DAYS",
    "MAX_BULK",
    "Totals",
    "certificate_token",
    "correct_record",
    "is_effective",
    "event_records",
    "has_record",
    "is_overdue",
    "issue_certificate",
    "my_certificate",
    "my_certificates",
    "my_records",
    "overdue_before",
    "own_record",
    "records_to_confirm",
    "queue_overdue_digests",
    "record_for_staff",
    "record_service",
    "recorded_people",
    "request_correction",
    "review",
    "served_in_year",
    "star_level",
    "submit_service",
    "totals",
    "verify_certificate",
    "volunteer_number",
]
