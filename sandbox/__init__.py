"""The local HubSpot-compatible API the tests and the demo run against. Stands apart:
imports nothing of the product (only the command and the bench start it).
"""
