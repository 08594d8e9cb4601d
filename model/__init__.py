"""Plain values every layer shares: records as read from HubSpot, planned changes, results.

The ground floor: imports nothing from the project, and no Prefect or HubSpot client.
"""
