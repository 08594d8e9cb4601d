"""Follow-up recognises its own tasks after a person edits them in HubSpot (rich text)."""

from __future__ import annotations

import pytest

from model.records import Engagement
from rules.tasks import task_kind


def task(body: str) -> Engagement:
    return Engagement("1", "task", {"hs_task_body": body})


@pytest.mark.parametrize(
    "body",
    [
        "Call them\n\n[leadops:next_attempt]",
        "<p>Call them<br><br>[leadops:next_attempt]</p>",
        "<p>Call <b>them</b></p><p>&#91;leadops:next_attempt&#93;</p>",
        "<div>Q&amp;A &lt;pricing&gt;<br>[leadops:<span>next_attempt</span>]</div>",
    ],
)
def test_the_marker_is_found_in_plain_or_rich_text(body: str) -> None:
    assert task_kind(task(body)) == "next_attempt"


def test_a_marker_only_named_in_an_attribute_is_not_a_leadops_task() -> None:
    assert task_kind(task('<p title="[leadops:first_touch]">Call them</p>')) is None
