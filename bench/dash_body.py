"""A registered Dash callback called as Dash serves it: the JSON body its answer sends.

It needs only Dash, so the benchmark's baseline worker (run on the page of
commit 859ba40) and the benchmark itself measure both pages the same way.
"""

from __future__ import annotations

import json
from contextvars import copy_context

from dash import Dash
from dash._utils import AttributeDict


def output_specs(key: str) -> list[dict]:
    """The outputs Dash's renderer names for a callback: `..a.b...c.d..` as [{id, property}]."""
    parts = key[2:-2].split("...") if key.startswith("..") else [key]
    specs = []
    for part in parts:
        ident, prop = part.rsplit(".", 1)
        specs.append({"id": ident, "property": prop})
    return specs


class ServedCallback:
    """One of `app`'s server callbacks, run through Dash's own wrapper.

    The wrapper validates the answer, drops the outputs left unchanged and
    serializes the rest with `to_json_plotly`: its return value is the body of
    the HTTP response, so its length is what goes over the wire (uncompressed).
    """

    def __init__(self, app: Dash, function) -> None:
        for key, entry in app.callback_map.items():
            if getattr(entry.get("callback"), "__wrapped__", None) is function:
                self.wrapper, self.outputs = entry["callback"], output_specs(key)
                return
        raise LookupError(f"{function.__name__} is not registered on this app")

    def body(self, trigger: str, *args: object) -> str:
        """The body Dash sends after `trigger` ("id.property") changed, for these inputs/states."""
        context = AttributeDict(
            triggered_inputs=[{"prop_id": trigger, "value": None}], updated_props={}
        )

        def run() -> str:
            return self.wrapper(*args, outputs_list=self.outputs, callback_context=context)

        return copy_context().run(run)  # the callback context stays in this call


def answer_of(body: str) -> dict:
    """What a body sets: {component id: {property: value}} (what the browser applies)."""
    return json.loads(body)["response"]


def output_bytes(body: str) -> dict[str, int]:
    """Each output's share of a body, in bytes of compact JSON: where the bytes go."""
    sizes = {}
    for ident, props in answer_of(body).items():
        for prop, value in props.items():
            sizes[f"{ident}.{prop}"] = len(json.dumps(value, separators=(",", ":")).encode())
    return sizes
