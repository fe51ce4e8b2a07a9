"""Workers' heartbeats in SQL: one row per worker, written over at each beat."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from simdock.domain.worker import WorkerBeat
from simdock_adapters.sql.repositories.base import SqlRepository
from simdock_adapters.sql.tables import workers

_SINCE = (sa.select(workers).where(workers.c.last_beat >= sa.bindparam("at"))
          .order_by(workers.c.name))
_FORGET = workers.delete().where(workers.c.last_beat < sa.bindparam("before"))


class SqlWorkerRepository(SqlRepository):
    def beat(self, worker: WorkerBeat) -> None:
        row = {"name": worker.name, "host": worker.host, "started_at": worker.started_at,
               "last_beat": worker.last_beat, "held": worker.held, "slots": worker.slots,
               "queues": list(worker.queues)}
        insert: Any = postgresql.insert(workers) if self.dialect == "postgresql" \
            else sqlite.insert(workers)
        changed = {name: value for name, value in row.items() if name != "name"}
        self.connection.execute(insert.values(row).on_conflict_do_update(
            index_elements=[workers.c.name], set_=changed))

    def since(self, at: datetime) -> list[WorkerBeat]:
        return [WorkerBeat(name=row.name, host=row.host, started_at=row.started_at,
                           last_beat=row.last_beat, held=row.held, slots=row.slots,
                           queues=tuple(row.queues))
                for row in self.connection.execute(_SINCE, {"at": at})]

    def forget(self, before: datetime) -> int:
        return int(self.connection.execute(_FORGET, {"before": before}).rowcount or 0)
