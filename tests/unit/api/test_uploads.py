"""The upload gate's shares (analytics/api/uploads.py): concurrent uploads and buffered bytes per IP
prefix (429, that client only) and buffered bytes per process (503 for everyone, memory bounded).
The server-level attacks (stalled connections against a real uvicorn) are in
tests/integration/test_slow_clients.py."""

from __future__ import annotations

import asyncio

import pytest

from analytics.api.uploads import UploadGate, UploadLimits
from analytics.errors import TooManyRequests, Unavailable

MB = 1024 * 1024


def _gate(*, per_prefix: int = 2, prefix_bytes: int = 3 * MB, total_bytes: int = 5 * MB) -> UploadGate:
    return UploadGate(
        UploadLimits(
            per_prefix=per_prefix,
            prefix_bytes=prefix_bytes,
            total_bytes=total_bytes,
            idle_seconds=1,
            deadline_seconds=1,
            processing_slots=1,
        )
    )


def test_an_address_past_its_concurrent_uploads_is_refused_429_while_another_is_admitted() -> None:
    async def scenario() -> None:
        gate = _gate(per_prefix=2)
        async with gate.upload("203.0.113.0/24"), gate.upload("203.0.113.0/24"):
            with pytest.raises(TooManyRequests) as refused:
                async with gate.upload("203.0.113.0/24"):
                    pass
            assert refused.value.code == "too_many_uploads"
            assert refused.value.retry_after >= 1
            async with gate.upload("198.51.100.0/24"):
                assert gate.uploads == {"203.0.113.0/24": 2, "198.51.100.0/24": 1}
        assert not gate.uploads  # everything released: the address is admitted again
        async with gate.upload("203.0.113.0/24"):
            pass

    asyncio.run(scenario())


def test_an_address_past_its_buffered_bytes_is_refused_429_and_others_keep_their_room() -> None:
    async def scenario() -> None:
        gate = _gate(prefix_bytes=3 * MB, total_bytes=10 * MB)
        async with gate.upload("203.0.113.0/24") as first, gate.upload("203.0.113.0/24") as second:
            first.reserve(2 * MB)
            with pytest.raises(TooManyRequests) as refused:
                second.reserve(2 * MB)
            assert refused.value.code == "too_many_uploads"
            assert second.buffered == 0  # a refused reservation charges nothing
            async with gate.upload("198.51.100.0/24") as other:
                other.reserve(3 * MB)
            assert gate.total_bytes == 2 * MB
        assert gate.total_bytes == 0 and not gate.prefix_bytes

    asyncio.run(scenario())


def test_the_process_wide_buffer_is_bounded_with_503_server_busy() -> None:
    async def scenario() -> None:
        gate = _gate(prefix_bytes=3 * MB, total_bytes=5 * MB)
        async with gate.upload("203.0.113.0/24") as a, gate.upload("198.51.100.0/24") as b:
            a.reserve(3 * MB)
            with pytest.raises(Unavailable) as refused:
                b.reserve(3 * MB)
            assert refused.value.code == "server_busy"
            b.reserve(2 * MB)  # exactly the rest of the buffer
            assert gate.total_bytes == 5 * MB
        assert gate.total_bytes == 0

    asyncio.run(scenario())


def test_release_on_an_error_frees_the_share_of_an_upload_that_failed_half_way() -> None:
    async def scenario() -> None:
        gate = _gate()
        with pytest.raises(RuntimeError):
            async with gate.upload("203.0.113.0/24") as ticket:
                ticket.reserve(MB)
                raise RuntimeError("the client went away")
        assert gate.total_bytes == 0 and not gate.prefix_bytes and not gate.uploads

    asyncio.run(scenario())
