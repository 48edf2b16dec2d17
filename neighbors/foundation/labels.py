"""Translatable names of the foundation's codes: fund kinds, subsidy states, donation channels
and donor kinds (for the pages, the forms and the spreadsheets)."""

from flask_babel import lazy_gettext as _l

from neighbors.foundation.models import FundKind, SubsidyStatus

FUND_KINDS = {
    FundKind.UNRESTRICTED: _l("Unrestricted"),
    FundKind.RESTRICTED: _l("Restricted"),
    FundKind.CUSTODIAL: _l("Custodial"),
}
SUBSIDY_STATES = {
    SubsidyStatus.PREPARED: _l("Waiting for approval"),
    SubsidyStatus.APPROVED: _l("Approved, to be paid"),
    SubsidyStatus.PAID: _l("Paid"),
    SubsidyStatus.REJECTED: _l("Rejected"),
}
CHANNELS = {
    "bank_transfer": _l("Bank transfer"),
    "cash": _l("Cash"),
    "wechat": _l("WeChat Pay"),
    "alipay": _l("Alipay"),
    "other": _l("Other"),
}
DONOR_KINDS = {"person": _l("A person"), "organisation": _l("An organisation")}
