"""The settings family: every variable the README and docs/ name reaches its setting under that exact name,
the sections are parts of one root, and provider keys are read afresh and never shown."""

from __future__ import annotations

import re
import types
import typing
from pathlib import Path

import annotated_types
import pytest
from pydantic import SecretStr
from pydantic.fields import FieldInfo

from api.ratelimit import RateLimit
from api.settings import ServerSettings
from shared.providers.keys import ProviderKeys
from shared.settings import ScaleSettings, Settings, forwarded_variables, setting_variables

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
OURS = re.compile(r"\b(?:MOMENTLOOP|GEMINI|OPENAI|REPLICATE)_[A-Z0-9_]*[A-Z0-9]\b")
NOT_SETTINGS = {
    "MOMENTLOOP_FFMPEG": "read by shared/media/ffmpeg.py before any settings exist (tests/shared/test_media_ffmpeg.py)",
    "MOMENTLOOP_LIVE_TESTS": "switches on the tests that call the real providers",
    "MOMENTLOOP_TEST_POSTGRES_URL": "the PostgreSQL server the tests use",
}


def documented() -> set[str]:
    return {name for doc in DOCUMENTS for name in OURS.findall(doc.read_text())}


@pytest.fixture()
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No variable of ours set, and no .env file where the settings look for one."""
    monkeypatch.chdir(tmp_path)
    for name in setting_variables(ServerSettings):
        monkeypatch.delenv(name, raising=False)


def _field(path: str) -> FieldInfo:
    section: type = ServerSettings
    *parents, name = path.split(".")
    for parent in parents:
        section = {"scale": ScaleSettings, "provider_keys": ProviderKeys}[parent]
    return section.model_fields[name]  # type: ignore[attr-defined, no-any-return]


def _top(field: FieldInfo) -> float | None:
    for rule in field.metadata:
        if isinstance(rule, annotated_types.Le):
            return float(rule.le)  # type: ignore[arg-type]
    return None


def sample(field: FieldInfo) -> tuple[str, object]:
    """A value for `field` other than its default, as the variable's text and as the setting reads it."""
    kind = field.annotation
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        kind = next(k for k in typing.get_args(kind) if k is not type(None))
    default = field.get_default(call_default_factory=True)
    if typing.get_origin(kind) is typing.Literal:
        other = next(v for v in typing.get_args(kind) if v != default)
        return str(other), other
    if kind is bool:
        return str(not default).lower(), not default
    if kind in (int, float):
        step = 1 if kind is int else 0.25
        value = 3 if default is None else default + step
        top = _top(field)
        if top is not None and value > top:
            value = default - step
        return str(value), value
    if kind is Path:
        return "/srv/momentloop-sample", Path("/srv/momentloop-sample")
    if kind is SecretStr:
        return "sk-sample-0123456789", "sk-sample-0123456789"
    if kind is RateLimit:
        return '{"burst": 7, "per_minute": 2.5}', RateLimit(burst=7, per_minute=2.5)
    assert kind is str, f"no sample for {kind}"
    return "sample-value", "sample-value"


def _read(settings: ServerSettings, path: str) -> object:
    value: object = settings
    for part in path.split("."):
        value = getattr(value, part)
    return value.get_secret_value() if isinstance(value, SecretStr) else value


def test_every_documented_variable_is_a_setting_of_the_family() -> None:
    names = documented()
    assert {"MOMENTLOOP_STORE", "MOMENTLOOP_DATABASE_URL", "GEMINI_API_KEY", "REPLICATE_API_TOKEN"} <= names
    unknown = sorted(names - set(setting_variables(ServerSettings)) - set(NOT_SETTINGS))
    assert unknown == [], f"documented but read by no setting: {unknown}"


@pytest.mark.usefixtures("clean_environment")
@pytest.mark.parametrize("variable", sorted(setting_variables(ServerSettings)))
def test_each_variable_reaches_its_setting(monkeypatch: pytest.MonkeyPatch, variable: str) -> None:
    path = setting_variables(ServerSettings)[variable]
    text, expected = sample(_field(path))
    assert _read(ServerSettings(), path) != expected, "the sample must differ from the default"
    monkeypatch.setenv(variable, text)
    assert _read(ServerSettings(), path) == expected


@pytest.mark.usefixtures("clean_environment")
def test_sections_are_read_with_the_root_and_can_be_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOMENTLOOP_STORE", "s3")
    monkeypatch.setenv("MOMENTLOOP_S3_BUCKET", "videos")
    settings = Settings(data_dir=Path("/srv/data"))
    assert (settings.scale.store, settings.scale.s3_bucket, settings.data_dir) == ("s3", "videos", Path("/srv/data"))
    assert Settings(scale=ScaleSettings(store="local")).scale.store == "local"
    server = ServerSettings(**Settings(output_crf=30).model_dump())
    assert (server.output_crf, server.scale.store, server.max_photos) == (30, "s3", 40)


@pytest.mark.usefixtures("clean_environment")
def test_keys_are_read_when_asked_for_and_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings()
    assert settings.provider_keys.key("gemini") is None
    monkeypatch.setenv("GEMINI_API_KEY", "AIza-secret-0123456789")
    key = settings.provider_keys.key("gemini")
    assert key is not None and key.get_secret_value() == "AIza-secret-0123456789", "a key set after start-up is used"
    shown = " ".join([repr(settings), str(settings), repr(settings.provider_keys), str(settings.model_dump())])
    assert "AIza-secret" not in shown
    assert "GEMINI_API_KEY" not in forwarded_variables(ServerSettings), "keys travel as Modal Secrets only"


def test_what_stays_on_the_deploying_machine_is_marked_on_its_field() -> None:
    stays = set(setting_variables(ServerSettings)) - forwarded_variables(ServerSettings)
    assert {"MOMENTLOOP_DATA_DIR", "MOMENTLOOP_WORKERS", "MOMENTLOOP_EXECUTOR", "MOMENTLOOP_DATABASE_URL",
            "MOMENTLOOP_WEB_DIR"} <= stays
    assert {"MOMENTLOOP_UPLOAD_RATE", "MOMENTLOOP_MAX_PHOTOS", "MOMENTLOOP_STORE", "MOMENTLOOP_CLIP_PROVIDER",
            "MOMENTLOOP_JOB_LEASE_SECONDS"} <= forwarded_variables(ServerSettings)
