"""What logs and error answers may quote of a request: everything but its credentials."""

from __future__ import annotations

import json
import logging

import pytest

from simdock_adapters.logs import JsonFormatter
from simdock_adapters.redaction import redact, redact_values

API_TOKEN = "sdk_Fq3v0l9XwzHk2pNcQe7RtYu1IoPaSdFgHjKlZxCvBnM"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c3ItMSJ9.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"


@pytest.mark.parametrize(("text", "shown"), [
    ("GET /api/v1/downloads/AbC-_x09 404", "GET /api/v1/downloads/<token> 404"),
    ("DELETE /files/AbC-_x09 405", "DELETE /files/<token> 405"),
    ("GET /api/v1/downloads/AbC/x", "GET /api/v1/downloads/<token>/x"),
    ("http://127.0.0.1:8000/files/TOK?x=1", "http://127.0.0.1:8000/files/<token>?x=1"),
    (f"Invalid HTTP request line: 'GET /api/v1/jobs?token={API_TOKEN}\\x00 HTTP/1.1'",
     "Invalid HTTP request line: 'GET /api/v1/jobs?token=*** HTTP/1.1'"),
    ("/ws/convergence/run-1?x=1&token=abc&y=2", "/ws/convergence/run-1?x=1&token=***&y=2"),
    ("?access_token=abc", "?access_token=***"),
    ("https://s3/b/k?X-Amz-Signature=abc&X-Amz-Date=1",
     "https://s3/b/k?X-Amz-Signature=***&X-Amz-Date=1"),
    ("Authorization: Bearer abc.def", "Authorization: ***"),
    (f"{{'Offline-Token': 'Bearer {API_TOKEN}'}}", "{'Offline-Token': '***'}"),
    ("Cookie: session=abc; theme=dark", "Cookie: ***"),
    (f"token {API_TOKEN} refused", "token sdk_*** refused"),
    (f"bad credential {JWT}", "bad credential ***"),
    ("sent Bearer opaque-value", "sent Bearer ***"),
    ("postgresql://app:s3cret@db/simdock", "postgresql://app:***@db/simdock"),
])
def test_each_kind_of_credential_is_replaced(text: str, shown: str) -> None:
    assert redact(text) == shown
    assert redact(shown) == shown


@pytest.mark.parametrize("text", [
    "GET /api/v1/jobs/run-1?status=queued 200", "/data/artifacts/files/report.pdf",
    "runs/run-1/files/out.csv", "a tokenizer=3", "the key was rotated", ""])
def test_text_without_a_credential_is_unchanged(text: str) -> None:
    assert redact(text) == text


def test_documents_are_redacted_value_by_value_and_stay_valid() -> None:
    document = {"path": "/files/T0ken", "nested": [{"h": f'Authorization: "{JWT}"'}],
                f"?token={API_TOKEN}": 1, "n": 3}
    cleaned = redact_values(document)
    assert cleaned == {"path": "/files/<token>", "nested": [{"h": 'Authorization: "***"'}],
                       "?token=***": 1, "n": 3}


def test_a_json_log_line_holds_no_credential() -> None:
    record = logging.LogRecord("simdock.http.access", logging.INFO, __file__, 1,
                               "%s %s %s", ("PUT", f"/api/v1/downloads/{API_TOKEN}", 405),
                               None)
    record.fields = {"path": f"/files/{API_TOKEN}", "error": ValueError(f"token={JWT}")}
    line = JsonFormatter().format(record)
    assert API_TOKEN not in line and JWT not in line
    entry = json.loads(line)
    assert entry["message"] == "PUT /api/v1/downloads/<token> 405"
    assert entry["path"] == "/files/<token>" and entry["error"] == "token=***"
