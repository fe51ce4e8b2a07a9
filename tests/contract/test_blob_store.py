"""The BlobStore contract: bytes by key, for every blob store adapter.

Adapters come from ``BLOB_STORE_ADAPTERS`` in ``tests/contract/adapters.py``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from simdock.errors import Conflict, NotFound, ValidationError
from simdock.ports import BlobStore
from tests.contract.adapters import (
    BLOB_STORE_ADAPTERS,
    BLOB_STORES_WITH_LOCAL_FILES,
    apply_known_bugs,
)


@pytest.fixture(params=list(BLOB_STORE_ADAPTERS))
def blob_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BlobStore]:
    adapter_id: str = request.param
    apply_known_bugs(request, adapter_id)
    with BLOB_STORE_ADAPTERS[adapter_id](tmp_path) as store:
        yield store


@pytest.fixture
def adapter_id(request: pytest.FixtureRequest, blob_store: BlobStore) -> str:
    name: str = request.node.callspec.params["blob_store"]
    return name


def write_file(directory: Path, name: str, data: bytes) -> Path:
    path = directory / name
    path.write_bytes(data)
    return path


# -- put, get, overwrite ---------------------------------------------------


def test_put_then_get_returns_the_same_bytes(blob_store: BlobStore) -> None:
    blob_store.put("runs/run-1/result.json", b'{"value": 1}', "application/json")

    assert blob_store.get("runs/run-1/result.json") == b'{"value": 1}'


def test_empty_blob_round_trips(blob_store: BlobStore) -> None:
    blob_store.put("empty", b"")

    assert blob_store.get("empty") == b""
    assert blob_store.exists("empty")


def test_binary_data_round_trips_unchanged(blob_store: BlobStore) -> None:
    data = bytes(range(256)) * 16 + b"\r\n\x00\xff"
    blob_store.put("bin/all-bytes", data)

    assert blob_store.get("bin/all-bytes") == data


def test_put_overwrites_an_existing_key(blob_store: BlobStore) -> None:
    blob_store.put("report.pdf", b"first version")
    blob_store.put("report.pdf", b"second")

    assert blob_store.get("report.pdf") == b"second"
    assert blob_store.list("report") == ["report.pdf"]


def test_put_file_stores_the_file_content_and_returns_its_size(
    blob_store: BlobStore, tmp_path: Path
) -> None:
    data = os.urandom(200_000)
    source = write_file(tmp_path, "field.npy", data)

    size = blob_store.put_file("runs/run-1/artifacts/field.npy", source)

    assert size == len(data)
    assert blob_store.get("runs/run-1/artifacts/field.npy") == data
    assert source.read_bytes() == data  # the source file is left alone


def test_put_file_overwrites_an_existing_key(blob_store: BlobStore, tmp_path: Path) -> None:
    blob_store.put("a/b.txt", b"old content that is longer")
    size = blob_store.put_file("a/b.txt", write_file(tmp_path, "b.txt", b"new"))

    assert size == 3
    assert blob_store.get("a/b.txt") == b"new"


# -- streaming -------------------------------------------------------------


def test_open_yields_chunks_that_join_to_the_content(blob_store: BlobStore) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)
    blob_store.put("large/3mb.bin", data)

    chunks = list(blob_store.open("large/3mb.bin"))

    assert all(isinstance(chunk, bytes) for chunk in chunks)
    assert b"".join(chunks) == data


def test_open_of_a_file_stored_with_put_file_streams_it_back(
    blob_store: BlobStore, tmp_path: Path
) -> None:
    data = os.urandom(3 * 1024 * 1024)
    blob_store.put_file("large/file.bin", write_file(tmp_path, "file.bin", data))

    assert b"".join(blob_store.open("large/file.bin")) == data


def test_open_of_an_empty_blob_yields_no_bytes(blob_store: BlobStore) -> None:
    blob_store.put("empty", b"")

    assert b"".join(blob_store.open("empty")) == b""


# -- missing keys ----------------------------------------------------------


def test_get_of_a_missing_key_raises_not_found(blob_store: BlobStore) -> None:
    with pytest.raises(NotFound):
        blob_store.get("runs/missing/result.json")


def test_open_of_a_missing_key_raises_not_found_before_streaming(blob_store: BlobStore) -> None:
    with pytest.raises(NotFound):
        blob_store.open("runs/missing/result.json")


def test_a_prefix_of_stored_keys_is_not_itself_a_blob(blob_store: BlobStore) -> None:
    blob_store.put("runs/run-1/result.json", b"{}")

    assert not blob_store.exists("runs/run-1")
    with pytest.raises(NotFound):
        blob_store.get("runs/run-1")
    with pytest.raises(NotFound):
        blob_store.open("runs/run-1")


# -- exists and delete -----------------------------------------------------


def test_exists_is_true_only_for_stored_keys(blob_store: BlobStore) -> None:
    blob_store.put("present", b"x")

    assert blob_store.exists("present")
    assert not blob_store.exists("absent")


def test_delete_removes_the_blob(blob_store: BlobStore) -> None:
    blob_store.put("doomed/blob", b"x")

    blob_store.delete("doomed/blob")

    assert not blob_store.exists("doomed/blob")
    assert blob_store.list("doomed") == []
    with pytest.raises(NotFound):
        blob_store.get("doomed/blob")


def test_delete_is_idempotent(blob_store: BlobStore) -> None:
    blob_store.put("twice", b"x")

    blob_store.delete("twice")
    blob_store.delete("twice")
    blob_store.delete("never-stored")

    assert not blob_store.exists("twice")


def test_delete_leaves_other_keys_alone(blob_store: BlobStore) -> None:
    for key in ("a/1", "a/2", "a/3"):
        blob_store.put(key, key.encode())

    blob_store.delete("a/2")

    assert blob_store.list("a/") == ["a/1", "a/3"]
    assert blob_store.get("a/1") == b"a/1"


def test_deleting_every_key_under_a_prefix_leaves_nothing_of_it(blob_store: BlobStore) -> None:
    """What a deleted run leaves: nothing, so its prefix can even become a key itself."""
    for key in ("runs/r1/result.json", "runs/r1/artifacts/out.csv", "runs/r2/result.json"):
        blob_store.put(key, b"x")

    for key in blob_store.list("runs/r1/"):
        blob_store.delete(key)

    assert blob_store.list("runs/r1") == []
    assert blob_store.list("") == ["runs/r2/result.json"]
    blob_store.put("runs/r1", b"now a blob")
    assert blob_store.get("runs/r1") == b"now a blob"


def test_delete_of_a_key_that_is_only_a_prefix_does_nothing(blob_store: BlobStore) -> None:
    blob_store.put("a/b", b"kept")

    blob_store.delete("a")

    assert blob_store.get("a/b") == b"kept"


def test_a_key_and_a_longer_key_under_it_are_both_kept_or_the_second_is_a_conflict(
    blob_store: BlobStore,
) -> None:
    """Object stores keep 'out' and 'out/log.txt' side by side; a store of files cannot,
    and must then refuse the second with Conflict, leaving the first intact."""
    blob_store.put("out", b"file")
    try:
        blob_store.put("out/log.txt", b"nested")
    except Conflict:
        assert blob_store.list("out") == ["out"]
    else:
        assert blob_store.get("out/log.txt") == b"nested"
        assert blob_store.list("out") == ["out", "out/log.txt"]
    assert blob_store.get("out") == b"file"


def test_a_key_that_is_a_prefix_of_stored_keys_is_kept_or_a_conflict(blob_store: BlobStore
                                                                      ) -> None:
    blob_store.put("out/log.txt", b"nested")
    try:
        blob_store.put("out", b"file")
    except Conflict:
        assert blob_store.list("out") == ["out/log.txt"]
    else:
        assert blob_store.get("out") == b"file"
        assert blob_store.list("out") == ["out", "out/log.txt"]
    assert blob_store.get("out/log.txt") == b"nested"


def test_put_file_under_a_stored_key_is_kept_or_a_conflict(blob_store: BlobStore,
                                                           tmp_path: Path) -> None:
    blob_store.put("out", b"file")
    try:
        size = blob_store.put_file("out/data.bin", write_file(tmp_path, "data.bin", b"abc"))
    except Conflict:
        assert blob_store.list("out") == ["out"]
    else:
        assert size == 3
        assert blob_store.get("out/data.bin") == b"abc"
    assert blob_store.get("out") == b"file"


# -- listing ---------------------------------------------------------------


def test_list_returns_the_keys_with_the_prefix_sorted(blob_store: BlobStore) -> None:
    for key in ("runs/r2/b", "runs/r1/z", "runs/r1/a", "reports/x.pdf", "runs-other"):
        blob_store.put(key, b"x")

    assert blob_store.list("runs/") == ["runs/r1/a", "runs/r1/z", "runs/r2/b"]
    assert blob_store.list("runs/r1/") == ["runs/r1/a", "runs/r1/z"]
    assert blob_store.list("runs") == ["runs-other", "runs/r1/a", "runs/r1/z", "runs/r2/b"]


def test_list_with_an_empty_prefix_returns_every_key(blob_store: BlobStore) -> None:
    for key in ("b", "a/c", "a/b"):
        blob_store.put(key, b"x")

    assert blob_store.list("") == ["a/b", "a/c", "b"]


def test_list_matches_a_partial_last_segment(blob_store: BlobStore) -> None:
    for key in ("reports/rep-10.pdf", "reports/rep-11.pdf", "reports/rep-2.pdf"):
        blob_store.put(key, b"x")

    assert blob_store.list("reports/rep-1") == ["reports/rep-10.pdf", "reports/rep-11.pdf"]


def test_list_of_an_unknown_prefix_is_empty(blob_store: BlobStore) -> None:
    assert blob_store.list("nothing/here") == []


@pytest.mark.parametrize("prefix", ["../", "a/../", "./a", "a//", "/a/", "a/./b"])
def test_a_prefix_no_key_can_have_lists_nothing(blob_store: BlobStore, prefix: str) -> None:
    blob_store.put("a/b", b"x")

    assert blob_store.list(prefix) == []


def test_list_includes_keys_that_look_like_temporary_files(blob_store: BlobStore) -> None:
    blob_store.put("runs/.tmp-notes", b"x")

    assert blob_store.exists("runs/.tmp-notes")
    assert blob_store.list("runs/") == ["runs/.tmp-notes"]


# -- key validation --------------------------------------------------------

INVALID_KEYS = ["../x", "/abs", "a//b", "", "a/../b", "a/./b", "..", ".", "a/", "a/.."]

Operation = Callable[[BlobStore, str, Path], object]

OPERATIONS: dict[str, Operation] = {
    "put": lambda store, key, tmp: store.put(key, b"x"),
    "put_file": lambda store, key, tmp: store.put_file(key, write_file(tmp, "f", b"x")),
    "get": lambda store, key, tmp: store.get(key),
    "open": lambda store, key, tmp: b"".join(store.open(key)),
    "exists": lambda store, key, tmp: store.exists(key),
    "delete": lambda store, key, tmp: store.delete(key),
}


@pytest.mark.parametrize("operation", list(OPERATIONS))
@pytest.mark.parametrize("key", INVALID_KEYS)
def test_invalid_keys_raise_validation_error(
    blob_store: BlobStore, tmp_path: Path, operation: str, key: str
) -> None:
    with pytest.raises(ValidationError):
        OPERATIONS[operation](blob_store, key, tmp_path)


def test_an_invalid_key_stores_nothing(blob_store: BlobStore) -> None:
    with pytest.raises(ValidationError):
        blob_store.put("a/../escaped", b"x")

    assert blob_store.list("") == []


# -- urls, local paths, health ---------------------------------------------


def test_url_is_a_string_or_none(blob_store: BlobStore) -> None:
    blob_store.put("reports/rep-1.pdf", b"%PDF")

    url = blob_store.url("reports/rep-1.pdf", expires_in=60)

    assert url is None or (isinstance(url, str) and url)


def test_check_passes_for_a_reachable_store(blob_store: BlobStore) -> None:
    blob_store.check()


def test_check_does_not_leave_keys_behind(blob_store: BlobStore) -> None:
    blob_store.check()

    assert blob_store.list("") == []


def test_local_path_gives_the_file_holding_the_blob_or_none(
    blob_store: BlobStore, adapter_id: str
) -> None:
    blob_store.put("runs/run-1/artifacts/out.csv", b"a,b\n1,2\n")

    path = blob_store.local_path("runs/run-1/artifacts/out.csv")

    if adapter_id in BLOB_STORES_WITH_LOCAL_FILES:
        assert isinstance(path, Path)
        assert path.read_bytes() == b"a,b\n1,2\n"
    else:
        assert path is None


# -- streaming writes and upload links ---------------------------------------


def test_put_stream_stores_the_chunks_and_returns_their_size(blob_store: BlobStore) -> None:
    chunks = [bytes([i]) * 300_000 for i in range(30)]  # 9 MB: more than one S3 part

    size = blob_store.put_stream("runs/r/artifacts/big.bin", iter(chunks))

    assert size == 9_000_000
    assert blob_store.get("runs/r/artifacts/big.bin") == b"".join(chunks)


def test_put_stream_of_nothing_stores_an_empty_blob(blob_store: BlobStore) -> None:
    assert blob_store.put_stream("empty.bin", iter([])) == 0
    assert blob_store.get("empty.bin") == b""


def test_a_stream_that_fails_part_way_stores_nothing(blob_store: BlobStore) -> None:
    def failing() -> Iterator[bytes]:
        yield b"x" * 1000
        raise RuntimeError("the producer failed")

    with pytest.raises(RuntimeError, match="the producer failed"):
        blob_store.put_stream("half.bin", failing())

    assert not blob_store.exists("half.bin")
    assert blob_store.list("half") == []


def test_upload_url_is_a_string_or_none(blob_store: BlobStore) -> None:
    url = blob_store.upload_url("uploads/data.csv", expires_in=60)

    assert url is None or (isinstance(url, str) and url)
