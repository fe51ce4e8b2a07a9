"""A 200 MB artifact through the S3 blob store, against plain boto3 on the same server.

Starts rclone's S3 server (files on disk) on 127.0.0.1; uploads and downloads a
``--mb`` MB file with ``S3BlobStore.put_file``/``download`` and, as the
baseline measured in the same run, with boto3's ``upload_file``/
``download_file``. Prints the median of ``--repeat`` (at least 3) of each,
the store's throughput as a fraction of boto3's (target >= 0.9), and the
process's peak resident memory growth during the store's transfers (flat: far
below the file's size).

    python -m benchmarks.bench_s3 [--mb 200] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from benchmarks.measure import machine, median, spread
from simdock_adapters.blobs.s3 import S3BlobStore

BIN = Path(sys.executable).parent
KEY, SECRET = "bench", "bench-secret-key"


def client(endpoint: str) -> object:
    import boto3
    from botocore.config import Config

    return boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=KEY,
                        aws_secret_access_key=SECRET, region_name="us-east-1",
                        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def peak_rss_mb() -> float:
    with open("/proc/self/status") as status:
        kib = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    return kib / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    repeat = max(3, args.repeat)
    before = machine()
    work = Path(tempfile.mkdtemp(prefix="simdock-bench-s3-"))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([str(BIN / "rclone"), "serve", "s3", "--auth-key",
                               f"{KEY},{SECRET}", "--addr", f"127.0.0.1:{port}",
                               str(work / "server")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        endpoint = f"http://127.0.0.1:{port}"
        time.sleep(1)
        s3 = client(endpoint)
        bucket = f"bench-{uuid.uuid4().hex[:8]}"
        s3.create_bucket(Bucket=bucket)  # type: ignore[attr-defined]
        source = work / "artifact.bin"
        with source.open("wb") as handle:
            for _ in range(args.mb):
                handle.write(os.urandom(1024 * 1024))
        store = S3BlobStore(bucket, prefix="bench", client=s3)
        target = work / "back.bin"
        artifact = "runs/r/artifacts/artifact.bin"
        # The blob store's memory first, before boto3's own transfers raise the peak.
        rss_before = peak_rss_mb()
        store.put_file(artifact, source)
        store.download(artifact, target)
        sum(len(c) for c in store.open(artifact))
        growth = peak_rss_mb() - rss_before
        plain_up, ours_up, plain_down, ours_down, streamed = [], [], [], [], []
        for _ in range(repeat):  # interleaved, so neither side gets the warmer caches
            plain_up.append(timed(lambda: s3.upload_file(  # type: ignore[attr-defined]
                str(source), bucket, "plain.bin", Config=store.transfers)))
            ours_up.append(timed(lambda: store.put_file(artifact, source)))
            plain_down.append(timed(lambda: s3.download_file(  # type: ignore[attr-defined]
                bucket, "plain.bin", str(target), Config=store.transfers)))
            ours_down.append(timed(lambda: store.download(artifact, target)))
            streamed.append(timed(lambda: sum(len(c) for c in store.open(artifact))))
        assert target.stat().st_size == source.stat().st_size
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(work, ignore_errors=True)
    mb = args.mb
    print(f"{mb} MB artifact, rclone S3 server on 127.0.0.1; machine before: {before}")
    for name, ours, plain in (("upload", ours_up, plain_up), ("download", ours_down, plain_down)):
        ratio = median(plain) / median(ours)
        print(f"  {name:<9} boto3 (baseline) {spread(plain, ' s')} {mb / median(plain):6.0f} MB/s;"
              f" blob store {spread(ours, ' s')} {mb / median(ours):6.0f} MB/s; x{ratio:.2f} "
              f"(target 0.9: {'met' if ratio >= 0.9 else 'MISSED'})")
    print(f"  streamed read (open, 1 MiB chunks) {spread(streamed, ' s')} "
          f"{mb / median(streamed):6.0f} MB/s")
    print(f"  peak resident memory grew {growth:.0f} MB during the blob store's transfers "
          f"of a {mb} MB file")
    print(f"  machine after: {machine()}")


if __name__ == "__main__":
    main()
