"""Routes declared with pydantic models, which both validate requests and describe them.

``Api.operation`` registers a view on a blueprint together with its query,
body and response models; :meth:`Api.openapi` derives the OpenAPI 3.1
document from those same models (pydantic generates every JSON schema), so
the document cannot drift from what the routes accept and return.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, g, jsonify, request
from pydantic import BaseModel
from pydantic import ValidationError as PydanticError
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from simdock.domain.text import NUL, check_text
from simdock_adapters.http.errors import (
    MalformedBody,
    RequestValidationError,
    UnsupportedMediaType,
)
from simdock_adapters.http.schemas import ErrorEnvelope

REF = "#/components/schemas/{model}"
JSON_TYPES = ("application/json",)
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_PATH_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")


@dataclass(frozen=True)
class Event:
    """One kind of server-sent event: what it means, and the model of its ``data`` (JSON)."""

    description: str
    data: type[BaseModel]


@dataclass(frozen=True)
class Raw:
    """A response that is not JSON (a zip, an event stream, a page).

    ``events`` names the server-sent events of a ``text/event-stream``; the document
    describes each event (OpenAPI 3.1 has a stream's ``schema`` describe one event):
    its name, its ``id`` and its ``data``, JSON of the event's model.
    """

    media_type: str
    description: str = ""
    events: Mapping[str, Event] = field(default_factory=dict)


@dataclass
class Operation:
    path: str
    method: str
    view_name: str
    summary: str
    description: str
    tags: list[str]
    query: type[BaseModel] | None
    body: type[BaseModel] | None
    form: type[BaseModel] | None
    responses: dict[int, type[BaseModel] | Raw | None]
    auth: bool
    errors: frozenset[int] = frozenset()
    path_params: list[tuple[str, str]] = field(default_factory=list)


class Api:
    """The operations of one HTTP API and its OpenAPI document."""

    def __init__(self, title: str, version: str, description: str = "") -> None:
        self.title, self.version, self.description = title, version, description
        self.operations: list[Operation] = []
        self.limits: list[tuple[type[BaseModel], str, dict[str, Any]]] = []
        self._openapi: dict[str, Any] | None = None

    def limit(self, model: type[BaseModel], name: str, **keywords: Any) -> None:
        """Say more in the document about ``model.name`` than its type can: what this
        deployment accepts (a maximum from the settings, the names of the installed
        handlers), so that the document describes what is accepted exactly."""
        self.limits.append((model, name, keywords))
        self._openapi = None

    def operation(
        self,
        blueprint: Blueprint,
        rule: str,
        method: str,
        *,
        responses: dict[int, type[BaseModel] | Raw | None],
        query: type[BaseModel] | None = None,
        body: type[BaseModel] | None = None,
        form: type[BaseModel] | None = None,
        auth: bool = True,
        tags: list[str] | None = None,
        authenticate: Callable[[], Any] | None = None,
        errors: frozenset[int] = frozenset(),
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Register ``view`` for ``method rule``; it receives ``user``, ``query``, ``body``.

        ``errors``: error statuses the view can answer beyond those implied by its
        inputs (every documented error uses the envelope).
        """

        def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
            doc = (view.__doc__ or "").strip().split("\n\n", 1)
            prefix = blueprint.url_prefix or ""
            self.operations.append(Operation(
                path=prefix + rule, method=method.lower(), view_name=view.__name__,
                summary=doc[0].replace("\n", " "),
                description=doc[1].strip() if len(doc) > 1 else "",
                tags=tags or [blueprint.name], query=query, body=body, form=form,
                responses=responses, auth=auth, errors=errors,
                path_params=[(name, conv or "string")
                             for conv, name in _PATH_PARAM.findall(rule)]))
            status = min(code for code in responses if code < 400)

            @functools.wraps(view)
            def handle(**path_values: Any) -> Any:
                arguments = dict(path_values)
                if auth and authenticate is not None:
                    arguments["user"] = authenticate()
                if query is not None:
                    arguments["query"] = parse_query(query)
                if body is not None:
                    arguments["body"] = parse_body(body, form)
                return render(view(**arguments), status)

            # Served with and without a trailing slash ("/simulations/" as seed 002 writes
            # it), with no redirect: many clients do not follow one for a POST.
            blueprint.add_url_rule(rule, view.__name__, handle, methods=[method.upper()],
                                   strict_slashes=False)
            self._openapi = None
            return view

        return decorator

    def openapi(self) -> dict[str, Any]:
        if self._openapi is None:
            self._openapi = build_openapi(self)
        return self._openapi


def parse_query(model: type[BaseModel]) -> BaseModel:
    values: dict[str, Any] = {}
    for key in request.args:
        items = request.args.getlist(key)
        values[key] = items if len(items) > 1 else items[0]
    try:
        return model.model_validate(values)
    except PydanticError as exc:
        raise RequestValidationError(describe(exc, "query parameter")) from None


def parse_body(model: type[BaseModel], form: type[BaseModel] | None) -> BaseModel:
    """The body as ``model`` (JSON, validated strictly: no strings for numbers, no
    booleans for integers) or as ``form`` when the route also takes a form."""
    mimetype = request.mimetype
    if form is not None and mimetype in FORM_TYPES:
        fields = request.form.to_dict()
        for name, value in fields.items():
            check_text(name, "a form field's name")
            check_text(value, f"form field '{name}'")
        try:
            return form.model_validate(fields)
        except PydanticError as exc:
            raise RequestValidationError(describe(exc, "field")) from None
    raw = request.get_data(cache=True)
    accepted = ", ".join(JSON_TYPES + (FORM_TYPES if form is not None else ()))
    if not raw:
        raise RequestValidationError(f"this route needs a request body ({accepted}); "
                                     "send {} to take every default")
    if mimetype not in JSON_TYPES and not mimetype.endswith("+json"):
        raise UnsupportedMediaType(
            f"unsupported Content-Type {mimetype or '(none)'!r}; send {accepted}")
    try:
        source = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedBody(f"the request body is not valid JSON: {exc}") from None
    except RecursionError:
        raise MalformedBody("the request body is nested too deeply") from None
    if not isinstance(source, dict):
        raise RequestValidationError("the request body must be a JSON object")
    # JSON can only carry a NUL or a lone surrogate as a \u escape: a body without one
    # needs no walk through every string it holds.
    problem = _unstorable(source) if _ESCAPES_TO_CHECK.search(raw) else None
    if problem is not None:
        raise MalformedBody(f"the request body holds {problem}")
    try:
        return model.model_validate_json(raw, strict=True)
    except PydanticError as exc:
        raise RequestValidationError(describe(exc, "field")) from None


_ESCAPES_TO_CHECK = re.compile(rb"\\u(?:0000|[dD][89abAB]|[dD][c-fC-F])")


def _unstorable(value: Any, depth: int = 0) -> str | None:
    """What no store can keep in a parsed JSON value: a lone surrogate or a NUL, or None."""
    if isinstance(value, str):
        if NUL in value:
            return "a NUL character (\\u0000), which cannot be stored"
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return ("a lone surrogate (\\ud800-\\udfff escape), which is not a unicode "
                    "character")
        return None
    if depth > 200:
        return None  # left to the schema's own nesting checks
    items: list[Any] = []
    if isinstance(value, dict):
        items = [*value.keys(), *value.values()]
    elif isinstance(value, list):
        items = value
    return next((p for p in (_unstorable(v, depth + 1) for v in items) if p), None)


def describe(error: PydanticError, what: str) -> str:
    """One readable line per problem: ``field 'params': Input should be a valid dictionary``."""
    parts = []
    for problem in error.errors(include_url=False)[:5]:
        location = ".".join(str(p) for p in problem["loc"]) or "body"
        parts.append(f"{what} '{location}': {problem['msg']}")
    return "; ".join(parts)


def render(result: Any, status: int) -> Any:
    if isinstance(result, Response):
        return result
    if isinstance(result, tuple):
        result, status = result
    if isinstance(result, BaseModel):
        response = jsonify(result.model_dump(mode="json"))
    else:
        response = jsonify(result)
    response.status_code = status
    return response


# -- the OpenAPI document ---------------------------------------------------

ERRORS = {
    400: "Invalid request", 403: "Not allowed to you", 404: "Not found (or not yours)",
    409: "Conflict with the resource's state", 413: "Body too large",
    414: "Request line (path and query) too long", 415: "Unsupported content type",
    422: "Request does not match the schema",
    429: "Too many attempts: try again after Retry-After seconds",
    431: "Request headers too large", 500: "Internal error",
    503: "A backing service is unavailable",
}
#: What the server itself answers (in the envelope) before any route sees the request.
SERVER_REFUSALS = frozenset({414, 431})


def build_openapi(api: Api) -> dict[str, Any]:
    inputs = {op.body for op in api.operations if op.body} | {
        op.form for op in api.operations if op.form}
    outputs = {m for op in api.operations for m in op.responses.values()
               if isinstance(m, type) and issubclass(m, BaseModel)} | {ErrorEnvelope} | {
        event.data for op in api.operations for m in op.responses.values()
        if isinstance(m, Raw) for event in m.events.values()}
    keys: list[tuple[type[BaseModel], JsonSchemaMode]] = [
        (m, "validation") for m in sorted(inputs, key=lambda m: m.__name__)]
    keys += [(m, "serialization") for m in sorted(outputs, key=lambda m: m.__name__)]
    refs, definitions = models_json_schema(keys, ref_template=REF)
    schemas = definitions.get("$defs", {})
    for model, name, keywords in api.limits:
        _narrow(schemas[model.__name__]["properties"][name], keywords)
    for model, mode in keys:
        if mode == "validation":
            name = refs[(model, mode)]["$ref"].rsplit("/", 1)[1]
            schemas[name] = storable(schemas[name])
    schemas[STORABLE_JSON] = STORABLE_JSON_SCHEMA
    paths: dict[str, dict[str, Any]] = {}
    for op in api.operations:
        path = _PATH_PARAM.sub(r"{\2}", op.path)
        paths.setdefault(path, {})[op.method] = _operation(op, refs, schemas)
    return {
        "openapi": "3.1.0",
        "info": {"title": api.title, "version": api.version, "description": api.description},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearerAuth": {
                "type": "http", "scheme": "bearer",
                "description": "An access token from /api/v1/auth/login or an API token "
                               "from /api/v1/auth/tokens"}},
        },
    }


