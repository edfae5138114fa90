"""Which bytes a `Range` header asks for, as the video route answers it from any store (RFC 9110)."""

from __future__ import annotations

import pytest

from api.files import ByteRange, UnsatisfiableRangeError, parse_range


@pytest.mark.parametrize(("header", "expected"), [
    (None, None),
    ("bytes=0-99", ByteRange(0, 99)),
    ("bytes=100-", ByteRange(100, 999)),
    ("bytes=900-5000", ByteRange(900, 999)),  # an end past the file is the file's end
    ("bytes=-64", ByteRange(936, 999)),
    ("bytes=-5000", ByteRange(0, 999)),
    ("bytes=0-0", ByteRange(0, 0)),
    ("bytes=0-9,20-29", None),  # several ranges: the whole file is a valid answer
    ("items=0-9", None),
    ("bytes=9-0", None),
    ("bytes=-", None),
])
def test_the_range_a_player_asks_for(header: str | None, expected: ByteRange | None) -> None:
    assert parse_range(header, size=1000) == expected


@pytest.mark.parametrize(("header", "size"), [("bytes=1000-", 1000), ("bytes=1010-1020", 1000), ("bytes=-0", 1000),
                                              ("bytes=0-", 0)])
def test_a_range_past_the_end_is_unsatisfiable(header: str, size: int) -> None:
    with pytest.raises(UnsatisfiableRangeError):
        parse_range(header, size=size)
