"""Seed 002 over HTTP and WebSocket: machines, convergence data, live updates, placement.

The server leaves runs queued (``DISPATCH=database``, no worker), so a run
stays unfinished, emits no metrics of its own, and finishes exactly when a
test cancels it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.e2e.helpers import (
    SECRET_KEY,
    User,
    assert_envelope,
    assert_page,
    register_and_login,
    sse_events,
)
from tests.e2e.servers import running_server

SERVER_ENV = {"DISPATCH": "database"}


def new_run(user: User, **extra: Any) -> str:
    response = user.post("/api/v1/jobs", json={"simulation_type": "noop", **extra})
    assert response.status_code == 201, response.text
    return str(response.json()["jobs"][0])


def add_point(user: User, run_id: str, loss: float, **extra: Any) -> dict[str, Any]:
    response = user.post("/api/v1/convergence/data",
                         json={"simulation_id": run_id, "loss_value": loss, **extra})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def cancel(user: User, run_id: str) -> None:
    response = user.delete(f"/api/v1/jobs/{run_id}")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"


# -- machines ----------------------------------------------------------------


@pytest.fixture(scope="module")
def machine(user: User) -> dict[str, Any]:
    response = user.post("/api/v1/machines", json={
        "name": "gpu-node-1", "cpu": "AMD EPYC 7763 (64 cores)", "gpu": "NVIDIA A100",
        "memory": 512})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_create_a_machine(machine: dict[str, Any], user: User) -> None:
    assert machine["id"].startswith("mach-")
    assert machine["name"] == "gpu-node-1" and machine["gpu"] == "NVIDIA A100"
    assert machine["memory"] == 512 and machine["status"] == "available"
    assert machine["created_at"]
    cpu_only = user.post("/api/v1/machines", json={"name": "cpu-node", "cpu": "Xeon",
                                                   "memory_gb": 64, "status": "busy"})
    assert cpu_only.status_code == 201, cpu_only.text
    assert cpu_only.json()["gpu"] is None and cpu_only.json()["memory"] == 64
    assert cpu_only.json()["status"] == "busy"


def test_list_and_get_machines(machine: dict[str, Any], user: User) -> None:
    listed = user.get("/api/v1/machines?page=1&page_size=100")
    assert listed.status_code == 200
    assert_page(listed.json(), 1, 100)
    assert machine["id"] in [m["id"] for m in listed.json()["items"]]
    got = user.get(f"/api/v1/machines/{machine['id']}")
    assert got.status_code == 200 and got.json()["id"] == machine["id"]
    assert_envelope(user.get("/api/v1/machines/mach-00000000000000000"), 404,
                    "ResourceNotFound")


def test_machine_status_changes(user: User) -> None:
    created = user.post("/api/v1/machines", json={"name": "flip", "cpu": "arm", "memory": 8})
    machine_id = created.json()["id"]
    previous = created.json()["updated_at"]
    for status in ("busy", "maintenance", "available", "maintenance"):
        response = user.patch(f"/api/v1/machines/{machine_id}/status", json={"status": status})
        assert response.status_code == 200, response.text
        assert response.json()["status"] == status
        assert response.json()["updated_at"] >= previous
        previous = response.json()["updated_at"]
        assert user.get(f"/api/v1/machines/{machine_id}").json()["status"] == status
        listed = user.get(f"/api/v1/machines?status={status}&size=1000").json()["items"]
        assert machine_id in [m["id"] for m in listed]
        assert {m["status"] for m in listed} == {status}


def test_a_bad_machine_status_is_422(user: User, machine: dict[str, Any]) -> None:
    for body in ({"status": "broken"}, {"status": "BUSY"}, {"status": None}, {},
                 {"status": "busy", "extra": 1}):
        response = user.patch(f"/api/v1/machines/{machine['id']}/status", json=body)
        assert_envelope(response, 422, "InvalidParameterValue")
    assert_envelope(user.get("/api/v1/machines?status=broken"), 422)
    assert user.get(f"/api/v1/machines/{machine['id']}").json()["status"] == "available"
    unknown = user.patch("/api/v1/machines/mach-00000000000000000/status",
                         json={"status": "busy"})
    assert_envelope(unknown, 404, "ResourceNotFound")


# -- convergence data --------------------------------------------------------


def test_add_and_read_convergence_data(user: User) -> None:
    run_id = new_run(user)
    first = add_point(user, run_id, 0.9)
    assert first == {"run_id": run_id, "name": "loss", "step": 0, "value": 0.9,
                     "timestamp": first["timestamp"], "simulation_id": run_id,
                     "loss_value": 0.9}
    assert add_point(user, run_id, 0.5)["step"] == 1
    explicit = user.post("/api/v1/convergence/data", json={
        "run_id": run_id, "value": 0.25, "step": 10, "timestamp": "2030-01-01T00:00:00"})
    assert explicit.status_code == 201, explicit.text
    assert explicit.json()["step"] == 10
    assert explicit.json()["timestamp"].startswith("2030-01-01T00:00:00")
    add_point(user, run_id, 0.7, name="val_loss")

    data = user.get(f"/api/v1/convergence/{run_id}/data")
    assert data.status_code == 200, data.text
    body = data.json()
    assert body["run_id"] == run_id and body["complete"] is False
    loss = [(p["step"], p["value"]) for p in body["points"] if p["name"] == "loss"]
    assert loss == [(0, 0.9), (1, 0.5), (10, 0.25)]
    assert {p["name"] for p in body["points"]} == {"loss", "val_loss"}
    only = user.get(f"/api/v1/convergence/{run_id}/data?name=val_loss").json()
    assert [(p["step"], p["value"]) for p in only["points"]] == [(0, 0.7)]


def test_convergence_graph_and_its_complete_flag(user: User) -> None:
    run_id = new_run(user)
    for loss in (1.0, 0.6, 0.3):
        add_point(user, run_id, loss)
    graph = user.get(f"/api/v1/convergence/{run_id}/graph")
    assert graph.status_code == 200, graph.text
    body = graph.json()
    assert body["run_id"] == run_id and body["name"] == "loss"
    assert body["steps"] == [0, 1, 2] and body["values"] == [1.0, 0.6, 0.3]
    assert len(body["timestamps"]) == 3 and body["count"] == 3
    assert body["complete"] is False
    cancel(user, run_id)
    assert user.get(f"/api/v1/convergence/{run_id}/graph").json()["complete"] is True
    assert user.get(f"/api/v1/convergence/{run_id}/data").json()["complete"] is True
    empty = user.get(f"/api/v1/convergence/{run_id}/graph?name=nothing").json()
    assert empty["count"] == 0 and empty["steps"] == []


def test_incremental_stream(user: User) -> None:
    run_id = new_run(user)
    points = [add_point(user, run_id, 1.0 / (i + 1)) for i in range(4)]
    since_step = user.get(f"/api/v1/convergence/{run_id}/stream",
                          params={"since_step": 1}).json()
    assert [p["step"] for p in since_step["points"]] == [2, 3]
    assert since_step["last_step"] == 3 and since_step["complete"] is False
    everything = user.get(f"/api/v1/convergence/{run_id}/stream?since_step=-1").json()
    assert [p["step"] for p in everything["points"]] == [0, 1, 2, 3]
    since = user.get(f"/api/v1/convergence/{run_id}/stream",
                     params={"since": points[1]["timestamp"]}).json()
    assert [p["step"] for p in since["points"]] == [2, 3]
    nothing = user.get(f"/api/v1/convergence/{run_id}/stream",
                       params={"since_step": since["last_step"]}).json()
    assert nothing["points"] == [] and nothing["last_step"] is None
    later = add_point(user, run_id, 0.01)
    polled = user.get(f"/api/v1/convergence/{run_id}/stream",
                      params={"since": since["last_timestamp"]}).json()
    assert [p["step"] for p in polled["points"]] == [later["step"]]


def test_points_need_an_existing_run_of_yours(user: User, other_user: User) -> None:
    assert_envelope(user.post("/api/v1/convergence/data",
                              json={"simulation_id": "run-00000000000000000",
                                    "loss_value": 1.0}), 404, "ResourceNotFound")
    theirs = new_run(other_user)
    assert_envelope(user.post("/api/v1/convergence/data",
                              json={"simulation_id": theirs, "loss_value": 1.0}), 404)
    for path in ("data", "graph", "stream", "events"):
        assert_envelope(user.get(f"/api/v1/convergence/{theirs}/{path}"), 404,
                        "ResourceNotFound")
    assert other_user.get(f"/api/v1/convergence/{theirs}/data").json()["points"] == []


def test_server_sent_events_end_once_the_run_finished(user: User) -> None:
    run_id = new_run(user)
    add_point(user, run_id, 0.8)
    with user.get(f"/api/v1/convergence/{run_id}/events", stream=True) as response:
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("text/event-stream")
        events = sse_events(response)
        name, data = next(events)
        point = json.loads(data)
        assert name == "point" and point["value"] == point["loss_value"] == 0.8
        assert point["run_id"] == point["simulation_id"] == run_id
        add_point(user, run_id, 0.4)
        name, data = next(events)
        assert name == "point" and json.loads(data)["step"] == 1
        cancel(user, run_id)
        rest = list(events)
    assert rest == [("end", json.dumps({"complete": True}))]
    with user.get(f"/api/v1/convergence/{run_id}/events?since_step=0", stream=True) as again:
        replay = list(sse_events(again))
    assert [n for n, _ in replay] == ["point", "end"]


# -- WebSocket ---------------------------------------------------------------


def websocket(base_url: str, path: str) -> ClientConnection:
    # The websockets client: simple_websocket's drops frames that arrive in the same read
    # as the handshake's answer (seen as a close without status, 1005, under load).
    return connect(base_url.replace("http://", "ws://", 1) + path, open_timeout=10)


def receive(ws: ClientConnection) -> dict[str, Any]:
    try:
        message = ws.recv(timeout=10)
    except TimeoutError:
        raise AssertionError("no WebSocket message within 10 s") from None
    body: dict[str, Any] = json.loads(message)
    return body


def closed_with(ws: ClientConnection) -> int | None:
    """The code the server closed with (after anything it still had to say)."""
    with pytest.raises(ConnectionClosed) as closed:
        ws.recv(timeout=10)
    return closed.value.rcvd.code if closed.value.rcvd is not None else None


def test_websocket_live_updates(base_url: str, user: User) -> None:
    run_id = new_run(user)
    add_point(user, run_id, 0.9)
    with websocket(base_url, f"/ws/convergence/{run_id}?token={user.access_token}") as ws:
        first = receive(ws)
        assert first["event"] == "point" and first["run_id"] == run_id
        assert (first["name"], first["step"], first["value"]) == ("loss", 0, 0.9)
        assert (first["simulation_id"], first["loss_value"]) == (run_id, 0.9)
        for step, loss in ((1, 0.5), (2, 0.25)):
            add_point(user, run_id, loss)
            message = receive(ws)
            assert (message["event"], message["step"], message["value"]) == ("point", step, loss)
        cancel(user, run_id)
        assert receive(ws) == {"event": "end", "complete": True}
        assert closed_with(ws) == 1000


def test_websocket_under_api_v1_with_an_api_token(base_url: str, user: User) -> None:
    token = user.post("/api/v1/auth/tokens", json={"name": "ws"}).json()["token"]
    run_id = new_run(user)
    add_point(user, run_id, 2.0)
    cancel(user, run_id)
    with websocket(base_url, f"/api/v1/ws/convergence/{run_id}?token={token}") as ws:
        assert receive(ws)["value"] == 2.0
        assert receive(ws)["event"] == "end"


@pytest.mark.parametrize("credential", ["bad-token", "", "sdk_unknown"])
def test_websocket_refuses_an_invalid_token(base_url: str, user: User, credential: str
                                            ) -> None:
    run_id = new_run(user)
    with websocket(base_url, f"/ws/convergence/{run_id}?token={credential}") as ws:
        message = receive(ws)
        assert message["event"] == "error"
        assert message["error"]["code"] == "AuthenticationFailure"
        assert closed_with(ws) == 1008


def test_websocket_hides_another_users_run(base_url: str, user: User,
                                           other_user: User) -> None:
    theirs = new_run(other_user)
    add_point(other_user, theirs, 3.0)
    with websocket(base_url, f"/ws/convergence/{theirs}?token={user.access_token}") as ws:
        message = receive(ws)
        assert message["event"] == "error"
        assert message["error"]["code"] == "ResourceNotFound"
        assert "3.0" not in json.dumps(message)
        assert closed_with(ws) == 1008


def test_closed_websockets_release_their_threads(tmp_path: Path) -> None:
    """Clients leaving a quiet, unfinished run must not keep server threads (4 here)."""
    database = f"sqlite:///{tmp_path / 'a' / 'simdock.db'}"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with running_server(tmp_path / "a", DATABASE_URL=database, DISPATCH="database",
                        WEB_THREADS="4", SECRET_KEY=SECRET_KEY) as url:
        owner = register_and_login(url, "ws-owner")
        run_id = new_run(owner)
        try:
            for _ in range(4):
                with websocket(url, f"/ws/convergence/{run_id}?token={owner.access_token}"):
                    pass
            time.sleep(0.5)
            assert requests.get(f"{url}/live", timeout=2).status_code == 200
        finally:
            # Free the stuck handlers (they end once the run finishes) through a second
            # server on the same database, since the first one may no longer answer.
            with running_server(tmp_path / "b", DATABASE_URL=database, DISPATCH="database",
                                SECRET_KEY=SECRET_KEY) as second:
                owner.base_url = second
                cancel(owner, run_id)


# -- the detailed view and placement -----------------------------------------


@pytest.fixture
def machines(user: User) -> Iterator[Callable[[str], str]]:
    def make(status: str = "available") -> str:
        response = user.post("/api/v1/machines", json={"name": f"node-{status}", "cpu": "x86",
                                                       "memory": 16, "status": status})
        assert response.status_code == 201
        return str(response.json()["id"])

    yield make


def test_the_detailed_view_joins_the_machine(user: User, machines: Callable[[str], str]
                                             ) -> None:
    machine_id = machines("available")
    run_id = new_run(user, machine_id=machine_id)
    detailed = user.get(f"/api/v1/jobs/{run_id}/detailed")
    assert detailed.status_code == 200, detailed.text
    body = detailed.json()
    assert body["id"] == run_id and body["machine_id"] == machine_id
    assert body["machine"] == user.get(f"/api/v1/machines/{machine_id}").json()
    plain = user.get(f"/api/v1/jobs/{run_id}").json()
    assert {k: v for k, v in body.items() if k != "machine"} == plain
    simulation = user.get(f"/api/v1/simulations/{plain['simulation_id']}/detailed").json()
    assert simulation["simulation"]["id"] == plain["simulation_id"]
    assert [r["machine"]["id"] for r in simulation["runs"]] == [machine_id]
    unplaced = new_run(user)
    assert user.get(f"/api/v1/jobs/{unplaced}/detailed").json()["machine"] is None
    listed = user.get(f"/api/v1/jobs?machine_id={machine_id}").json()["items"]
    assert [r["id"] for r in listed] == [run_id]


def test_place_a_run_on_a_machine(user: User, machines: Callable[[str], str]) -> None:
    first, second = machines("available"), machines("busy")
    run_id = new_run(user, machine_id=first)
    moved = user.patch(f"/api/v1/jobs/{run_id}", json={"machine_id": second})
    assert moved.status_code == 200, moved.text
    assert moved.json()["machine_id"] == second
    assert user.get(f"/api/v1/jobs/{run_id}/detailed").json()["machine"]["id"] == second
    unplaced = user.patch(f"/api/v1/jobs/{run_id}", json={"machine_id": None})
    assert unplaced.status_code == 200 and unplaced.json()["machine_id"] is None
    assert user.get(f"/api/v1/jobs/{run_id}/detailed").json()["machine"] is None

    assert_envelope(user.patch(f"/api/v1/jobs/{run_id}",
                               json={"machine_id": "mach-00000000000000000"}), 404)
    in_maintenance = user.patch(f"/api/v1/jobs/{run_id}",
                                json={"machine_id": machines("maintenance")})
    assert "maintenance" in assert_envelope(in_maintenance, 409)["error"]["message"]
    assert_envelope(user.patch(f"/api/v1/jobs/{run_id}", json={}), 422)
    assert_envelope(user.patch(f"/api/v1/jobs/{run_id}", json={"machine_id": 5}), 422)
    cancel(user, run_id)
    finished = user.patch(f"/api/v1/jobs/{run_id}", json={"machine_id": first})
    assert finished.status_code in {400, 409}
    assert_envelope(finished, finished.status_code)
    assert user.get(f"/api/v1/jobs/{run_id}").json()["machine_id"] is None


def test_other_users_cannot_place_or_see_your_runs(user: User, other_user: User,
                                                   machines: Callable[[str], str]) -> None:
    machine_id = machines("available")
    run_id = new_run(user, machine_id=machine_id)
    assert_envelope(other_user.patch(f"/api/v1/jobs/{run_id}", json={"machine_id": None}),
                    404, "ResourceNotFound")
    assert_envelope(other_user.get(f"/api/v1/jobs/{run_id}/detailed"), 404)
    assert user.get(f"/api/v1/jobs/{run_id}").json()["machine_id"] == machine_id
    assert run_id not in other_user.get(f"/api/v1/jobs?machine_id={machine_id}").text

