"""One registry shape for every stage: names and short names to providers, chains that fall back, the link a
chain must end with, the cloud vendors a spec needs keys for, and what one item costs with a spec."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import pytest

from functions.clips.providers import REGISTRY as CLIPS
from functions.clips.providers.fallback import FallbackClipProvider
from functions.music.providers import REGISTRY as MUSIC
from functions.plan.providers import REGISTRY as PLAN
from functions.plan.providers.fallback import FallbackPlanProvider
from functions.style.providers import REGISTRY as STYLE
from functions.style.providers.fallback import FallbackStyleProvider
from shared.errors import OptionError
from shared.models.base import ProviderAttempt
from shared.providers.errors import ProviderRefusedError
from shared.providers.fallback import Chain, ChainFailedError
from shared.providers.registry import Registry, without_models


@dataclass
class Priced:
    name: str
    usd_per_second: float = 0.0

    def estimate_usd(self, *, seconds: float) -> float:
        return self.usd_per_second * seconds

    def answer(self) -> str:
        if self.usd_per_second < 0:
            raise ProviderRefusedError("refused", provider=self.name)
        return self.name


class PricedChain(Chain[Priced]):
    stage = "test"


def registry(**options: object) -> Registry[Priced]:
    return Registry[Priced](
        what="test provider",
        factories={
            "local": without_models(lambda: Priced("local"), what="the local test provider"),
            "cloud": lambda model=None: Priced(f"cloud:{model or 'm1'}", 0.10 if model != "dear" else 0.50),
            "broken": lambda: Priced("broken", -1.0),
        },
        chain=PricedChain,
        aliases={"short": "cloud:dear"},
        **options,  # type: ignore[arg-type]
    )


def test_a_spec_builds_one_provider_or_a_chain_of_them_in_its_order() -> None:
    one = registry().build("cloud")
    assert isinstance(one, Priced) and one.name == "cloud:m1"
    chain = registry().build("cloud:dear, short ,local")
    assert isinstance(chain, PricedChain)
    assert [link.name for link in chain.links] == ["cloud:dear", "cloud:dear", "local"]
    assert chain.name == "cloud:dear,cloud:dear,local"


def test_a_chain_falls_back_and_keeps_why(caplog: pytest.LogCaptureFixture) -> None:
    chain = registry().build("broken,cloud")
    assert isinstance(chain, PricedChain)
    failed: list[ProviderAttempt] = []
    answer, link, attempts = chain.run(lambda p: p.answer(), on_failure=failed.append)
    assert (answer, link.name) == ("cloud:m1", "cloud:m1")
    assert [(a.provider, a.kind, a.reason) for a in attempts] == [("broken", "refused", "refused")]
    assert failed == attempts
    with pytest.raises(ChainFailedError, match=r"all 2 providers failed \(broken: refused; broken: refused\)"):
        registry().build("broken,broken").run(lambda p: p.answer())  # type: ignore[attr-defined]


def test_an_unknown_name_or_a_model_of_a_local_provider_is_one_clear_line() -> None:
    with pytest.raises(OptionError, match=r"^unknown test provider 'nope'; choose one of: local, cloud, broken, short"):
        registry().build("cloud,nope")
    with pytest.raises(OptionError, match=r"^the local test provider has no models \(got 'big'\)$"):
        registry().build("local:big")
    with pytest.raises(OptionError, match="no provider named"):
        registry().build(" , ")


def test_a_stages_registry_names_each_cloud_provider_by_its_vendor_and_its_local_one_local() -> None:
    class Acme(Priced):
        vendor = "acme"

        def __init__(self, model: str | None = None) -> None:
            super().__init__(f"acme:{model or 'm1'}", 0.2)

    stage = Registry[Priced].of_stage(what="test provider", local=lambda: Priced("local"), cloud=[Acme],
                                      chain=PricedChain, ends_with="local")
    assert stage.choices == ["local", "acme"]
    chain = stage.build("acme:big")
    assert isinstance(chain, PricedChain) and [link.name for link in chain.links] == ["acme:big", "local"]
    with pytest.raises(OptionError, match=r"^the local test provider has no models \(got 'big'\)$"):
        stage.build("local:big")
    for registry_, vendors in ((CLIPS, {"replicate", "gemini", "openai"}), (STYLE, {"gemini", "openai", "replicate"}),
                               (PLAN, {"gemini", "openai"}), (MUSIC, {"replicate"})):
        assert set(registry_.factories) == {"local", *vendors}


def test_a_chain_gets_the_link_it_must_end_with() -> None:
    ending = registry(ends_with="local")
    chain = ending.build("cloud")
    assert isinstance(chain, PricedChain) and [link.name for link in chain.links] == ["cloud:m1", "local"]
    assert isinstance(ending.build("local"), Priced), "a spec already ending with it is left alone"


def test_vendors_are_the_cloud_links_after_short_names_resolve() -> None:
    assert CLIPS.vendors("kling,veo,local") == ["replicate", "gemini"]
    assert MUSIC.vendors("musicgen") == ["replicate"]
    assert STYLE.vendors("local") == [] and PLAN.vendors("openai") == ["openai"]


def test_an_estimate_is_the_first_link_expected_and_the_dearest_at_worst() -> None:
    single = registry().estimate("cloud", seconds=10)
    assert (single.expected, single.worst, single.provider) == (pytest.approx(1.0), pytest.approx(1.0), "cloud:m1")
    chain = registry().estimate("cloud,short,local", seconds=10)
    assert (chain.expected, chain.worst) == (pytest.approx(1.0), pytest.approx(5.0))
    repaired = registry(worst_factor=2.0, worst_detail="a repair").estimate("cloud,local", seconds=10)
    assert (repaired.worst, repaired.detail) == (pytest.approx(2.0), "a repair")
    assert registry().estimate("local", seconds=10).worst == 0.0


def test_every_stage_builds_its_chains_through_one_registry() -> None:
    assert isinstance(STYLE.build("gemini,local"), FallbackStyleProvider)
    clips = CLIPS.build("kling,local")
    assert isinstance(clips, FallbackClipProvider)
    assert [link.name for link in clips.links] == ["replicate:kwaivgi/kling-v2.1", "local"]
    plan = PLAN.build("gemini")
    assert isinstance(plan, FallbackPlanProvider) and plan.links[-1].name == "local", "planning never fails a job"
    assert MUSIC.build("local").name == "local"
    for stage in (STYLE, PLAN, CLIPS, MUSIC):
        with pytest.raises(OptionError, match=f"unknown {stage.what} 'nope'"):
            stage.build("nope")
        with pytest.raises(OptionError, match="has no models"):
            stage.build("local:x")
    planned = PLAN.estimate("openai", request=SimpleNamespace(photos=[None] * 12))  # its price reads the count
    assert planned.expected > 0 and planned.worst == pytest.approx(2 * planned.expected)
    assert planned.detail == "worst case: a repair attempt"
