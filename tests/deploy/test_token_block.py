"""A redeploy never replaces the token ops rotated in the Secret block, unless asked to."""

from __future__ import annotations

from uuid import uuid4

import pytest
from prefect import get_client
from prefect.blocks.system import Secret

from leadops.deploy import DeployError, DeployReport, save_token

pytestmark = pytest.mark.usefixtures("prefect_harness")


def test_an_existing_block_is_kept_unless_the_token_is_rotated() -> None:
    block = f"hubspot-token-{uuid4().hex[:8]}"
    with get_client(sync_client=True) as client:
        assert save_token(client, block, "pat-from-env") is True  # first deploy: created
        Secret(value="pat-rotated-in-the-ui").save(block, overwrite=True)

        assert save_token(client, block, "pat-from-env") is False  # redeploy: kept
        assert Secret.load(block).get() == "pat-rotated-in-the-ui"

        assert save_token(client, block, "pat-new", rotate=True) is True
        assert Secret.load(block).get() == "pat-new"

        with pytest.raises(DeployError, match=r"--rotate-token .* HUBSPOT_ACCESS_TOKEN"):
            save_token(client, block, None, rotate=True)
        with pytest.raises(DeployError, match="no Secret block"):
            save_token(client, f"{block}-missing", None)


def report(**token: bool) -> DeployReport:
    return DeployReport(
        api_url="http://127.0.0.1:4200/api",
        pool="leadops",
        pool_created=False,
        global_limit=None,
        limit=10,
        slot_decay_per_second=10,
        token_block="hubspot-token",
        **token,
    )


def test_the_report_says_what_became_of_the_token() -> None:
    kept = report(token_saved=False).lines()
    assert "Secret block 'hubspot-token': existing block kept" in "\n".join(kept)
    assert "--rotate-token" in "\n".join(kept)
    rotated = report(token_saved=True, token_rotated=True).lines()
    assert "replaced with HUBSPOT_ACCESS_TOKEN (--rotate-token)" in "\n".join(rotated)
