"""The community foundation: funds, donations, beneficiaries, subsidies and the ledger."""
