"""Session-wide servers for the scale-out backends (see tests/servers.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from servers import postgres_server, s3_server


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    with s3_server() as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with postgres_server() as url:
        yield url
