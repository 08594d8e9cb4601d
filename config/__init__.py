"""Settings (environment, `.env`), the rules file's model and its default `lifecycle.yaml`,
and the check of the rules against the portal's facts.

May import: `model`.
"""
