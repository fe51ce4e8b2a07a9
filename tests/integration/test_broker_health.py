"""/health says the broker is down within seconds of losing it: cut, or hung.

The broker is reached through a TCP proxy of the test's own (the shared Redis
and RabbitMQ servers are never stopped). Cutting the proxy closes every
connection, as a broker host that goes down would; stalling it keeps them open
and answers nothing, as a broker that hangs would. Either way each /health
answers within a few seconds, says the broker is unhealthy, and says it is
healthy again once the proxy forwards again.

Seen before: RabbitMQ's check read a flag of a connection opened earlier, which
nothing had told of the outage, and answered healthy throughout.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient

from simdock_adapters.http import create_app
from simdock_adapters.settings import Settings
from tests.brokers import queue_prefix, require_rabbitmq, require_redis
from tests.stalling_proxy import StallingProxy

#: Longest a /health may take while the broker is away, seconds.
ANSWER_SECONDS = 3.5
#: How soon after the outage /health must say so, seconds.
NOTICED_SECONDS = 5.0


def through(proxy: StallingProxy, url: str) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    host = f"127.0.0.1:{proxy.port}"
    netloc[-1] = host
    return parts._replace(netloc="@".join(netloc)).geturl()


@pytest.fixture(params=["redis", "rabbitmq"])
def broker(request: pytest.FixtureRequest) -> tuple[str, str]:
    url = require_redis() if request.param == "redis" else require_rabbitmq()
    return request.param, url


@pytest.fixture
def proxied(broker: tuple[str, str], tmp_path: Path
            ) -> Iterator[tuple[StallingProxy, FlaskClient]]:
    kind, url = broker
    port = urlsplit(url).port or (6379 if kind == "redis" else 5672)
    with StallingProxy(("127.0.0.1", port)) as proxy:
        settings = Settings.model_validate({
            "database_url": f"sqlite:///{tmp_path}/simdock.db",
            "artifacts_path": str(tmp_path / "artifacts"),
            "broker_queue_prefix": queue_prefix(), f"{kind}_url": through(proxy, url)})
        app = create_app(settings)
        try:
            yield proxy, app.test_client()
        finally:
            app.extensions["simdock"].platform.close()


def broker_state(client: FlaskClient) -> tuple[str, float]:
    started = time.monotonic()
    answer = client.get("/health")
    took = time.monotonic() - started
    return answer.get_json()["services"]["broker"], took


def wait_for(client: FlaskClient, state: str) -> float:
    """Seconds until /health says the broker is ``state``; each answer is timely."""
    started = time.monotonic()
    while True:
        seen, took = broker_state(client)
        assert took < ANSWER_SECONDS, f"/health took {took:.1f} s"
        if seen == state:
            return time.monotonic() - started
        assert time.monotonic() - started < NOTICED_SECONDS, f"still {seen}"
        time.sleep(0.2)


@pytest.mark.parametrize("outage", ["cut", "hung"])
def test_health_says_the_broker_is_down_within_seconds_and_up_again_after(
        proxied: tuple[StallingProxy, FlaskClient], outage: str) -> None:
    proxy, client = proxied
    assert broker_state(client)[0] == "healthy"
    assert broker_state(client)[0] == "healthy"  # a connection is open and in use
    away: Callable[[], AbstractContextManager[None]] = \
        proxy.down if outage == "cut" else proxy.stalled
    with away():
        noticed = wait_for(client, "unhealthy")
        seen, took = broker_state(client)
        assert seen == "unhealthy" and took < ANSWER_SECONDS
    print(f"{outage}: unhealthy after {noticed:.2f} s")
    wait_for(client, "healthy")
