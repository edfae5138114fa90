"""Everything about calling a cloud provider, in one place; the stages' providers build on it.

    errors.py       what can go wrong, one type per family (and what each family makes happen next)
    keys.py         the providers' keys and endpoints (a section of the settings, read when a client is built)
    retry.py        backoff and jitter for transient failures, and nothing else
    fallback.py     chains of providers: the next link when one fails, with the reason kept
    registry.py     provider names → providers and chains, one registry per stage
    concurrency.py  calls in flight per provider
    downloads.py    fetching what a provider made, refused unless it is what was asked for
    prices.py       what a call costs at list price, and what a stage item would cost
    sdk/            the official SDKs' clients, their errors translated, and their one-time import

Nothing here imports a stage (functions/) or a way in (api/): what a whole job costs, and its budget,
are the pipeline's (functions/pipeline/cost/)."""
