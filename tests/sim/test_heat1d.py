"""The 1-D heat solver: accuracy, stability checks, validation, progress and output files."""

from __future__ import annotations

import csv
import itertools
import json
import math
import struct
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from simdock_sim import heat1d, png
from simdock_sim.heat1d import (
    Heat1DError,
    Heat1DParameters,
    Heat1DResult,
    InvalidParameter,
    UnstableTimeStep,
)

SEED_PARAMETER_SETS: list[dict[str, Any]] = [
    {"length": 1.0, "time_steps": 200, "diffusivity": 0.01, "initial_temp": 100.0},
    {"length": 1.0, "time_steps": 400, "diffusivity": 0.005},
    {"length": 0.5, "time_steps": 200, "diffusivity": 0.02},
    {"time_steps": 5},
]


def params_for_ratio(spatial_steps: int, r: float, **overrides: Any) -> Heat1DParameters:
    """Parameters whose time step gives (very nearly) the mesh ratio r."""
    values: dict[str, Any] = {"diffusivity": 0.1, "end_time": 0.5, **overrides}
    dx = values.get("length", 1.0) / (spatial_steps - 1)
    time_steps = math.ceil(values["diffusivity"] * values["end_time"] / (r * dx * dx))
    return Heat1DParameters(spatial_steps=spatial_steps, time_steps=time_steps, **values)


def analytic_error(result: Heat1DResult) -> float:
    return float(np.max(np.abs(result.final - result.analytic_final())))


# --------------------------------------------------------------------------- parameters


def test_defaults_are_stable_and_match_an_empty_mapping() -> None:
    params = Heat1DParameters()
    assert params.r <= heat1d.STABILITY_LIMIT
    assert Heat1DParameters.from_mapping({}) == params
    assert params.dx == pytest.approx(0.05)
    assert params.dt == pytest.approx(0.005)
    assert params.to_dict() == {
        "length": 1.0,
        "time_steps": 100,
        "spatial_steps": 21,
        "diffusivity": 0.01,
        "initial_temp": 100.0,
        "boundary_temp": 0.0,
        "end_time": 0.5,
        "snapshots": 101,
    }


@pytest.mark.parametrize("values", SEED_PARAMETER_SETS)
def test_seed_parameter_sets_are_stable_with_the_defaults(values: dict[str, Any]) -> None:
    params = Heat1DParameters.from_mapping(values)
    assert params.r <= heat1d.STABILITY_LIMIT
    result = heat1d.solve(params)
    assert np.all(np.isfinite(result.field))
    assert analytic_error(result) < 0.05


def test_integral_floats_and_numpy_numbers_are_accepted_and_normalised() -> None:
    params = Heat1DParameters.from_mapping(
        {"time_steps": 200.0, "spatial_steps": np.int64(11), "length": np.float32(1.0)}
    )
    assert params.time_steps == 200 and type(params.time_steps) is int
    assert params.spatial_steps == 11 and type(params.spatial_steps) is int
    assert type(params.length) is float
    assert type(Heat1DParameters(initial_temp=1).initial_temp) is float


