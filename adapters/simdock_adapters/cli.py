"""The ``simdock`` command: run simulations on the embedded platform from a shell."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from simdock.errors import ExecutionError, SimdockError, ValidationError
from simdock.notebook import Dock, JobHandle, SweepHandle
from simdock_adapters.bootstrap import HAND_BACK_SECONDS, build_platform
from simdock_adapters.logs import configure_logging
from simdock_adapters.settings import Settings, load_settings
from simdock_adapters.urls import masked_url
from simdock_adapters.worker import serve


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "command_func"):
        parser.print_help()
        return 2
    try:
        return int(args.command_func(args))
    except ValidationError as exc:
        for line in exc.message.splitlines():
            print(f"simdock: error: {line}", file=sys.stderr)
        return 2
    except SimdockError as exc:
        print(f"simdock: {exc.code}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="simdock", description=__doc__)
    parser.add_argument("--database-url", help="metadata store (default: DATABASE_URL)")
    parser.add_argument("--artifacts-path", help="blob directory (default: ARTIFACTS_PATH)")
    sub = parser.add_subparsers(title="commands")

    run = sub.add_parser("run", help="run one simulation and wait for it")
    run.add_argument("simulation_type")
    _submission_args(run)
    run.set_defaults(command_func=_run)

    sweep = sub.add_parser("sweep", help="run a parameter sweep and wait for it")
    sweep.add_argument("simulation_type")
    sweep.add_argument("--grid", action="append", default=[], metavar="KEY=V1,V2,...",
                       help="an axis of a cartesian grid (repeatable)")
    sweep.add_argument("--zip", action="append", default=[], metavar="KEY=V1,V2,...",
                       help="an axis of zipped lists (repeatable, equal lengths)")
    sweep.add_argument("--variants", type=Path, metavar="FILE",
                       help="a JSON file holding a list of parameter objects")
    _submission_args(sweep)
    sweep.set_defaults(command_func=_sweep)

    worker = sub.add_parser("worker", help="execute queued runs and reports: from the broker "
                                           "(REDIS_URL or RABBITMQ_URL), else from the database")
    worker.add_argument("--concurrency", type=int,
                        help="runs executed at once, per process (default: EXECUTOR_WORKERS, "
                             "the number of CPUs)")
    worker.add_argument("--processes", type=int,
                        help="worker processes, each with --concurrency threads; one that "
                             "dies is started again (default: WORKER_PROCESSES, 1)")
    worker.add_argument("--queues", help="what to take: simulations, reports, or both "
                                         "(default: WORKER_QUEUES, both)")
    worker.add_argument("--poll", type=float,
                        help="seconds between polls when idle (default: WORKER_POLL_SECONDS)")
    worker.add_argument("--exit-when-idle", action="store_true",
                        help="stop once nothing is queued")
    worker.set_defaults(command_func=_worker)

    server = sub.add_parser("serve", help="serve the HTTP API (gunicorn, threaded workers)")
    server.add_argument("--host", help="address to bind (default: HOST or 127.0.0.1)")
    server.add_argument("--port", type=int, help="port (default: PORT or 8000)")
    server.add_argument("--workers", type=int, help="worker processes (default: WEB_WORKERS)")
    server.add_argument("--threads", type=int, help="threads per worker (default: WEB_THREADS)")
    server.add_argument("--demo", action="store_true",
                        help="once up, run one heat1d job through the API and show it")
    server.set_defaults(command_func=_serve)

    admin = sub.add_parser("admin", help="grant or take back a user's administrator role "
                                         "(administrators may change any machine)")
    admin.add_argument("action", choices=["grant", "revoke"])
    admin.add_argument("email", help="the user's email")
    admin.set_defaults(command_func=_admin)

    types = sub.add_parser("types", help="list the simulation types available")
    types.set_defaults(command_func=_types)
    return parser


def _submission_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--param", "-p", action="append", default=[], metavar="KEY=VALUE",
                        help="a parameter (value parsed as JSON, else a string); repeatable")
    parser.add_argument("--params-json", type=Path, metavar="FILE",
                        help="a JSON file holding the parameter object")
    parser.add_argument("--tag", action="append", default=[], help="a tag (repeatable)")
    parser.add_argument("--timeout", type=float, help="time limit per run, seconds")
    parser.add_argument("--replicate", metavar="JSON",
                        help='replicate each point until the mean of a result is precise '
                             'enough, e.g. \'{"metric": "estimate", "half_width": 0.01}\' '
                             "(also confidence, relative, min, max, batch); prints each "
                             "point's mean and interval")
    parser.add_argument("--seed", type=int, help="the seed replicates' seeds derive from")
    parser.add_argument("--no-reuse", action="store_true",
                        help="execute every run, even one that is the same computation as an "
                             "earlier succeeded run of yours (by default it reuses its result)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--json", action="store_true", help="print the outcome as JSON")


def _settings(args: argparse.Namespace, **overrides: Any) -> Settings:
    """The environment's settings, overridden by the command line's options."""
    given = {"database_url": args.database_url, "artifacts_path": args.artifacts_path,
             **overrides}
    return load_settings(**{k: v for k, v in given.items() if v is not None})


def _dock(args: argparse.Namespace, **overrides: Any) -> Dock:
    settings = _settings(args, **overrides)
    return Dock(build_platform(settings), settings.simdock_user)


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _pairs(items: list[str], what: str) -> dict[str, str]:
    pairs = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValidationError(f"{what} {item!r} is not KEY=VALUE")
        pairs[key] = value
    return pairs


def _parameters(args: argparse.Namespace) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if args.params_json:
        try:
            loaded = json.loads(args.params_json.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ValidationError(f"cannot read {args.params_json}: {exc}") from exc
        if not isinstance(loaded, dict):
            raise ValidationError(f"{args.params_json} must hold a JSON object")
        params.update(loaded)
    params.update({k: _value(v) for k, v in _pairs(args.param, "--param").items()})
    return params


def _axes(items: list[str], what: str) -> dict[str, list[Any]] | None:
    if not items:
        return None
    return {k: [_value(v) for v in values.split(",")] if values else []
            for k, values in _pairs(items, what).items()}


def _replicate(args: argparse.Namespace) -> dict[str, Any] | None:
    if args.replicate is None:
        return None
    try:
        options = json.loads(args.replicate)
    except json.JSONDecodeError as exc:
        raise ValidationError(f"--replicate is not JSON: {exc}") from exc
    if not isinstance(options, dict):
        raise ValidationError('--replicate must be a JSON object, e.g. '
                              '{"metric": "estimate", "half_width": 0.01}')
    return options


def _run(args: argparse.Namespace) -> int:
    with _dock(args) as dock:
        job = dock.submit(args.simulation_type, _parameters(args), tags=args.tag,
                          timeout=args.timeout, replicate=_replicate(args), seed=args.seed,
                          reuse=not args.no_reuse)
        job.wait(progress=not args.no_progress)
        if isinstance(job, SweepHandle):
            return _print_summary(job, args.json)
        return _print_job(job, args.json)


def _sweep(args: argparse.Namespace) -> int:
    variants = None
    if args.variants:
        try:
            variants = json.loads(args.variants.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ValidationError(f"cannot read {args.variants}: {exc}") from exc
    with _dock(args) as dock:
        replicate = _replicate(args)
        sweep = dock.sweep(args.simulation_type, variants, grid=_axes(args.grid, "--grid"),
                           zip=_axes(args.zip, "--zip"), base=_parameters(args),
                           tags=args.tag, timeout=args.timeout, replicate=replicate,
                           seed=args.seed, reuse=not args.no_reuse)
        sweep.wait(progress=not args.no_progress)
        if replicate is not None:
            return _print_summary(sweep, args.json)
        table = sweep.results()
        scalar = [c for c in table.columns
                  if all(isinstance(r.get(c), str | int | float | None) for r in table.rows)]
        if args.json:
            print(json.dumps({"job_id": sweep.id, "status": sweep.status,
                              "rows": [{c: r.get(c) for c in scalar} for r in table.rows]}))
        else:
            print(f"job {sweep.id}: {sweep.status}, {len(table)} runs")
            print("\t".join(scalar))
            for row in table.rows:
                print("\t".join(_cell(row.get(c)) for c in scalar))
        return 0 if sweep.status == "succeeded" else 1


def _worker(args: argparse.Namespace) -> int:
    for option, value in (("--concurrency", args.concurrency), ("--processes", args.processes)):
        if value is not None and value < 1:
            raise ValidationError(f"{option} must be at least 1")
    if args.poll is not None and not args.poll > 0:
        raise ValidationError("--poll must be a number of seconds above 0")
    settings = _settings(args, executor_workers=args.concurrency,
                         worker_processes=args.processes, worker_queues=args.queues)
    args.concurrency, args.processes = settings.executor_workers, settings.worker_processes
    if settings.worker_processes > 1:
        if args.exit_when_idle:
            raise ValidationError("--exit-when-idle is for one worker process")
        return _supervised(args)
    if settings.dispatch_mode != "dramatiq":
        settings = _settings(args, dispatch="database", executor_workers=args.concurrency,
                             worker_queues=args.queues, worker_poll_seconds=args.poll)
    configure_logging(settings.log_level)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    stats = serve(build_platform(settings, consume=True), args.exit_when_idle, stop)
    if settings.dispatch_mode == "dramatiq":
        print("worker stopped")
    else:
        print(f"worker executed {stats.runs} runs and generated {stats.reports} reports")
    return 0


def _supervised(args: argparse.Namespace) -> int:
    from simdock_adapters.supervisor import supervise

    settings = _settings(args)
    configure_logging(settings.log_level)
    command = [sys.executable, "-m", "simdock_adapters.cli"]
    for option, value in (("--database-url", args.database_url),
                          ("--artifacts-path", args.artifacts_path)):
        if value is not None:
            command += [option, value]
    command += ["worker", "--concurrency", str(args.concurrency), "--processes", "1"]
    if args.poll is not None:
        command += ["--poll", str(args.poll)]
    if args.queues is not None:
        command += ["--queues", args.queues]
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    restarts = supervise(command, args.processes, stop, stop_seconds=settings.shutdown_grace_seconds
                         + HAND_BACK_SECONDS + 5)
    print(f"workers stopped ({restarts} started again after dying)")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from simdock_adapters.http.server import serve

    settings = _settings(args, host=args.host, port=args.port, web_workers=args.workers,
                         web_threads=args.threads)
    configure_logging(settings.log_level)
    base = f"http://{settings.host}:{settings.port}"
    print(f"simdock API on {base} (docs at /api/v1/docs/; {masked_url(settings.database_url)})",
          flush=True)
    if args.demo:
        if settings.host not in {"127.0.0.1", "localhost", "::1"}:
            raise ValidationError("--demo registers a user with a known password: serve it on "
                                  "127.0.0.1 only")
        from simdock_adapters.http.demo import start_demo

        start_demo(base)
    serve(settings)
    return 0


def _admin(args: argparse.Namespace) -> int:
    settings = _settings(args, dispatch="database")
    platform = build_platform(settings)
    try:
        user = platform.users.set_admin(args.email, args.action == "grant")
    finally:
        platform.close()
    print(f"{user.email} is {'now' if user.is_admin else 'no longer'} an administrator")
    return 0


def _types(args: argparse.Namespace) -> int:
    with _dock(args) as dock:
        for name in dock.platform.executor.simulation_types():
            print(name)
    return 0


def _print_job(job: JobHandle, as_json: bool) -> int:
    run = job.run
    artifacts = job.artifacts()
    try:
        result = job.result()
    except ExecutionError:
        result = None
    scalars = {k: v for k, v in (result or {}).items() if isinstance(v, str | int | float)} \
        if isinstance(result, dict) else {}
    if as_json:
        print(json.dumps({"job_id": job.id, "run_id": run.id, "status": run.status.value,
                          "error": run.error, "result": scalars,
                          "artifacts": [str(a.path or a.name) for a in artifacts]}))
    else:
        print(f"job {job.id} run {run.id}: {run.status.value}")
        if run.error:
            print(f"error: {run.error}")
        for key, value in scalars.items():
            print(f"  {key} = {_cell(value)}")
        if artifacts:
            folder = artifacts[0].path.parent if artifacts[0].path else None
            print(f"outputs{f' in {folder}' if folder else ''}:")
            for artifact in artifacts:
                print(f"  {artifact.path or artifact.name} ({artifact.size} bytes)")
    return 0 if run.status.value == "succeeded" else 1


def _print_summary(job: SweepHandle, as_json: bool) -> int:
    """Each point of a replicated job: its parameters, mean and interval; exits 0 when
    every point met its target."""
    table = job.summary()
    columns = [c for c in table.columns if c not in ("std", "half_width", "replicates")]
    if as_json:
        print(json.dumps({"job_id": job.id, "status": job.status, "points": table.rows},
                         default=str))
    else:
        print(f"job {job.id}: {job.status}, {len(table)} points, "
              f"{sum(row['replicates'] for row in table.rows)} runs")
        print("\t".join(columns))
        for row in table.rows:
            print("\t".join(_cell(row.get(c)) if not isinstance(row.get(c), dict | list)
                            else json.dumps(row.get(c)) for c in columns))
    return 0 if table.rows and all(row["met"] for row in table.rows) else 1


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return "" if value is None else str(value)


if __name__ == "__main__":
    raise SystemExit(main())
