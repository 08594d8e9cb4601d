"""No recorded HubSpot call may carry a token."""

import re
from pathlib import Path

import pytest

CASSETTES = Path(__file__).parent / "cassettes"
TOKEN_PATTERNS = [
    re.compile(r"^\s*-?\s*['\"]?authorization['\"]?\s*:", re.IGNORECASE | re.MULTILINE),
    re.compile(r"Bearer\s+[A-Za-z0-9_\-.]{6,}"),
    re.compile(r"pat-(na|eu|ap)\d?-[0-9a-f-]{8,}", re.IGNORECASE),
]


def cassette_files() -> list[Path]:
    return sorted(CASSETTES.rglob("*.yaml"))


def test_cassettes_exist() -> None:
    assert cassette_files(), "no cassettes recorded under tests/cassettes: run `make cassettes`"


@pytest.mark.parametrize("path", cassette_files(), ids=lambda p: str(p.relative_to(CASSETTES)))
def test_cassette_holds_no_token(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for pattern in TOKEN_PATTERNS:
        match = pattern.search(text)
        assert match is None, f"{path} carries a credential: {match.group(0)[:40]!r}"
