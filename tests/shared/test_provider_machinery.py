"""The shared provider machinery on its own: Retry-After in its three spellings and Google's RetryInfo,
errors that cross a process boundary whole (Modal pickles them), keys scrubbed from anything shown, and the
SDKs imported whole, one at a time, before threads use them."""

from __future__ import annotations

import importlib
import pickle
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from shared.providers.errors import ProviderRefusedError, ProviderTransientError
from shared.providers.keys import MissingKeyError, redact
from shared.providers.retry import RetryPolicy, parse_retry_after, should_retry
from shared.providers.sdk.gemini import retry_delay
from shared.providers.sdk.imports import import_modules


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


def test_googles_retry_info_is_read_from_the_error_body() -> None:
    body = {"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "details": [
        {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": []},
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "37.250s"}]}}
    assert retry_delay(body) == 37.25
    assert retry_delay({"error": {"code": 429, "details": [{"@type": "type.googleapis.com/google.rpc.Help"}]}}) is None
    assert retry_delay({"error": {"details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo",
                                               "retryDelay": "soon"}]}}) is None
    assert retry_delay("not json") is None


def circular_packages(root: Path, *, prefix: str) -> tuple[str, str]:
    """Two packages that import each other (slowly), each fine to import first on its own, the way SDKs
    and their HTTP stack do. Imported for the first time from two threads at once, each thread holds one
    module's import lock and waits for the other's; Python breaks that deadlock by handing the second
    thread the first one's module half-initialised."""
    a, b = f"{prefix}_sdk", f"{prefix}_http"
    (root / a).mkdir()
    (root / a / "__init__.py").write_text(f"import time\ntime.sleep(0.2)\nimport {b}\ntime.sleep(0.5)\n"
                                          "Client = object\n")
    (root / b).mkdir()
    (root / b / "__init__.py").write_text(f"import time\ntime.sleep(0.5)\nimport {a}\n"
                                          f"def client():\n    return {a}.Client\n")
    return a, b


def first_imports_at_once(names: tuple[str, str], load: object) -> list[str]:
    barrier, errors = threading.Barrier(2), []

    def one(name: str) -> None:
        barrier.wait()
        try:
            load(name)  # type: ignore[operator]
            module = sys.modules[name]
            module.client() if hasattr(module, "client") else module.Client
        except Exception as exc:
            errors.append(f"{name}: {exc.__class__.__name__}: {exc}")

    threads = [threading.Thread(target=one, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_first_imports_from_many_threads_are_one_at_a_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))
    loose = circular_packages(tmp_path, prefix="loose")
    guarded = circular_packages(tmp_path, prefix="guarded")
    try:
        # The hazard is real: plain imports from two threads at once hand out a half-built module.
        assert any("partially initialized module" in e for e in first_imports_at_once(loose, importlib.import_module))
        assert first_imports_at_once(guarded, import_modules) == []
    finally:
        for name in (*loose, *guarded):
            sys.modules.pop(name, None)


def test_a_provider_chain_imports_its_sdks_whole_when_it_is_built() -> None:
    """Before a pool runs any call: a fresh interpreter, as a worker process starts."""
    code = (
        "import sys\n"
        "from functions.clips.providers import get_provider\n"
        "sdks = ('httpx', 'google.genai', 'google.genai.errors', 'openai', 'replicate', 'replicate.exceptions')\n"
        "before = [m for m in sdks if m in sys.modules]\n"
        "get_provider('kling,veo,sora,local')\n"
        "print(before, [m for m in sdks if m not in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=Path(__file__).resolve().parents[2], check=True)
    assert out.stdout.strip() == "[] []", out.stderr[-2000:]


def test_a_missing_sdk_fails_its_link_with_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    from functions.style.providers import get_provider
    from shared.providers.sdk.imports import MissingSDKError, import_sdk

    monkeypatch.setitem(sys.modules, "google.genai", None)  # what `import google.genai` meets when not installed
    chain = get_provider("gemini,local")  # building the chain does not fail
    with pytest.raises(MissingSDKError, match="the google-genai package is not installed") as missing:
        import_sdk("gemini")
    assert "momentloop[cloud]" in missing.value.hint
    assert chain.name == "gemini:gemini-2.5-flash-image,local"
