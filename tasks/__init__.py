"""Prefect tasks over batches of contacts: search and read (`crm`), write (`apply`), read
the portal's facts (`portal`). One task per batch, never one per contact.

May import: `model`, `config`, `rules`, `gateway`.
"""
