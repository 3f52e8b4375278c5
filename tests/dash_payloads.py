"""Build /_dash-update-component requests from the app's own callback map, as the browser would."""
from __future__ import annotations

import json


def find_callback(app, output_fragment: str) -> tuple[str, dict]:
    if not any("_pages_content" in k for k in app.callback_map):
        app.server.test_client().get("/")   # Dash registers the pages callbacks on first request
    for key, spec in app.callback_map.items():
        if output_fragment in key:
            return key, spec
    raise KeyError(output_fragment)


def _parse_output(key: str) -> list[dict]:
    parts = key.strip(".").split("...")
    outs = []
    for part in parts:
        ident, prop = part.rsplit(".", 1)
        outs.append({"id": json.loads(ident) if ident.startswith("{") else ident, "property": prop})
    return outs


def payload(app, output_fragment: str, values: dict) -> dict:
    """values maps "id.property" to the value the browser would send for each input and state."""
    key, spec = find_callback(app, output_fragment)
    outputs = _parse_output(key)
    inputs = [{"id": i["id"], "property": i["property"], "value": values.get(f'{i["id"]}.{i["property"]}')}
              for i in spec["inputs"]]
    state = [{"id": s["id"], "property": s["property"], "value": values.get(f'{s["id"]}.{s["property"]}')}
             for s in spec.get("state", [])]
    return {"output": key, "outputs": outputs if len(outputs) > 1 else outputs[0], "inputs": inputs,
            "state": state, "changedPropIds": [f'{inputs[0]["id"]}.{inputs[0]["property"]}']}
