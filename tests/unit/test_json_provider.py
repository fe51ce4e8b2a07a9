"""Answers encoded by orjson are the documents Flask's own provider writes."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from flask import Flask, jsonify

from simdock.codec import JsonText
from simdock_adapters.http.json_provider import Embedded, OrjsonProvider


def app_of(provider: bool) -> Flask:
    app = Flask("t")
    if provider:
        app.json = OrjsonProvider(app)
    app.json.sort_keys = False  # as the application's
    return app


DOCUMENTS = [
    {"runs": [{"id": 1, "request": {"x": 1.5, "é": "ü", "deep": [[1, 2], {"a": None}]}}]},
    {"big": 2**70, "small": -(2**63)},  # beyond 64 bits: orjson cannot, Flask's provider can
    {"when": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)},  # Flask writes an HTTP date
    [1, "two", 3.0, True, None],
]


def test_each_document_is_the_same_with_either_provider() -> None:
    for document in DOCUMENTS:
        with app_of(True).app_context():
            fast = jsonify(document).get_data()
        with app_of(False).app_context():
            plain = jsonify(document).get_data()
        assert json.loads(fast) == json.loads(plain), document
        assert fast.endswith(b"\n")


def test_dumps_falls_back_where_orjson_cannot_encode() -> None:
    app = app_of(True)
    assert json.loads(app.json.dumps({"n": 2**70})) == {"n": 2**70}
    assert app.json.dumps({"b": 1, "a": 2}) == '{"b":1,"a":2}'


def test_an_embedded_document_is_written_as_it_is_with_either_encoder() -> None:
    app = app_of(True)
    text = JsonText('{"a": [1, 2], "b": {"c": null}}')
    with app.app_context():
        fast = jsonify({"request": Embedded(text), "id": 1}).get_data()
        # Beside an integer orjson cannot write, Flask's provider writes it, reading it.
        slow = jsonify({"request": Embedded(text), "id": 2**70}).get_data()
    assert json.loads(fast) == {"request": {"a": [1, 2], "b": {"c": None}}, "id": 1}
    assert json.loads(slow) == {"request": {"a": [1, 2], "b": {"c": None}}, "id": 2**70}