@pytest.mark.parametrize(
    ("values", "names"),
    [
        ({"foo": 1}, ["'foo'", "accepted parameters", "time_steps"]),
        ({"foo": 1, "bar": 2}, ["'foo'", "'bar'"]),
        ({"time_steps": True}, ["'time_steps'", "bool"]),
        ({"spatial_steps": False}, ["'spatial_steps'", "bool"]),
        ({"length": True}, ["'length'", "bool"]),
        ({"length": "1.0"}, ["'length'", "str"]),
        ({"time_steps": "200"}, ["'time_steps'", "str"]),
        ({"initial_temp": None}, ["'initial_temp'"]),
        ({"time_steps": 2.5}, ["'time_steps'", "2.5"]),
        ({"diffusivity": float("nan")}, ["'diffusivity'", "nan"]),
        ({"end_time": float("inf")}, ["'end_time'", "inf"]),
        ({"boundary_temp": float("-inf")}, ["'boundary_temp'"]),
        ({"time_steps": float("nan")}, ["'time_steps'"]),
        ({"length": 0}, ["'length'", "> 0"]),
        ({"length": -1.0}, ["'length'", "> 0"]),
        ({"diffusivity": 0.0}, ["'diffusivity'", "> 0"]),
        ({"end_time": -0.5}, ["'end_time'", "> 0"]),
        ({"time_steps": 0}, ["'time_steps'", ">= 1"]),
        ({"time_steps": -5}, ["'time_steps'", ">= 1"]),
        ({"spatial_steps": 2}, ["'spatial_steps'", ">= 3"]),
        ({"snapshots": 1}, ["'snapshots'", ">= 2"]),
    ],
)
def test_invalid_parameters_name_the_offender(values: dict[str, Any], names: list[str]) -> None:
    with pytest.raises(InvalidParameter) as caught:
        Heat1DParameters.from_mapping(values)
    message = str(caught.value)
    for name in names:
        assert name in message
    assert isinstance(caught.value, Heat1DError)
    assert isinstance(caught.value, ValueError)


def test_a_non_mapping_is_rejected() -> None:
    with pytest.raises(InvalidParameter, match="mapping"):
        Heat1DParameters.from_mapping([("length", 1.0)])  # type: ignore[arg-type]


def test_direct_construction_is_validated_too() -> None:
    with pytest.raises(InvalidParameter, match="'spatial_steps'"):
        Heat1DParameters(spatial_steps=2)


def test_unstable_time_step_names_r_the_limit_and_the_needed_steps() -> None:
    # dx = 0.05, dt = 0.2: r = 0.01 * 0.2 / 0.0025 = 0.8
    with pytest.raises(UnstableTimeStep) as caught:
        Heat1DParameters.from_mapping({"time_steps": 1, "end_time": 0.2})
    error = caught.value
    message = str(error)
    assert "r = diffusivity*dt/dx^2 = 0.8 > 0.5" in message
    assert "dt=0.2" in message and "dx=0.05" in message
    assert "use time_steps >= 2 or fewer spatial_steps" in message
    assert error.r == pytest.approx(0.8)
    assert error.min_time_steps == 2
    assert isinstance(error, Heat1DError)


@pytest.mark.parametrize(
    "values",
    [
        {"time_steps": 1},
        {"time_steps": 3, "spatial_steps": 21},
        {"spatial_steps": 201, "time_steps": 100},
        {"diffusivity": 2.0, "end_time": 3.0, "spatial_steps": 101},
        {"length": 0.1, "spatial_steps": 51, "diffusivity": 0.7},
    ],
)
def test_the_suggested_time_steps_is_the_smallest_stable_one(values: dict[str, Any]) -> None:
    with pytest.raises(UnstableTimeStep) as caught:
        Heat1DParameters.from_mapping(values)
    needed = caught.value.min_time_steps
    assert f"time_steps >= {needed}" in str(caught.value)
    assert Heat1DParameters.from_mapping({**values, "time_steps": needed}).r <= 0.5 + 1e-12
    if needed > 1:
        with pytest.raises(UnstableTimeStep):
            Heat1DParameters.from_mapping({**values, "time_steps": needed - 1})


def test_r_of_exactly_one_half_is_accepted() -> None:
    # dx = 0.05, r = 0.01 * (0.5 / 4) / 0.0025 = 0.5
    assert Heat1DParameters(time_steps=4).r == pytest.approx(0.5)


# --------------------------------------------------------------------------- accuracy


def test_matches_the_analytic_solution() -> None:
    params = params_for_ratio(41, 0.4)
    result = heat1d.solve(params)
    assert analytic_error(result) < 0.05
    summary = result.summary()
    assert summary["final_center_temp"] == pytest.approx(summary["analytic_center_temp"], abs=0.05)
    expected_centre = 100.0 * math.exp(-0.1 * math.pi**2 * 0.5)
    assert summary["analytic_center_temp"] == pytest.approx(expected_centre)


