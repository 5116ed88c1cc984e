"""Writes ``lifeline_client/frames.py``: the protocol's frames as ``TypedDict``s, generated from the
JSON Schema (schema/protocol.schema.json, itself generated from src/protocol). Run it from
clients/python after the schema changes: ``/usr/bin/python3 tests/generate_frames.py``;
tests/test_frames.py fails while frames.py is stale."""
from __future__ import annotations

import json
import pathlib
import sys
from typing import Any, Dict, List, Tuple

HERE = pathlib.Path(__file__).resolve().parent
SCHEMA = HERE.parent.parent.parent / "schema" / "protocol.schema.json"
TARGET = HERE.parent / "lifeline_client" / "frames.py"

# Parts before the frames that use them; the unions last.
ORDER_FIRST = ("EventPayload", "Gap", "Policy", "Features", "Health", "PresenceEntry")

HEADER = '''"""The protocol's frames as ``TypedDict``s (``total=False`` holds the optional fields, since the
package supports Python 3.9), generated from schema/protocol.schema.json by
tests/generate_frames.py; tests/test_frames.py fails when this file is stale. Do not edit by hand."""
from __future__ import annotations

from typing import Any, List, Literal, TypedDict, Union
'''


def _type_of(schema: Dict[str, Any], owner: str, prop: str, extra: List[Tuple[str, Dict[str, Any]]]) -> str:
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "const" in schema:
        return f"Literal[{json.dumps(schema['const'])}]"
    for key in ("oneOf", "anyOf"):
        if key in schema:
            return "Union[" + ", ".join(_type_of(s, owner, prop, extra) for s in schema[key]) + "]"
    kind = schema.get("type")
    if kind == "string":
        return "str"
    if kind == "integer":
        return "int"
    if kind == "number":
        return "float"
    if kind == "boolean":
        return "bool"
    if kind == "array":
        return f"List[{_type_of(schema.get('items', {}), owner, prop, extra)}]"
    if kind == "object" and "properties" in schema:
        name = owner.replace("Frame", "") + "".join(part.title() for part in prop.split("_"))
        extra.append((name, schema))
        return name
    return "Any"


def _class(name: str, schema: Dict[str, Any], extra: List[Tuple[str, Dict[str, Any]]]) -> str:
    props: Dict[str, Any] = schema.get("properties", {})
    required = [p for p in props if p in schema.get("required", [])]
    optional = [p for p in props if p not in required]
    lines = {p: f"    {p}: {_type_of(s, name, p, extra)}" for p, s in props.items()}
    doc = schema.get("description")
    out: List[str] = []
    if required and optional:
        out.append(f"class _{name}Required(TypedDict):")
        out += [lines[p] for p in required]
        out += ["", "", f"class {name}(_{name}Required, total=False):"]
        if doc:
            out.append(f'    """{doc}"""')
        out += [lines[p] for p in optional]
    else:
        out.append(f"class {name}(TypedDict{'' if required else ', total=False'}):")
        if doc:
            out.append(f'    """{doc}"""')
        out += [lines[p] for p in required + optional] or ["    pass"]
    return "\n".join(out)


def render() -> str:
    defs: Dict[str, Any] = json.loads(SCHEMA.read_text(encoding="utf-8"))["$defs"]
    names = [n for n in ORDER_FIRST if n in defs] + [n for n in defs if n not in ORDER_FIRST and "properties" in defs[n]]
    unions = [n for n in defs if "properties" not in defs[n]]
    blocks: List[str] = []
    for name in names:
        extra: List[Tuple[str, Dict[str, Any]]] = []
        body = _class(name, defs[name], extra)
        blocks += [_class(n, s, []) for n, s in extra]
        blocks.append(body)
    for name in unions:
        members = [str(s["$ref"]).rsplit("/", 1)[-1] for s in defs[name].get("oneOf", defs[name].get("anyOf", []))]
        blocks.append(f"{name} = Union[{', '.join(members)}]")
    return HEADER + "\n\n" + "\n\n\n".join(blocks) + "\n"


if __name__ == "__main__":
    TARGET.write_text(render(), encoding="utf-8")
    sys.stdout.write(f"wrote {TARGET}\n")
