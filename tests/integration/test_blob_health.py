"""The local blob store's health check holds when many /health calls check it at once.

Seen before: every check wrote and removed the same probe file, so a check removing it
while another was about to made that one report the store unavailable, and /health
flapped between healthy and unhealthy under a monitor and a few clients.
"""

from __future__ import annotations

import threading
from pathlib import Path

from simdock.errors import ServiceUnavailable
from simdock_adapters.blobs.local import LocalBlobStore


def test_checks_made_at_once_never_fail_each_other(tmp_path: Path) -> None:
    store = LocalBlobStore(str(tmp_path / "blobs"))
    failures: list[str] = []

    def check_often() -> None:
        for _ in range(200):
            try:
                store.check()
            except ServiceUnavailable as exc:
                failures.append(str(exc))

    threads = [threading.Thread(target=check_often) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert list((tmp_path / "blobs").iterdir()) == []  # every probe was removed


def test_a_directory_that_cannot_be_written_is_unavailable(tmp_path: Path) -> None:
    root = tmp_path / "blobs"
    root.write_text("a file where the directory should be")
    try:
        LocalBlobStore(str(root)).check()
    except ServiceUnavailable as exc:
        assert "not writable" in str(exc)
    else:
        raise AssertionError("a blob directory that is a file was found healthy")
