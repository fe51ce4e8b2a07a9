"""Pre-signed URLs of the S3 blob store, against a server that checks them (rclone's).

A GET link fetches the blob with no credentials until it expires; a tampered
or expired one is refused. A PUT link stores what is sent to it.
"""

from __future__ import annotations

import time
from pathlib import Path

import requests

from simdock_adapters.blobs.s3 import S3BlobStore
from tests.s3 import new_bucket, s3_client, s3_endpoint


def store() -> S3BlobStore:
    endpoint = s3_endpoint("rclone")
    return S3BlobStore(new_bucket(endpoint), prefix="p", client=s3_client(endpoint))


def test_a_download_link_fetches_the_blob_until_it_expires() -> None:
    blobs = store()
    blobs.put("reports/r/report.json", b'{"ok": true}', "application/json")

    url = blobs.url("reports/r/report.json", expires_in=2)
    assert url is not None
    fetched = requests.get(url, timeout=10)
    assert (fetched.status_code, fetched.content) == (200, b'{"ok": true}')

    time.sleep(3)
    assert requests.get(url, timeout=10).status_code in (400, 403)


def test_a_tampered_link_is_refused() -> None:
    blobs = store()
    blobs.put("a/secret.bin", b"secret")
    blobs.put("a/other.bin", b"other")
    url = blobs.url("a/secret.bin", expires_in=60)
    assert url is not None
    assert requests.get(url.replace("secret.bin", "other.bin"), timeout=10).status_code == 403


def test_an_upload_link_stores_what_is_put(tmp_path: Path) -> None:
    blobs = store()
    url = blobs.upload_url("uploads/data.csv", expires_in=60)
    assert requests.put(url, data=b"a,b\n1,2\n", timeout=10).status_code == 200
    assert blobs.get("uploads/data.csv") == b"a,b\n1,2\n"
    assert blobs.list("uploads/") == ["uploads/data.csv"]
