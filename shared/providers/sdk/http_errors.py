"""The classification every SDK shares: an HTTP status (and body) or a transport exception → our family."""

from __future__ import annotations

from shared.providers.errors import (
    ProviderError,
    ProviderInputError,
    ProviderRefusedError,
    ProviderTransientError,
)

REFUSAL_MARKERS = (
    "content_policy", "content policy", "moderation", "safety", "nsfw", "flagged", "sensitive",
    "prohibited", "responsible ai", "rai", "e005",
)


def looks_like_refusal(*texts: object) -> bool:
    blob = " ".join(str(t).lower() for t in texts if t)
    return any(marker in blob for marker in REFUSAL_MARKERS)


def is_transport_timeout(exc: BaseException) -> bool:
    """A timeout from httpx (or the httpx2 fork some SDKs ship), without importing either eagerly."""
    for cls in type(exc).__mro__:
        if cls.__name__ in ("TimeoutException", "APITimeoutError", "ReadTimeout", "ConnectTimeout", "WriteTimeout",
                            "PoolTimeout", "TimeoutError"):
            return True
    return False


def is_transport_failure(exc: BaseException) -> bool:
    """A dropped or refused connection (httpx / httpx2 TransportError, ConnectionError)."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    return bool(names & {"TransportError", "NetworkError", "ConnectError", "RemoteProtocolError", "ConnectionError",
                         "APIConnectionError"})


def from_status(
    *,
    provider: str,
    status: int,
    message: str,
    retry_after: float | None = None,
    refusal_hint: object = None,
) -> ProviderError:
    """Our error for an HTTP error answer."""
    if status == 429:
        return ProviderTransientError(f"rate limited (HTTP 429): {message}", provider=provider, kind="rate_limited",
                                      status=status, retry_after=retry_after)
    if status == 408 or status >= 500:
        return ProviderTransientError(f"server error (HTTP {status}): {message}", provider=provider, kind="server",
                                      status=status, retry_after=retry_after)
    if status in (401, 403):
        return ProviderInputError(f"credentials refused (HTTP {status}): {message}", provider=provider, kind="auth",
                                  status=status, hint="check the provider's key and that it may use this model")
    if looks_like_refusal(message, refusal_hint):
        return ProviderRefusedError(f"refused by the content policy (HTTP {status}): {message}", provider=provider,
                                    status=status)
    return ProviderInputError(f"request rejected (HTTP {status}): {message}", provider=provider, status=status)


def from_transport(*, provider: str, exc: BaseException) -> ProviderError | None:
    if is_transport_timeout(exc):
        return ProviderTransientError("timed out", provider=provider, kind="timeout")
    if is_transport_failure(exc):
        return ProviderTransientError(f"connection failed ({exc.__class__.__name__})", provider=provider,
                                      kind="server")
    return None