def test_error_shrinks_when_the_grid_is_refined_at_a_stable_ratio() -> None:
    errors = [analytic_error(heat1d.solve(params_for_ratio(n, 0.4))) for n in (11, 21, 41)]
    assert errors[1] < errors[0] / 3
    assert errors[2] < errors[1] / 3


@pytest.mark.parametrize("method", ["stencil", "blocked"])
def test_boundary_values_are_held(method: heat1d.Method) -> None:
    params = params_for_ratio(31, 0.45, boundary_temp=20.0, initial_temp=80.0)
    result = heat1d.solve(params, method=method)
    assert np.all(result.field[:, 0] == 20.0)
    assert np.all(result.field[:, -1] == 20.0)
    assert result.field[0, 15] == pytest.approx(80.0)
    assert analytic_error(result) < 0.05


def test_cooling_below_the_boundary_temperature_works_too() -> None:
    params = params_for_ratio(21, 0.3, boundary_temp=50.0, initial_temp=-10.0)
    result = heat1d.solve(params)
    assert result.field[0].min() == pytest.approx(-10.0)
    assert analytic_error(result) < 0.1


@pytest.mark.parametrize(
    ("spatial_steps", "time_steps", "r"),
    [(3, 7, 0.5), (5, 64, 0.4), (21, 100, 0.3), (64, 65, 0.5), (130, 129, 0.25), (1100, 300, 0.4)],
)
def test_blocked_and_stencil_kernels_agree(spatial_steps: int, time_steps: int, r: float) -> None:
    dx = 1.0 / (spatial_steps - 1)
    params = Heat1DParameters(
        spatial_steps=spatial_steps,
        time_steps=time_steps,
        diffusivity=0.01,
        end_time=r * time_steps * dx * dx / 0.01,
        boundary_temp=3.0,
        snapshots=13,
    )
    stencil = heat1d.solve(params, method="stencil")
    blocked = heat1d.solve(params, method="blocked")
    assert stencil.method == "stencil" and blocked.method == "blocked"
    np.testing.assert_allclose(blocked.field, stencil.field, rtol=0, atol=1e-9)


def test_auto_method_picks_the_blocked_kernel_for_large_grids() -> None:
    assert heat1d.solve(Heat1DParameters()).method == "stencil"
    big = params_for_ratio(
        heat1d.AUTO_BLOCKED_MIN_POINTS, 0.4, diffusivity=1.0, end_time=1e-2, snapshots=11
    )
    assert heat1d.solve(big).method == "blocked"
    crowded = params_for_ratio(
        heat1d.AUTO_BLOCKED_MIN_POINTS, 0.4, diffusivity=1.0, end_time=1e-2, snapshots=101
    )
    assert crowded.time_steps < 8 * 100
    assert heat1d.solve(crowded).method == "stencil"


def test_an_unknown_method_is_rejected() -> None:
    with pytest.raises(ValueError, match="method"):
        heat1d.solve(Heat1DParameters(), method="magic")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- snapshots, series


@pytest.mark.parametrize(
    ("time_steps", "snapshots"), [(1, 2), (1, 101), (5, 101), (100, 101), (1000, 7), (999, 1000)]
)
def test_snapshot_steps_are_strictly_increasing_from_zero_to_the_end(
    time_steps: int, snapshots: int
) -> None:
    steps = heat1d.snapshot_steps(time_steps, snapshots)
    assert steps[0] == 0 and steps[-1] == time_steps
    assert len(steps) == min(snapshots, time_steps + 1)
    assert np.all(np.diff(steps) >= 1)


