"""What the scene models say about themselves, for people and editors: the JSON Schema
(`python -m pipeline schema`, shipped as scene.schema.json) and the key reference table
(docs/reference.md), both generated from schema.py so a key is described in one place only."""

from __future__ import annotations

import json
from pathlib import Path

from .schema import Scene

SCHEMA_FILE = Path(__file__).with_name("scene.schema.json")


VARS_SCHEMA = {
    "type": "object", "title": "Vars", "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
    "additionalProperties": {"type": ["string", "number", "boolean"]},
    "description": "named values with defaults, used as ${name} inside any string value; a batch's rows, "
                   "--set vars.NAME=VALUE and --vary give others (see docs/batch.md)",
}


def json_schema() -> dict:
    """The JSON Schema (draft 2020-12) a scene file must satisfy, as far as types can say:
    the Scene's keys, and `vars` (a template's values, taken out before validation)."""
    schema = Scene.model_json_schema(by_alias=True)
    schema["properties"] = {"vars": VARS_SCHEMA, **schema["properties"]}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema, "title": "dreamzoom scene"}


def schema_text() -> str:
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"


def _resolve(schema: dict, root: dict) -> dict:
    ref = schema.get("$ref")
    return {**root["$defs"][ref.split("/")[-1]], **{k: v for k, v in schema.items() if k != "$ref"}} if ref else schema


def _g(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _number(schema: dict) -> str:
    kind = "integer" if schema.get("type") == "integer" else "number"
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    high = schema.get("maximum")
    if low is None and high is None:
        return kind
    above = ">" if "exclusiveMinimum" in schema else ""
    if high is None:
        return f"{kind} {above or '≥'} {_g(low)}"
    if low is None:
        return f"{kind} ≤ {_g(high)}"
    return f"{kind} {above}{_g(low)} .. {_g(high)}"


def _takes(schema: dict, root: dict) -> str:
    """What a key accepts, in a few words."""
    schema = _resolve(schema, root)
    if "enum" in schema:
        return " \\| ".join(f"`{value}`" for value in schema["enum"])
    if "anyOf" in schema:
        options = [option for option in schema["anyOf"] if option.get("type") != "null"]
        if options[-1].get("title") == "keyframes":
            return _takes(options[0], root) + ", keyframable"
        return " or ".join(dict.fromkeys(_takes(option, root) for option in options))
    kind = schema.get("type")
    if kind in ("number", "integer"):
        return _number(schema)
    if kind == "array" and "prefixItems" in schema:
        return "[" + ", ".join(_takes(item, root) for item in schema["prefixItems"]) + "]"
    if kind == "array" and schema.get("minItems") == schema.get("maxItems") == 2:
        return f"pair of {_takes(schema['items'], root)}"
    if kind == "array":
        return f"list of {_takes(schema['items'], root)}"
    if kind == "object" and "properties" in schema:
        return "section"
    if kind == "object":
        return "mapping"
    if isinstance(kind, list):
        return " or ".join(kind)
    return kind or "any"


def _default(schema: dict) -> str:
    if "default" not in schema or schema["default"] is None:
        return ""
    return f"`{json.dumps(schema['default'])}`"


def _section(schema: dict, root: dict) -> tuple[dict | None, str]:
    """The keys below a key (a section, or a list of sections) and the path suffix they take."""
    options = [_resolve(o, root) for o in schema.get("anyOf", [schema])]
    for option in options:
        if "properties" in option and option.get("title") != "keyframes":
            return option, "."
        items = option.get("items")
        if option.get("type") == "array" and isinstance(items, dict) and "properties" in _resolve(items, root):
            return _resolve(items, root), "[]."
    return None, ""


def _rows(schema: dict, root: dict, prefix: str, shown: dict) -> list[str]:
    """One row per key, then the keys below it; a section met again (a segment's dream) is referred to."""
    rows = []
    required = set(schema.get("required", []))
    for key, field in schema.get("properties", {}).items():
        if field.get("readOnly"):
            continue  # written by dreamzoom, not by people
        name = f"{prefix}{key}"
        section, suffix = _section(_resolve(field, root), root)
        description = field.get("description", "")
        title = section.get("title") if section else None
        if title in shown:
            description += f"; the keys of `{shown[title]}`"
        default = "required" if key in required else _default(field)
        rows.append(f"| `{name}` | {_takes(field, root)} | {default} | {description} |")
        if section is not None and title not in shown:
            shown[title] = name
            rows += _rows(section, root, f"{name}{suffix}", shown)
    return rows


def key_reference() -> str:
    """The table of every scene key (docs/reference.md): what it takes, its default, what it does."""
    root = json_schema()
    header = ["| key | takes | default | what it does |", "| --- | --- | --- | --- |"]
    return "\n".join(header + _rows(root, root, "", {}))
