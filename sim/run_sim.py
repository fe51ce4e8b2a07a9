"""Standalone command that runs the 1-D heat simulation and writes its output files.

Usage::

    python run_sim.py --length 1.0 --time_steps 100 --diffusivity 0.01 --output-dir out

Parameters come from, in increasing precedence: the JSON object in the SIM_PARAMS
environment variable, the JSON file given with --params-json, and the command-line flags.
Progress is printed to stdout as ``progress 0.50`` lines, followed by the path of each output
file.  Unusable parameters give a one-line error on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NoReturn

try:
    from . import heat1d
except ImportError:
    import heat1d  # type: ignore[no-redef, import-not-found, unused-ignore]

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

PARAMS_ENV = "SIM_PARAMS"
OUTPUT_DIR_ENV = "OUTPUT_DIR"
DEFAULT_OUTPUT_DIR = "output"
PROG = "run_sim"

_INT_PARAMETERS = frozenset({"time_steps", "spatial_steps", "snapshots"})


class UsageError(Exception):
    """A problem with the command line, the parameter file or SIM_PARAMS."""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are raised instead of printed with the usage text."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface; parameter flags are kept as strings until validation."""
    defaults = heat1d.Heat1DParameters()
    parser = _Parser(
        prog=PROG,
        description="Solve the 1-D heat equation with explicit finite differences.",
    )
    for name in heat1d.Heat1DParameters.field_names():
        flags = [f"--{name}"]
        if "_" in name:
            flags.append(f"--{name.replace('_', '-')}")
        kind = "integer" if name in _INT_PARAMETERS else "number"
        parser.add_argument(
            *flags,
            dest=name,
            metavar="INT" if kind == "integer" else "NUMBER",
            default=None,
            help=f"{kind} (default {getattr(defaults, name)!r})",
        )
    parser.add_argument(
        "--output-dir",
        "--output_dir",
        dest="output_dir",
        default=None,
        help=f"directory for the output files (default ${OUTPUT_DIR_ENV} or ./output)",
    )
    parser.add_argument(
        "--params-json",
        "--params_json",
        dest="params_json",
        metavar="PATH",
        default=None,
        help="JSON object of parameters; flags override it",
    )
    parser.add_argument(
        "--method",
        choices=("auto", "stencil", "blocked"),
        default="auto",
        help="solver kernel (default auto)",
    )
    return parser


def _number(name: str, text: str) -> int | float:
    """A flag value as a number, keeping integer notation exact."""
    stripped = text.strip()
    try:
        return int(stripped)
    except ValueError:
        pass
    try:
        return float(stripped)
    except ValueError:
        kind = "an integer" if name in _INT_PARAMETERS else "a number"
        raise UsageError(f"invalid value for --{name}: {text!r} (expected {kind})") from None


def _json_object(text: str, source: str) -> dict[str, object]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{source} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise UsageError(f"{source} must contain a JSON object, got {type(value).__name__}")
    return value


def collect_parameters(args: argparse.Namespace, environ: Mapping[str, str]) -> dict[str, object]:
    """Merge SIM_PARAMS, the --params-json file and the flags, later sources winning."""
    merged: dict[str, object] = {}
    env_text = environ.get(PARAMS_ENV, "").strip()
    if env_text:
        merged.update(_json_object(env_text, f"${PARAMS_ENV}"))
    if args.params_json is not None:
        path = Path(args.params_json)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot read --params-json {str(path)!r}: {exc.strerror}") from None
        merged.update(_json_object(text, f"--params-json {str(path)!r}"))
    for name in heat1d.Heat1DParameters.field_names():
        text = getattr(args, name)
        if text is not None:
            merged[name] = _number(name, text)
    return merged


def output_directory(args: argparse.Namespace, environ: Mapping[str, str]) -> Path:
    """--output-dir, else $OUTPUT_DIR, else ./output."""
    if args.output_dir:
        return Path(args.output_dir)
    return Path(environ.get(OUTPUT_DIR_ENV) or DEFAULT_OUTPUT_DIR)


def _print_progress(fraction: float) -> None:
    print(heat1d.format_progress(fraction), flush=True)


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Run the command; returns the process exit status."""
    env = os.environ if environ is None else environ
    try:
        args = build_parser().parse_args(argv)
        params = heat1d.Heat1DParameters.from_mapping(collect_parameters(args, env))
    except (UsageError, heat1d.Heat1DError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        _, paths = heat1d.run(
            params, output_directory(args, env), _print_progress, method=args.method
        )
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as exc:
        print(f"{PROG}: error: cannot write outputs: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    for path in paths:
        print(path, flush=True)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
