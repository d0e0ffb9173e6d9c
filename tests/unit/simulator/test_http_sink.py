"""The HTTP path: the real sink code posting batches to the service, and the command with --url."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import httpx
import pytest
import uvicorn
from django.core.management import CommandError, call_command
from fastapi.testclient import TestClient

from analytics.models import UserEvent
from analytics.models.events import EventSource
from analytics.simulator.sinks import DeliveryFailed, HttpSink
from tests.unit.simulator.conftest import END_DATE, Run


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def uvicorn_server(transactional_db: None) -> Iterator[str]:
    """The whole ASGI app served by uvicorn on a free local port (real sockets, real HTTP)."""
    from loopin_backend.asgi import application

    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(application, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


def test_the_http_sink_delivers_the_same_events_as_the_in_process_path(
    run: Run, client: TestClient, write_key: str, tmp_path: Path
) -> None:
    over_http = run(sink=HttpSink(client, key=write_key), defer_processing=False, data_dir=tmp_path / "http")
    assert over_http.delivery.stored == over_http.events == UserEvent.objects.count() > 500
    assert over_http.delivery.rejected == 0
    assert set(UserEvent.objects.values_list("source", flat=True).distinct()) == {EventSource.HTTP}
    in_process = run(data_dir=tmp_path / "local")
    assert in_process.delivery.stored == 0
    assert in_process.delivery.duplicates == over_http.events
    assert (tmp_path / "http" / "ground_truth.json").read_bytes() == (
        tmp_path / "local" / "ground_truth.json"
    ).read_bytes()


def test_a_refused_write_key_stops_the_run_with_the_reason(run: Run, client: TestClient) -> None:
    with pytest.raises(DeliveryFailed, match="refused the write key"):
        run(sink=HttpSink(client, key="lpk_not-a-real-key"), defer_processing=False)
    assert not UserEvent.objects.exists()


def test_an_unreachable_server_is_retried_then_reported() -> None:
    port = _free_port()
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=2) as client:
        sink = HttpSink(client, key="any", attempts=2, backoff=0.01)
        with pytest.raises(DeliveryFailed, match="after 2 attempts"):
            sink.send([{"event_name": "page_view", "properties": {"screen": "home"}}])


def test_the_command_sends_over_http_with_url_and_key(
    uvicorn_server: str, write_key: str, settings: object, tmp_path: Path
) -> None:
    settings.DATA_DIR = tmp_path  # type: ignore[attr-defined]
    output = StringIO()
    call_command(
        "simulate",
        users=30,
        days=7,
        seed=5,
        end_date=END_DATE,
        url=uvicorn_server,
        key=write_key,
        no_progress=True,
        stdout=output,
    )
    stored = UserEvent.objects.filter(source=EventSource.HTTP).count()
    assert stored > 100
    assert f"stored {stored:,}, duplicates 0, rejected 0" in output.getvalue()
    assert (tmp_path / "ground_truth.json").exists()


def test_the_command_reports_a_refused_key(uvicorn_server: str, settings: object, tmp_path: Path) -> None:
    settings.DATA_DIR = tmp_path  # type: ignore[attr-defined]
    with pytest.raises(CommandError, match="refused the write key"):
        call_command(
            "simulate",
            users=5,
            days=3,
            seed=5,
            end_date=END_DATE,
            url=uvicorn_server,
            key="lpk_wrong",
            no_progress=True,
        )
