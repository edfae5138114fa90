"""Provider names → providers, one registry per stage; a comma-separated spec ("kling,veo,local") builds
a chain of them.

A stage's providers/__init__.py declares its registry: a factory per name (called with the link's model
when one is named, "replicate:owner/name"), the short names it accepts ("kling" → a Replicate model), its
chain class, and the link every chain must end with when the stage may never fail (the local planner).
What a spec would cost comes from its links' own `estimate_usd`: the first link's price is what is
expected, the dearest link's what it may cost at worst."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Generic, Protocol, TypeVar

from shared.errors import OptionError
from shared.providers.fallback import Chain, Link, Named, parse_chain
from shared.providers.keys import KEY_VARIABLES
from shared.providers.prices import ItemEstimate

P = TypeVar("P", bound=Named)
P_co = TypeVar("P_co", covariant=True)


class Vendored(Protocol[P_co]):
    """A cloud provider's class: built with the model a spec names (or its default), under its vendor's name."""

    vendor: str

    def __call__(self, model: str | None = None) -> P_co: ...


def without_models(make: Callable[[], P], *, what: str) -> Callable[..., P]:
    """The factory of a provider that has no models (the local ones): "local:anything" is refused."""

    def factory(model: str | None = None) -> P:
        if model:
            raise OptionError(f"{what} has no models (got {model!r})")
        return make()

    return factory


def link_cost(provider: object, **params: object) -> float:
    """What one call of `provider` costs with `params` (the stage's estimate_usd arguments); free without one."""
    estimate = getattr(provider, "estimate_usd", None)
    return float(estimate(**params)) if estimate is not None else 0.0


class Registry(Generic[P]):
    """The providers of one stage, by name."""

    def __init__(
        self,
        *,
        what: str,
        factories: dict[str, Callable[..., P]],
        chain: Callable[[list[P]], P],
        aliases: Mapping[str, str] | None = None,
        ends_with: str | None = None,
        worst_factor: float = 1.0,
        worst_detail: str = "",
    ) -> None:
        self.what = what
        """How messages name one of them ("clip provider")."""
        self.factories = factories
        self.chain = chain
        self.aliases = dict(aliases or {})
        self.ends_with = ends_with
        """The link appended to a chain that does not end with it."""
        self.worst_factor = worst_factor
        """How many calls a chain's dearest link may make for one item (a planner's repair: 2)."""
        self.worst_detail = worst_detail

    @classmethod
    def of_stage(
        cls,
        *,
        what: str,
        local: Callable[[], P],
        cloud: Sequence[Vendored[P]],
        chain: Callable[[list[P]], P],
        aliases: Mapping[str, str] | None = None,
        ends_with: str | None = None,
        worst_factor: float = 1.0,
        worst_detail: str = "",
    ) -> Registry[P]:
        """A stage's registry: its offline provider as "local" (it has no models), and each cloud provider
        under the name of its vendor (its `vendor`: the name its key and SDK go by too)."""
        factories: dict[str, Callable[..., P]] = {"local": without_models(local, what=f"the local {what}")}
        factories.update({provider.vendor: provider for provider in cloud})
        return cls(what=what, factories=factories, chain=chain, aliases=aliases, ends_with=ends_with,
                   worst_factor=worst_factor, worst_detail=worst_detail)

    @property
    def choices(self) -> list[str]:
        return [*self.factories, *self.aliases]

    def links(self, spec: str) -> list[Link]:
        return parse_chain(spec, aliases=self.aliases)

    def build(self, spec: str) -> P:
        """The provider (or chain) `spec` names; an unknown name is an OptionError that lists the valid ones."""
        providers = [self._make(link) for link in self.links(spec)]
        if self.ends_with is not None and providers[-1].name != self.ends_with:
            providers.append(self._make(Link(name=self.ends_with)))
        return providers[0] if len(providers) == 1 else self.chain(providers)

    def _make(self, link: Link) -> P:
        try:
            factory = self.factories[link.name]
        except KeyError:
            raise OptionError(f"unknown {self.what} {link.name!r}; choose one of: {', '.join(self.choices)}") from None
        return factory(link.model) if link.model else factory()

    def vendors(self, spec: str) -> list[str]:
        """The cloud vendors `spec` calls, in its order: each needs its key."""
        return [link.name for link in self.links(spec) if link.name in KEY_VARIABLES]

    def estimate(self, spec: str, **params: object) -> ItemEstimate:
        """What one item costs with `spec`: with its first link (expected), and with its dearest (worst)."""
        provider = self.build(spec)
        if not isinstance(provider, Chain):
            cost = link_cost(provider, **params)
            return ItemEstimate(expected=cost, worst=cost, provider=provider.name)
        costs = [link_cost(link, **params) for link in provider.links]
        return ItemEstimate(expected=costs[0], worst=max(costs) * self.worst_factor, provider=provider.name,
                            detail=self.worst_detail)