def test_result_shapes_times_and_series() -> None:
    params = Heat1DParameters(time_steps=40, snapshots=11)
    result = heat1d.solve(params)
    assert result.field.shape == (11, 21)
    assert result.times[0] == 0.0 and result.times[-1] == params.end_time
    np.testing.assert_allclose(result.times, np.linspace(0.0, 0.5, 11))
    np.testing.assert_array_equal(result.final, result.field[-1])
    assert result.x.shape == (21,)
    assert result.series.shape == (11, len(heat1d.SERIES_HEADER))
    np.testing.assert_array_equal(result.series[:, 0], result.times)
    np.testing.assert_array_equal(result.series[:, 1], result.field[:, 10])
    np.testing.assert_allclose(result.series[:, 2], result.field.mean(axis=1))
    np.testing.assert_array_equal(result.series[:, 3], result.field.max(axis=1))
    assert len(result.series_rows()) == 11


def test_snapshots_are_capped_at_time_steps_plus_one() -> None:
    result = heat1d.solve(Heat1DParameters(time_steps=5))
    assert result.field.shape == (6, 21)


def test_centre_of_an_even_grid_is_interpolated() -> None:
    result = heat1d.solve(Heat1DParameters(spatial_steps=20, time_steps=10))
    assert result.summary()["analytic_center_temp"] == pytest.approx(
        100.0 * math.exp(-0.01 * math.pi**2 * 0.5), rel=0.01
    )


def test_summary_is_json_serialisable() -> None:
    summary = heat1d.solve(Heat1DParameters()).summary()
    decoded = json.loads(json.dumps(summary, allow_nan=False))
    for key in (
        "final_center_temp",
        "max_temp",
        "analytic_center_temp",
        "max_abs_error",
        "dx",
        "dt",
        "r",
        "elapsed_seconds",
    ):
        assert isinstance(decoded[key], float)
    assert decoded["max_abs_error"] < 0.05


# --------------------------------------------------------------------------- progress


@pytest.mark.parametrize("time_steps", [1, 5, 100, 1000, 12345])
def test_progress_is_monotonic_bounded_and_ends_at_one(time_steps: int) -> None:
    seen: list[float] = []
    params = Heat1DParameters(time_steps=time_steps, end_time=0.1, snapshots=7)
    heat1d.solve(params, seen.append)
    assert seen[-1] == 1.0
    assert seen.count(1.0) == 1
    assert all(0.0 <= fraction <= 1.0 for fraction in seen)
    assert all(b > a for a, b in itertools.pairwise(seen))
    assert len(seen) <= heat1d.MAX_PROGRESS_CALLS + 1


class Cancelled(Exception):
    pass


@pytest.mark.parametrize("method", ["stencil", "blocked"])
def test_an_exception_from_progress_stops_the_solve(method: heat1d.Method) -> None:
    calls: list[float] = []

    def cancel_on_second_call(fraction: float) -> None:
        calls.append(fraction)
        if len(calls) == 2:
            raise Cancelled

    with pytest.raises(Cancelled):
        heat1d.solve(Heat1DParameters(time_steps=1000), cancel_on_second_call, method=method)
    assert len(calls) == 2
    assert calls[-1] < 0.5


# --------------------------------------------------------------------------- outputs


def read_png_chunks(data: bytes) -> dict[bytes, bytes]:
    """The chunks of a PNG file by type, checking every CRC."""
    assert data[:8] == png.PNG_SIGNATURE
    chunks: dict[bytes, bytes] = {}
    position = 8
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        tag = data[position + 4 : position + 8]
        payload = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        assert crc == zlib.crc32(tag + payload) & 0xFFFFFFFF
        chunks[tag] = chunks.get(tag, b"") + payload
        position += 12 + length
    return chunks


