"""Prefect flows and what composes them: the cycle, the per-rule flows, the engine that runs
a rule batch by batch, backfill, run parameters and reports. They compose; they do not talk
HTTP.

May import: every layer below (`model`, `config`, `rules`, `gateway`, `runstate`, `notify`,
`tasks`).
"""
