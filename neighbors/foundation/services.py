"""The foundation's public face: what the pages, the API, the CLI and the jobs call. The work is
done in funds.py (funds, beneficiaries of custodial funds, releases, reversals), donations.py,
subsidies.py (prepared, approved and paid by three different people) and checks.py (field
shapes, roles, idempotency keys). Every movement of money is a voucher in the ledger."""

from neighbors.foundation.checks import (
    CHANNELS,
    FUND_CODE,
    ID_NUMBER,
    can_see_full,
    request_hash,
)
from neighbors.foundation.donations import donations, record_donation
from neighbors.foundation.funds import (
    create_fund,
    ended_funds_to_release,
    fund_by_code,
    funds,
    name_beneficiary,
    release_ended_fund,
    reverse_entry,
)
from neighbors.foundation.subsidies import (
    approve_subsidy,
    beneficiary_details,
    pay_subsidy,
    prepare_subsidy,
    reject_subsidy,
    subsidies,
    subsidy_for_step,
)

__all__ = [
    "CHANNELS",
    "FUND_CODE",
    "ID_NUMBER",
    "approve_subsidy",
    "beneficiary_details",
    "can_see_full",
    "create_fund",
    "donations",
    "ended_funds_to_release",
    "fund_by_code",
    "funds",
    "name_beneficiary",
    "pay_subsidy",
    "prepare_subsidy",
    "record_donation",
    "reject_subsidy",
    "release_ended_fund",
    "request_hash",
    "reverse_entry",
    "subsidies",
    "subsidy_for_step",
]
