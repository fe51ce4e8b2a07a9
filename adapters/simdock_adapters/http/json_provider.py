"""JSON answers encoded by orjson: the same documents as Flask's provider, made faster.

A list of runs or an Epistemix ``GET /runs`` of a thousand runs spends much of its
time encoding; orjson does that several times faster than the standard library. The
output is compact, as Flask's own provider writes it. What orjson cannot
encode (an integer beyond 64 bits, which parameters may hold; a type of its own it
does not know) falls back to Flask's provider, so no answer changes. Keys are sorted
where the provider's ``sort_keys`` says so.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from flask import Response
from flask.json.provider import DefaultJSONProvider
from werkzeug.sansio.response import Response as AnyResponse

#: Dates and dataclasses go to Flask's ``default`` as they would with its own provider.
OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


class Embedded:
    """A JSON document already encoded, to be written into an answer as it is (the
    parameters of a thousand runs, sent on as the store holds them)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = str(text)  # orjson embeds only a str itself, not a subclass


def _embedded(value: Any) -> Any:
    """orjson's ``default``: an embedded document as it is, else Flask's rules."""
    if isinstance(value, Embedded):
        return orjson.Fragment(value.text)
    return DefaultJSONProvider.default(value)


def _read_embedded(value: Any) -> Any:
    """The standard library's ``default``: an embedded document read, else Flask's rules."""
    if isinstance(value, Embedded):
        return json.loads(value.text)
    return DefaultJSONProvider.default(value)


class OrjsonProvider(DefaultJSONProvider):
    """Flask's JSON provider, encoding with orjson where it can."""

    default = staticmethod(_read_embedded)

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        if kwargs.get("indent"):
            return super().dumps(obj, **kwargs)
        try:
            return orjson.dumps(obj, default=_embedded, option=self._options()).decode()
        except TypeError:  # orjson.JSONEncodeError is a TypeError
            return super().dumps(obj, **kwargs)

    def response(self, *args: Any, **kwargs: Any) -> AnyResponse:
        obj = self._prepare_response_obj(args, kwargs)
        if self._app.debug or self.compact is False:
            return super().response(*args, **kwargs)
        try:
            body = orjson.dumps(obj, default=_embedded,
                                option=self._options() | orjson.OPT_APPEND_NEWLINE)
        except TypeError:
            return super().response(*args, **kwargs)
        return Response(body, mimetype=self.mimetype)

    def _options(self) -> int:
        return OPTIONS | orjson.OPT_SORT_KEYS if self.sort_keys else OPTIONS
