"""Keys and endpoints of the cloud providers, read from the environment (or .env) when a client is built.

The variables are the providers' own names (GEMINI_API_KEY, OPENAI_API_KEY, REPLICATE_API_TOKEN) and
each SDK's endpoint can be moved to a proxy, a gateway or a test server (GEMINI_BASE_URL, OPENAI_BASE_URL,
REPLICATE_BASE_URL). Keys are SecretStr: they never appear in a repr, a log line or an error message."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Literal

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.errors import InputError, PicklesWhole

Vendor = Literal["gemini", "openai", "replicate"]

KEY_VARIABLES: dict[str, str] = {
    "gemini": "GEMINI_API_KEY",
    "openai": "OPENAI_API_KEY",
    "replicate": "REPLICATE_API_TOKEN",
}
BASE_URL_VARIABLES: dict[str, str] = {
    "gemini": "GEMINI_BASE_URL",
    "openai": "OPENAI_BASE_URL",
    "replicate": "REPLICATE_BASE_URL",
}


class MissingKeyError(PicklesWhole, InputError):
    """A cloud provider was chosen but its key is not set. Names the variable, never a value."""

    def __init__(self, *, vendor: str, variable: str, chosen_for: str = "") -> None:
        where = f" (chosen for {chosen_for})" if chosen_for else ""
        super().__init__(
            f"provider {vendor!r}{where} needs {variable}, which is not set",
            hint=f"export {variable}=... (or put it in .env), or choose the 'local' provider",
        )
        self.vendor = vendor
        self.variable = variable


class ProviderKeys(BaseSettings):
    """The providers' own variables, without the MOMENTLOOP_ prefix: the keys section of the settings family
    (`Settings.provider_keys`, shared/settings.py), built afresh each time it is asked for."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    gemini_api_key: SecretStr | None = None
    openai_api_key: SecretStr | None = None
    replicate_api_token: SecretStr | None = None
    gemini_base_url: str | None = None
    openai_base_url: str | None = None
    replicate_base_url: str | None = None

    def key(self, vendor: str) -> SecretStr | None:
        value: SecretStr | None = getattr(self, KEY_VARIABLES[vendor].lower())
        if value is None or not value.get_secret_value().strip():
            return None
        return value

    def base_url(self, vendor: str) -> str | None:
        value: str | None = getattr(self, BASE_URL_VARIABLES[vendor].lower())
        return value.strip() or None if value else None


def provider_keys() -> ProviderKeys:
    """Read afresh on every call: a key set (or rotated) after start-up is used by the next client."""
    return ProviderKeys()


def require_key(vendor: str, *, chosen_for: str = "") -> str:
    """The key of `vendor`, or a MissingKeyError naming its variable."""
    secret = provider_keys().key(vendor)
    if secret is None:
        raise MissingKeyError(vendor=vendor, variable=KEY_VARIABLES[vendor], chosen_for=chosen_for)
    return secret.get_secret_value().strip()


def check_keys(*, chosen: Mapping[str, Iterable[str]], strict: bool = True) -> list[str]:
    """Every vendor of `chosen` (what each stage calls: {"clips": ["replicate", "gemini"]}) must have its key.
    Strict: the first one without raises MissingKeyError; not strict (a dry run): they come back as warnings."""
    keys = provider_keys()
    warnings: list[str] = []
    for stage, vendors in chosen.items():
        for vendor in vendors:
            if keys.key(vendor) is None:
                err = MissingKeyError(vendor=vendor, variable=KEY_VARIABLES[vendor], chosen_for=stage)
                if strict:
                    raise err
                warnings.append(str(err))
    return warnings


_BEARER = re.compile(r"(?i)(bearer\s+|token\s+|key=|api[_-]?key[\"':= ]+)[A-Za-z0-9._\-]{8,}")


def redact(text: str) -> str:
    """`text` with every configured key, and anything shaped like a credential, replaced by ***.

    Error bodies from providers sometimes echo the request (or a key fragment); nothing we log or show
    may carry one."""
    keys = provider_keys()
    for vendor in KEY_VARIABLES:
        secret = keys.key(vendor)
        if secret is not None:
            value = secret.get_secret_value().strip()
            if len(value) >= 4:
                text = text.replace(value, "***")
    return _BEARER.sub(lambda m: m.group(1) + "***", text)
