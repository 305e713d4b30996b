"""Every request checked before Dash reads it: a body limit, and callback bodies of the right shape.

Dash trusts the body of /_dash-update-component: a string, a missing key or an
output it does not know was a 500 with a traceback. Here each body is held to the
registered callback it names (its inputs and states, in order, with values of the
kind the page sends) and anything else is a 400, a body over the limit a 413 before
it is read, each with one log line. The callbacks only ever see well-formed input.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Mapping

from dash import Dash
from flask import Response, request
from werkzeug.exceptions import (
    BadRequest,
    HTTPException,
    RequestEntityTooLarge,
    UnsupportedMediaType,
)

from app.callbacks import X_RANGE
from core.times import utc_of_exchange_text

log = logging.getLogger(__name__)
REFUSALS = (400, 413, 415)
Check = Callable[[object], bool]


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_text(value: object) -> bool:
    return isinstance(value, str)


def _is_object(value: object) -> bool:
    return isinstance(value, dict)


def _is_bound(value: object) -> bool:
    """An axis end as plotly sends it: a finite number, or a time text it can read."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return math.isfinite(value)
    if not isinstance(value, str):
        return False
    try:
        utc_of_exchange_text(value)
    except (ValueError, TypeError, OverflowError):
        return False
    return True


def is_relayout(value: object) -> bool:
    """A plotly relayout event whose x ranges, where it sets any, are times."""
    if not isinstance(value, dict):
        return False
    for key, item in value.items():
        if not X_RANGE.match(key):
            continue  # a resize, a hover mode, a y axis: the callback ignores them
        if key.endswith("range"):
            if not (isinstance(item, list) and len(item) == 2 and all(map(_is_bound, item))):
                return False
        elif not _is_bound(item):
            return False
    return True


# What the page sends for each input and state; None (not set yet) always passes.
BY_PROPERTY: Mapping[str, Check] = {
    "n_clicks": _is_count,
    "n_intervals": _is_count,
    "n_submit": _is_count,
    "search": _is_text,
    "value": _is_text,
    "relayoutData": is_relayout,
}
# dcc.Store data by store id (the callbacks read the stores' contents leniently).
STORES: Mapping[str, Check] = {
    "theme": _is_text,
    "screen": _is_text,
    "page": _is_object,
    "edge": _is_object,
    "control-ops": _is_object,
    "control-applied": _is_count,
    "watch-edit": _is_object,
    "watch-undo-symbol": _is_text,
}


def check_of(component: object, prop: str) -> Check | None:
    """The check of an input's value, or None when none is declared (it then passes)."""
    if prop == "data" and isinstance(component, str):
        return STORES.get(component)
    return BY_PROPERTY.get(prop)


def _outputs_of(key: str) -> list[tuple[str, str]]:
    """A callback's outputs from its key: "a.b" or "..a.b...c.d..", as (id, property)."""
    parts = key[2:-2].split("...") if key.startswith("..") else [key]
    return [tuple(part.rsplit(".", 1)) for part in parts]  # type: ignore[misc]


def _same(items: object, declared: list[tuple[object, str]]) -> bool:
    return (
        isinstance(items, list)
        and len(items) == len(declared)
        and all(
            isinstance(item, dict) and (item.get("id"), item.get("property")) == want
            for item, want in zip(items, declared, strict=False)
        )
    )


def body_problem(body: object, callbacks: Mapping[str, dict]) -> str | None:
    """Why a callback request's body is not one the page could send, or None when it is."""
    if not isinstance(body, dict):
        return "the body is not a JSON object"
    output = body.get("output")
    spec = callbacks.get(output) if isinstance(output, str) else None
    if spec is None or spec.get("callback") is None:
        return "the output names no server callback"
    outputs = body.get("outputs")
    if not _same(outputs if isinstance(outputs, list) else [outputs], _outputs_of(output)):
        return "the outputs do not match the callback"
    for part in ("inputs", "state"):
        declared = [(i["id"], i["property"]) for i in spec[part]]
        items = body.get(part, [] if not declared else None)
        if not _same(items, declared):
            return f"the {part} do not match the callback"
        for item in items:
            check = check_of(item["id"], item["property"])
            value = item.get("value")
            if value is not None and check is not None and not check(value):
                return f"{item['id']}.{item['property']} is not a value the page sends"
    changed = body.get("changedPropIds", [])
    names = {f"{i['id']}.{i['property']}" for i in spec["inputs"]}
    if not isinstance(changed, list) or not all(c in names for c in changed):
        return "changedPropIds name no input of the callback"
    return None


def unchecked(callbacks: Mapping[str, dict]) -> list[str]:
    """The server callbacks' inputs and states that have no declared check (a test keeps it [])."""
    return [
        f"{i['id']}.{i['property']}"
        for spec in callbacks.values()
        if spec.get("callback") is not None
        for i in [*spec["inputs"], *spec["state"]]
        if check_of(i["id"], i["property"]) is None
    ]


CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def one_line(text: object, longest: int = 120) -> str:
    """Text for a log line: no line breaks (a forged line), and short."""
    return CONTROL.sub("?", str(text))[:longest]


def register_request_checks(app: Dash, max_bytes: int) -> None:
    """Refuse bodies over `max_bytes` (413) and malformed callback bodies (400/415): a line each."""
    server = app.server
    server.config["MAX_CONTENT_LENGTH"] = max_bytes  # a chunked body stops there as it is read
    update = f"{app.config.routes_pathname_prefix}_dash-update-component"

    def check() -> None:
        if (request.content_length or 0) > max_bytes:
            raise RequestEntityTooLarge(f"the body is over {max_bytes} bytes")  # before it is read
        if request.method != "POST" or request.path != update:
            return
        if not request.is_json:
            raise UnsupportedMediaType("a callback body is JSON")
        # A chunked body (no length) is read up to the limit and no further: reaching it is
        # too large, not a JSON body cut short.
        if request.content_length is None and len(request.get_data()) >= max_bytes:
            raise RequestEntityTooLarge(f"the body is over {max_bytes} bytes")
        body = request.get_json(silent=True)
        problem = "the body is not JSON" if body is None else body_problem(body, app.callback_map)
        if problem:
            raise BadRequest(problem)

    def refused(error: HTTPException) -> Response | HTTPException:
        log.warning(
            "refused %s %s: %s %s",
            request.method,
            one_line(request.path),
            error.code,
            one_line(error.description),
        )
        return error

    server.before_request(check)
    for code in REFUSALS:
        server.register_error_handler(code, refused)
