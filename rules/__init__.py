"""The rules: pure decisions over contacts. One module per rule, `kit` for what they share,
`definition` for what a rule is (one planner signature), `registry` for the cycle's order.

May import: `model`, `config`. Never Prefect, the HubSpot client or any I/O.
"""
