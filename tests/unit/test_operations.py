"""What operators watch: live workers, queue depths and shares, services, machines."""

from __future__ import annotations

import pytest

from simdock.domain import User
from simdock.errors import UnauthorizedOperation
from simdock.usecases import machines
from simdock.usecases.submit import SubmitRun
from tests.unit.fakes import execution_of, make_platform, work_of

ADMIN = User(id="usr-admin", email="admin@example.com", created_at=None,  # type: ignore[arg-type]
             is_admin=True)


def test_an_administrator_sees_live_workers_queues_by_user_services_and_machines() -> None:
    platform = make_platform()
    for owner, runs in (("usr-a", 1), ("usr-b", 2)):
        for _ in range(runs):
            platform.submitting.submit_run(SubmitRun(owner, "echo", {}))
    platform.machines.register_machine(
        machines.RegisterMachine("rack-1", cpu="4 cores", memory_gb=8.0))
    work_of(platform).leases.heartbeat()

    seen = platform.operations.overview(ADMIN)

    assert [w.name for w in seen.workers] == [execution_of(platform).worker_name]
    assert (seen.queued_runs, seen.running_runs, seen.queued_reports) == (3, 0, 0)
    assert [(s.owner_id, s.queued) for s in seen.shares] == [("usr-b", 2), ("usr-a", 1)]
    assert seen.services and all(reason is None for reason in seen.services.values())
    assert [m.name for m in seen.machines] == ["rack-1"]


def test_a_worker_silent_for_longer_than_a_lease_is_not_listed() -> None:
    platform = make_platform()
    work_of(platform).leases.heartbeat()
    platform.clock.advance(platform.limits.lease_seconds + 1)  # type: ignore[attr-defined]
    assert platform.operations.overview(ADMIN).workers == []


def test_only_an_administrator_sees_them() -> None:
    platform = make_platform()
    user = User(id="usr-a", email="a@example.com", created_at=None)  # type: ignore[arg-type]
    with pytest.raises(UnauthorizedOperation, match="administrators only"):
        platform.operations.overview(user)