def check_outputs(paths: list[Path], directory: Path, result: Heat1DResult) -> dict[str, Any]:
    assert [path.name for path in paths] == list(heat1d.OUTPUT_NAMES)
    assert all(path.parent == directory and path.is_file() for path in paths)
    csv_path, meta_path, plot_path, field_path = paths

    with csv_path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["time", "center_temp", "mean_temp", "max_temp"]
    assert len(rows) == 1 + result.times.shape[0]
    first = [float(value) for value in rows[1]]
    assert first[0] == 0.0 and first[1] == pytest.approx(result.parameters.initial_temp)
    assert float(rows[-1][0]) == result.parameters.end_time

    meta: dict[str, Any] = json.loads(meta_path.read_text())
    assert meta["parameters"] == result.parameters.to_dict()
    assert meta["derived"]["r"] == pytest.approx(result.parameters.r)
    assert meta["derived"]["dx"] == pytest.approx(result.parameters.dx)
    assert meta["derived"]["dt"] == pytest.approx(result.parameters.dt)
    assert meta["summary"]["final_center_temp"] == pytest.approx(float(rows[-1][1]))
    assert meta["numpy_version"] == np.__version__
    assert meta["created_at"][:4].isdigit() and "T" in meta["created_at"]

    assert plot_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    field = np.load(field_path)
    assert field.shape == result.field.shape
    np.testing.assert_array_equal(field, result.field)
    return meta


def test_write_outputs_with_the_fallback_png(tmp_path: Path) -> None:
    result = heat1d.solve(Heat1DParameters(time_steps=50, snapshots=26))
    directory = tmp_path / "nested" / "out"
    paths = heat1d.write_outputs(result, directory, use_matplotlib=False)
    meta = check_outputs(paths, directory, result)
    assert meta["plot"] == "heatmap"
    chunks = read_png_chunks(paths[2].read_bytes())
    width, height, depth, colour, _, _, _ = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    assert (depth, colour) == (8, 2)
    assert len(zlib.decompress(chunks[b"IDAT"])) == height * (1 + 3 * width)


def test_write_outputs_falls_back_when_matplotlib_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(heat1d, "_import_matplotlib", lambda: None)
    result = heat1d.solve(Heat1DParameters(time_steps=10))
    paths = heat1d.write_outputs(result, tmp_path)
    assert check_outputs(paths, tmp_path, result)["plot"] == "heatmap"
    with pytest.raises(ImportError, match="matplotlib"):
        heat1d.write_outputs(result, tmp_path, use_matplotlib=True)


def test_write_outputs_with_matplotlib(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    result = heat1d.solve(Heat1DParameters(time_steps=20))
    paths = heat1d.write_outputs(result, tmp_path)
    assert check_outputs(paths, tmp_path, result)["plot"] == "matplotlib"


def test_run_solves_and_writes(tmp_path: Path) -> None:
    seen: list[float] = []
    result, paths = heat1d.run(Heat1DParameters(time_steps=10), tmp_path, seen.append)
    assert seen[-1] == 1.0
    check_outputs(paths, tmp_path, result)
    assert heat1d.format_progress(0.5) == "progress 0.50"


# --------------------------------------------------------------------------- png module


def test_png_round_trips_pixels() -> None:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, size=(7, 5, 3), dtype=np.uint8)
    chunks = read_png_chunks(png.encode_png(image))
    width, height = struct.unpack(">II", chunks[b"IHDR"][:8])
    assert (width, height) == (5, 7)
    raw = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), dtype=np.uint8).reshape(7, 16)
    assert np.all(raw[:, 0] == 0)
    np.testing.assert_array_equal(raw[:, 1:].reshape(7, 5, 3), image)


@pytest.mark.parametrize("values", [np.zeros((3, 4)), np.full((2, 2), np.nan), np.eye(50)])
def test_heatmap_handles_flat_missing_and_ordinary_data(values: np.ndarray[Any, Any]) -> None:
    image = png.heatmap(values, width=40, height=30)
    assert image.shape == (30, 40, 3) and image.dtype == np.uint8


def test_png_rejects_bad_images() -> None:
    with pytest.raises(ValueError, match="uint8"):
        png.encode_png(np.zeros((2, 2), dtype=np.uint8))
    with pytest.raises(ValueError, match="2-D"):
        png.heatmap(np.zeros(5))


def test_field_limits_are_enforced() -> None:
    values: Mapping[str, object] = {"spatial_steps": 10_000_001, "snapshots": 101}
    with pytest.raises(InvalidParameter, match="snapshots"):
        Heat1DParameters.from_mapping(values)