def _operation(op: Operation, refs: dict[Any, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = {"operationId": op.view_name, "summary": op.summary, "tags": op.tags}
    if op.description:
        spec["description"] = op.description
    parameters = [{"name": name, "in": "path", "required": True,
                   "schema": storable({"type": "integer" if conv == "int" else "string"})}
                  for name, conv in op.path_params]
    if op.query is not None:
        schema = op.query.model_json_schema(ref_template=REF)
        schemas.update(schema.get("$defs", {}))  # what the query's parameters refer to
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            parameters.append({"name": name, "in": "query", "required": name in required,
                               "schema": storable(prop),
                               **({"description": prop["description"]}
                                  if "description" in prop else {})})
    if parameters:
        spec["parameters"] = parameters
    if op.body is not None:
        content = {"application/json": {"schema": refs[(op.body, "validation")]}}
        if op.form is not None:
            content["application/x-www-form-urlencoded"] = {
                "schema": refs[(op.form, "validation")]}
        spec["requestBody"] = {"required": True, "content": content}
    responses: dict[str, Any] = {}
    for status, model in sorted(op.responses.items()):
        responses[str(status)] = _response(status, model, refs)
    error = {"application/json": {"schema": refs[(ErrorEnvelope, "serialization")]}}
    implied = {400, 404, 500, 503} | SERVER_REFUSALS | set(op.errors)
    if op.auth:
        implied.add(401)
    if op.query is not None or op.body is not None:
        implied.add(422)
    if op.body is not None:
        implied |= {413, 415}
    if op.method in {"post", "put", "patch", "delete"}:
        implied.add(409)
    for status in sorted(implied):
        responses.setdefault(str(status), {
            "description": ERRORS.get(status, "Authentication required" if status == 401
                                      else "Error"), "content": error})
    spec["responses"] = responses
    if op.auth:
        spec["security"] = [{"bearerAuth": []}]
    return spec


#: What no store can keep, said in JSON Schema: a string holding a NUL character.
NO_NUL = "^[^\\u0000]*$"
STORABLE_JSON = "StorableJson"
STORABLE_JSON_SCHEMA: dict[str, Any] = {
    "description": "Any JSON value whose strings and keys hold no NUL character",
    "anyOf": [
        {"type": "string", "pattern": NO_NUL}, {"type": "number"}, {"type": "boolean"},
        {"type": "null"}, {"type": "array", "items": {"$ref": REF.format(model=STORABLE_JSON)}},
        {"type": "object", "propertyNames": {"pattern": NO_NUL},
         "additionalProperties": {"$ref": REF.format(model=STORABLE_JSON)}},
    ],
}


def storable(schema: Any) -> Any:
    """A request schema that says what validation refuses: no string, and no key, holding a
    NUL; a free JSON value (``Any``) a :data:`STORABLE_JSON` one."""
    if not isinstance(schema, dict):
        return schema
    if not schema or set(schema) <= {"title", "description", "default"}:
        return {**schema, "$ref": REF.format(model=STORABLE_JSON)}
    out = dict(schema)
    for key in ("properties", "$defs"):
        if key in out:
            out[key] = {name: storable(sub) for name, sub in out[key].items()}
    for key in ("anyOf", "allOf", "oneOf", "prefixItems"):
        if key in out:
            out[key] = [storable(sub) for sub in out[key]]
    if "items" in out:
        out["items"] = storable(out["items"])
    if out.get("additionalProperties") is True:
        out["additionalProperties"] = {"$ref": REF.format(model=STORABLE_JSON)}
    elif isinstance(out.get("additionalProperties"), dict):
        out["additionalProperties"] = storable(out["additionalProperties"])
    if out.get("type") == "object":
        out.setdefault("propertyNames", {"pattern": NO_NUL})
    if out.get("type") == "string" and not {"enum", "const", "format"} & set(out):
        if "pattern" in out:
            out["allOf"] = [*out.get("allOf", []), {"pattern": NO_NUL}]
        else:
            out["pattern"] = NO_NUL
    return out


def _narrow(schema: dict[str, Any], keywords: dict[str, Any]) -> None:
    """Apply ``keywords`` to a property's schema (to its non-null branch, if it may be null)."""
    branches = [b for b in schema.get("anyOf", []) if b.get("type") != "null"]
    target = branches[0] if len(branches) == 1 else schema
    target.update(keywords)
    if "enum" in keywords:
        for bound in ("pattern", "minLength", "maxLength"):
            target.pop(bound, None)


def _response(status: int, model: type[BaseModel] | Raw | None, refs: dict[Any, Any]
              ) -> dict[str, Any]:
    if model is None:
        return {"description": "No content"}
    if isinstance(model, Raw):
        schema: dict[str, Any] = {"type": "string"}
        if model.events:
            schema = _event_schema(model.events, refs)
        return {"description": model.description or "OK",
                "content": {model.media_type: {"schema": schema}}}
    return {"description": (model.__doc__ or "OK").strip().splitlines()[0],
            "content": {"application/json": {"schema": refs[(model, "serialization")]}}}


def _event_schema(events: Mapping[str, Event], refs: dict[Any, Any]) -> dict[str, Any]:
    """One server-sent event of a stream: each kind with its name, an optional ``id`` and
    its ``data``, a JSON text of the kind's model."""
    kinds = [{
        "type": "object",
        "description": event.description,
        "properties": {
            "event": {"const": name},
            "data": {"type": "string", "contentMediaType": "application/json",
                     "contentSchema": refs[(event.data, "serialization")]},
            "id": {"type": "string"},
            "retry": {"type": "integer"},
        },
        "required": ["event", "data"],
        "additionalProperties": False,
    } for name, event in events.items()]
    listed = "; ".join(f"`{name}`: {event.description}" for name, event in events.items())
    return {"description": "One server-sent event (`event:`, `data:` holding JSON, `id:`); "
                           f"`:` comments keep the stream alive. {listed}",
            "oneOf": kinds}


def current_request_id() -> str:
    return str(g.get("request_id", ""))
