"""Contract tests: the real recorded Anthropic bodies through the SDK and the fake server.

The recordings live in ../shared/data/anthropic (read in place, never copied); without
them this module is skipped.
"""

from __future__ import annotations

from pathlib import Path

import anthropic
import pytest
from django.conf import settings

SHARED = Path(settings.BASE_DIR).parent / "shared" / "data" / "anthropic"
if not SHARED.is_dir():
    pytest.skip(f"recorded Anthropic responses not found at {SHARED}", allow_module_level=True)

from insights.news.analysis.claude import (  # noqa: E402
    AnalysisFailed,
    analyse_with_claude,
    anthropic_client,
)
from tests.insights.news.analysis.fake_anthropic import Reply  # noqa: E402

JSON = {"content-type": "application/json"}


def recorded(name: str) -> bytes:
    return (SHARED / name).read_bytes()


def call(fake):
    return analyse_with_claude(
        anthropic_client(),
        title="Acme beats",
        description="",
        content="Acme beat estimates.",
        linked_symbols=[],
        known_symbols={"ACME"},
    )


def test_recorded_tool_use_parses_and_a_foreign_tool_is_rejected(fake):
    # A real tool_use answer (for another tool): the SDK parses it, usage is read, and we
    # refuse it because it is not a record_analysis call, with its tokens counted.
    fake.replies = [Reply(200, recorded("messages_tool_use.json"), JSON)]
    with pytest.raises(AnalysisFailed) as exc:
        call(fake)
    assert exc.value.reason == "no record_analysis tool call in the answer"
    assert (exc.value.usage.input_tokens, exc.value.usage.output_tokens) == (656, 74)


def test_recorded_429_body_gives_rate_limit_reason(fake, settings):
    settings.ANTHROPIC_MAX_RETRIES = 0
    fake.replies = [Reply(429, recorded("error_429_rate_limit_error.json"), JSON)]
    with pytest.raises(AnalysisFailed) as exc:
        call(fake)
    assert exc.value.reason.startswith("rate limited (429): rate_limit_error: This request")
    assert isinstance(exc.value.__cause__, anthropic.RateLimitError)


def test_recorded_400_body_gives_invalid_request_reason(fake):
    fake.replies = [Reply(400, recorded("error_400_invalid_request_error.json"), JSON)]
    with pytest.raises(AnalysisFailed) as exc:
        call(fake)
    assert exc.value.reason.startswith("API error 400: invalid_request_error: messages.0")
    assert not exc.value.fatal
    assert len(fake.requests) == 1  # 400 is not retried by the SDK


def test_recorded_text_answer_without_tool_call_is_rejected(fake):
    fake.replies = [Reply(200, recorded("messages_text_end_turn.json"), JSON)]
    with pytest.raises(AnalysisFailed, match="no record_analysis tool call"):
        call(fake)
