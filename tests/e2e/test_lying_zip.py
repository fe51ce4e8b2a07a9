"""A lying inputs.zip is refused when it is uploaded through ``/files/<token>``.

Seen before: 63 KB that unpack to 64 MB, declaring 1 KB, were stored with a 200
and refused only when a run unpacked them. Now the upload is a 400 naming the
entry, nothing is stored (runs cannot be added: the archive was never
uploaded), and an honest archive is then taken through the same link.
"""

from __future__ import annotations

import zlib

import pytest
import requests

from tests.e2e.helpers import TIMEOUT, User
from tests.e2e.uploads import epx_headers, epx_upload_link
from tests.zips import declaring, zipped

ZEROS = b"\0" * (64 << 20)
BOMB = declaring(zipped({"main.fred": b"x = 1\n", "data/zeros.bin": ZEROS}),
                 "data/zeros.bin", size=1_000)
RUN_REQUEST = {"workingDir": "/w", "size": "hot", "fredVersion": "latest",
               "population": {"version": "US_2010.v5", "locations": ["Loving_County_TX"]},
               "fredArgs": [{"flag": "-p", "value": "main.fred"}], "fredFiles": []}


@pytest.mark.parametrize("body", [
    BOMB, declaring(BOMB, "data/zeros.bin", crc=zlib.crc32(ZEROS[:1_000])),
], ids=["real-crc", "crc-of-what-it-declares"])
def test_a_zip_that_unpacks_to_more_than_it_declares_is_refused_at_upload(
        base_url: str, user: User, body: bytes) -> None:
    assert len(body) < 70_000
    url, job = epx_upload_link(base_url, user)
    answer = requests.put(url, data=body, timeout=TIMEOUT)
    assert answer.status_code == 400, answer.text
    assert "data/zeros.bin" in answer.text and "more than the 1000 bytes" in answer.text

    headers = epx_headers(user)
    runs = requests.post(f"{base_url}/runs", headers=headers, timeout=TIMEOUT,
                         json={"runRequests": [{**RUN_REQUEST, "jobId": job["id"]}]})
    assert runs.status_code == 400, runs.text
    assert "never uploaded" in runs.json()["description"]

    honest = zipped({"main.fred": b"x = 1\n", "data/zeros.bin": b"\0" * 1_000})
    assert requests.put(url, data=honest, timeout=TIMEOUT).status_code == 200
