"""Dates typed at the terminal: a date alone (midnight UTC) or an ISO date and time."""

from __future__ import annotations

from datetime import UTC, datetime

FORMATS = "a date (2026-10-01, midnight UTC) or an ISO date and time (2026-10-01T14:30Z)"


class BadDate(ValueError):
    """A value that is not a date, named with the option it was given for."""


def parse_moment(option: str, value: str) -> datetime:
    """`value` as an aware UTC datetime; a time without an offset is UTC."""
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise BadDate(f"{option} {value!r} is not a date: use {FORMATS}") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def past_range(start: str, end: str | None, now: datetime) -> tuple[datetime, datetime]:
    """`--start`/`--end` as a past range (`end` defaults to now), or a `BadDate` saying why not."""
    since = parse_moment("--start", start)
    until = now if end is None else parse_moment("--end", end)
    if since >= now:
        raise BadDate(
            f"--start {start!r} is not in the past (now is {now:%Y-%m-%d %H:%M} UTC): a backfill "
            "covers past dates; scheduled runs cover what comes next"
        )
    if until > now:
        raise BadDate(
            f"--end {end!r} is in the future (now is {now:%Y-%m-%d %H:%M} UTC): leave --end out "
            "to backfill up to now"
        )
    if until <= since:
        raise BadDate(f"--end {end!r} must be after --start {start!r}")
    return since, until
