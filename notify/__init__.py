"""Telling people, in the order it happens: `plan` (pure: who hears what) → `render` (Jinja,
`templates/`) → `outbox` (files kept until sent, SMTP delivery) → `deliver` (the Prefect
task a run calls); `alerts` (the failure and recovery hooks).

May import: `model`, `config`, `runstate` (failure streaks).
"""
