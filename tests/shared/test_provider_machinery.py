"""The shared provider machinery on its own: Retry-After in its three spellings, errors that cross a
process boundary whole (Modal pickles them), and keys scrubbed from anything shown."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from shared.provider_errors import ProviderRefusedError, ProviderTransientError
from shared.provider_settings import MissingKeyError, redact
from shared.retry import RetryPolicy, parse_retry_after, should_retry


def test_retry_after_in_seconds_milliseconds_and_as_a_date() -> None:
    assert parse_retry_after({"retry-after": "7"}) == 7.0
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    when = datetime.now(UTC) + timedelta(seconds=30)
    assert parse_retry_after({"retry-after": format_datetime(when, usegmt=True)}) == pytest.approx(30, abs=2)
    assert parse_retry_after({}) is None


def test_a_server_asking_for_too_long_a_wait_is_not_retried() -> None:
    policy = RetryPolicy(attempts=4, retry_after_max=60)
    assert should_retry(ProviderTransientError("429", provider="p", retry_after=30), policy=policy)
    assert not should_retry(ProviderTransientError("429", provider="p", retry_after=3600), policy=policy)
    assert not should_retry(ProviderRefusedError("no", provider="p"), policy=policy)


def test_provider_errors_survive_pickling_with_their_family_and_evidence() -> None:
    err = ProviderTransientError("rate limited (HTTP 429)", provider="gemini:x", kind="rate_limited", status=429,
                                 retry_after=2.0)
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is ProviderTransientError and str(back) == str(err)
    assert (back.kind, back.status, back.retry_after, back.transient) == ("rate_limited", 429, 2.0, True)
    missing = pickle.loads(pickle.dumps(MissingKeyError(vendor="openai", variable="OPENAI_API_KEY")))
    assert missing.variable == "OPENAI_API_KEY" and "OPENAI_API_KEY" in str(missing)


def test_keys_are_scrubbed_from_what_is_shown(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.chdir(str(tmp_path))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-live-9f8e7d6c5b4a")
    text = redact("401: Incorrect API key provided: sk-live-9f8e7d6c5b4a; Authorization: Bearer abcdefghijklmnop")
    assert "sk-live-9f8e7d6c5b4a" not in text and "abcdefghijklmnop" not in text
    err = ProviderRefusedError("echoed sk-live-9f8e7d6c5b4a back", provider="openai:gpt-image-1")
    assert "sk-live" not in str(err)
