"""Templates: one scene file, many resolved scenes.

A scene may declare `vars:` (named scalar values with defaults) and use `${name}` inside any
string value. Overrides (`--set PATH=VALUE`, a CSV row's cells, `--vary`, the API's `vars=` and
`set=`) replace values at dotted key paths. Both act on the parsed data, before validation, so
a value can never change the document's structure and every check and fingerprint works as for
a plain scene. A problem caused by an override is reported where the override came from
(`--set dream.step=x`, `rows.csv:3`), one in the file at its line.
"""

from __future__ import annotations

import copy
import json
import math
import re
import typing
from dataclasses import dataclass
from typing import Any, Literal, Union

import yaml
from pydantic import BaseModel

from .errors import did_you_mean

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
REFERENCE = re.compile(r"\$(\$?)\{([^{}]*)\}")  # ${name}; $${name} is the literal text ${name}
NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
MAX_TEXT = 4096  # characters in one value: a path, a tagline, a formula
MAX_INT = 2**63 - 1
MAX_VARS = 1000


class TemplateError(ValueError):
    """One problem with a value or an override; `where` says where it came from when not the file."""


@dataclass(frozen=True)
class Override:
    """A value put at `path` in the scene's data, from `where` ('--set a.b=1', 'rows.csv:3'), shown
    as `label` (the flag's path, the CSV column)."""

    path: tuple
    value: Any
    where: str
    label: str

    @property
    def dotted(self) -> str:
        return ".".join(str(p) for p in self.path)


def split_path(text: str) -> tuple:
    """'segments.1.layers' -> ('segments', 1, 'layers'); ValueError for an empty part."""
    parts = text.strip().split(".")
    if not text.strip() or any(not p.strip() for p in parts):
        raise TemplateError(f"'{text}' is not a key path: write dotted keys like dream.step or segments.0.layers")
    return tuple(int(p) if p.strip().isdigit() else p.strip() for p in parts)


PLAIN_INT = re.compile(r"[-+]?[0-9]+")
PLAIN_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)")


def read_scalar(text: str) -> Any:
    """A command-line or CSV value read as a scene file's plain value: 0.003 a number, true or false
    a switch, null nothing, 'quoted' or "quoted" the text inside, anything else the text itself.
    Only these forms: 'yes', '1:30', '0x1F', '007' as octal or a date stay text, and text that YAML
    would read as a list or a mapping ('[a, b]', 'Wake up: dream') stays that text: a value never
    adds structure."""
    plain = text.strip()
    if plain in ("null", "Null", "NULL", "~"):
        return None
    if plain in ("true", "True", "TRUE", "false", "False", "FALSE"):
        return plain.lower() == "true"
    if PLAIN_INT.fullmatch(plain):
        return int(plain)
    if PLAIN_FLOAT.fullmatch(plain):
        word = plain.lower().lstrip("+-")
        if word in (".inf", ".nan"):
            return float(("-" if plain.startswith("-") else "") + word[1:])
        return float(plain)
    if len(plain) > 1 and plain[0] == plain[-1] and plain[0] in "'\"":
        try:
            value = yaml.safe_load(plain)
        except yaml.YAMLError:
            return text
        return value if isinstance(value, str) else text
    return text


def read_var(text: str) -> Any:
    """A var's value from the command line or a CSV cell: as read_scalar reads it, a number checked
    (finite, not huge) but kept as written ('007', '1.50'), since a var is put into text as text."""
    value = read_scalar(text)
    if isinstance(value, (bool, int, float)):
        checked_var("value", value)
        return text.strip()
    return value


def scalar_text(value: Any) -> str:
    """The text read_scalar reads back as `value` (for a batch's child processes)."""
    if isinstance(value, str):
        return json.dumps(value)  # a double-quoted YAML string
    if value is None or isinstance(value, (bool, float)):
        return yaml.safe_dump(value, default_flow_style=True, width=1 << 30).splitlines()[0]
    return str(value)


def parse_set(text: str) -> tuple[tuple, Any]:
    """'dream.step=0.003' -> (('dream', 'step'), 0.003); TemplateError for a missing '='."""
    path, sep, value = text.partition("=")
    if not sep:
        raise TemplateError("write PATH=VALUE, e.g. dream.step=0.003 or vars.tagline=\"Dream on\"")
    path = split_path(path)
    return path, read_var(value) if path[0] == "vars" else read_scalar(value)


def checked_var(name: Any, value: Any) -> Any:
    """A var's value if it is one: a string, a finite number, true or false; TemplateError otherwise."""
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise TemplateError(f"'{name}' is not a variable name: use letters, digits and _, e.g. product")
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        if abs(value) > MAX_INT:
            raise TemplateError(f"{value} is too large: write at most {MAX_INT}")
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TemplateError(f"write a finite number, a text or true/false (got {value})")
        return value
    if isinstance(value, str):
        if len(value) > MAX_TEXT:
            raise TemplateError(f"the value has {len(value)} characters; a value has at most {MAX_TEXT}")
        if "\0" in value:
            raise TemplateError("the value holds a NUL character")
        return value
    what = {type(None): "nothing (null)", list: "a list", dict: "a mapping"}.get(type(value), type(value).__name__)
    raise TemplateError(f"a variable holds one value (a text, a number, true or false), got {what}")


def as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def put(data: dict, path: tuple, value: Any) -> None:
    """Set `value` at `path` in the parsed scene, making sections that are missing;
    TemplateError for a path that runs through a value or past a list's end."""
    node = data
    for depth, part in enumerate(path):
        last = depth == len(path) - 1
        here = ".".join(str(p) for p in path[:depth]) or "the scene"
        if isinstance(node, list):
            if not isinstance(part, int):
                raise TemplateError(f"{here} is a list: write an item's number (0, 1, ...), not '{part}'")
            if part >= len(node):
                raise TemplateError(f"{here} has {len(node)} item{'s' * (len(node) != 1)}"
                                    f"{f' (0-{len(node) - 1})' if node else ''}, no item {part}")
        elif isinstance(node, dict):
            if isinstance(part, int) and part not in node:
                part = str(part) if str(part) in node else part
            if not last and part not in node:
                node[part] = {}
        else:
            raise TemplateError(f"{here} is a value ({node!r}), not a section: it has no key '{part}'")
        if last:
            node[part] = value
        else:
            node = node[part]


def _strip(annotation):
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin is Union or type(annotation).__name__ == "UnionType":
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        else:
            return annotation


def wants_number(model: type[BaseModel], path: tuple) -> bool:
    """Whether the key at `path` takes a number (a plain one, keyframes, a weight), so that a
    substituted '1.02' is read as the number; False for keys that take text, files or sections."""
    annotation: Any = model
    for part in path:
        annotation = _strip(annotation)
        origin = typing.get_origin(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            fields = {f.alias or n: f for n, f in annotation.model_fields.items()}
            if part not in fields:
                return False
            annotation = fields[part].annotation
        elif origin in (list, tuple):
            args = typing.get_args(annotation)
            if origin is list or (len(args) == 2 and args[1] is Ellipsis):
                annotation = args[0]
            elif isinstance(part, int) and part < len(args):
                annotation = args[part]
            else:
                return False
        elif origin is dict:
            annotation = typing.get_args(annotation)[1]
        else:
            break  # inside a value that takes keyframes or weights: numbers
    annotation = _strip(annotation)
    if annotation is str or typing.get_origin(annotation) in (Literal, list, tuple, dict):
        return False
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return False
    if typing.get_origin(annotation) is Union and str in typing.get_args(annotation):
        return False
    return True


def _as_number(text: str) -> int | float | None:
    if not NUMBER.fullmatch(text.strip()):
        return None
    value = float(text) if any(c in text for c in ".eE") else int(text)
    return value if math.isfinite(value) and abs(value) <= MAX_INT else None


def substitute(data: Any, values: dict, model: type[BaseModel], path: tuple = (), uses: dict | None = None,
               problems: list | None = None) -> Any:
    """`data` with every `${name}` in its string values replaced by the value, once; `$${name}` is
    the text `${name}`. A string made entirely of substitutions that reads as a number becomes that
    number where the key takes one. Records the vars each path used in `uses` and appends
    (path, message) for unknown names to `problems`."""
    uses = {} if uses is None else uses
    problems = [] if problems is None else problems
    if isinstance(data, dict):
        return {key: substitute(value, values, model, path + (key,), uses, problems) for key, value in data.items()}
    if isinstance(data, list):
        return [substitute(value, values, model, path + (index,), uses, problems) for index, value in enumerate(data)]
    if not isinstance(data, str) or "${" not in data:
        return data
    used = []

    def replace(match: re.Match) -> str:
        escaped, name = match.groups()
        if escaped:
            return "${" + name + "}"
        if not NAME.fullmatch(name.strip()):
            problems.append((path, f"'${{{name}}}' is not a variable: write ${{name}} with letters, digits and _ "
                                   f"(or $${{...}} for the text itself)"))
            return match.group(0)
        name = name.strip()
        if name not in values:
            known = ", ".join(values) or "none"
            problems.append((path, f"unknown variable '{name}'{did_you_mean(name, values)} "
                                   f"(the scene's vars: {known}; declare it under vars:)"))
            return match.group(0)
        used.append(name)
        return as_text(values[name])

    result = REFERENCE.sub(replace, data)
    if not used:
        return result
    uses[path] = used
    if len(result) > MAX_TEXT:
        problems.append((path, f"with its variables this value has {len(result)} characters; a value has at "
                               f"most {MAX_TEXT}"))
    if wants_number(model, path):
        number = _as_number(result)
        if number is not None:
            return number
    return result


def apply(data: dict, overrides: list[Override], model: type[BaseModel]) -> tuple[dict, dict, list, list]:
    """The scene's data with the overrides put in place and its vars substituted:
    (data, uses {path: [var names]}, problems [(path, message)], override problems [(Override, message)]).
    `vars` is taken out: the resolved scene is an ordinary scene."""
    data = copy.deepcopy(data)  # the caller's (Scene.from_data's) data stays as it was
    declared = data.get("vars")
    problems, refused = [], []
    if declared is None:
        declared = {}
    elif not isinstance(declared, dict):
        problems.append((("vars",), "vars takes names with their default values, e.g. "
                                    "vars: {product: coffee.png, tagline: \"Wake up\"}"))
        declared = {}
    elif len(declared) > MAX_VARS:
        problems.append((("vars",), f"{len(declared)} variables; a scene has at most {MAX_VARS}"))
        declared = {}
    values = {}
    for name, value in declared.items():
        try:
            values[name] = checked_var(name, value)
        except TemplateError as error:
            problems.append((("vars", name), str(error)))
    data["vars"] = dict(values)
    for override in overrides:
        try:
            if override.path[0] == "vars":
                if len(override.path) != 2:
                    raise TemplateError("write vars.NAME=VALUE")
                name = override.path[1]
                if name not in values and not problems:
                    raise TemplateError(f"unknown variable '{name}'{did_you_mean(name, values)} "
                                        f"(the scene's vars: {', '.join(values) or 'none'})")
                values[name] = checked_var(name, override.value)
            else:
                put(data, override.path, override.value)
        except TemplateError as error:
            refused.append((override, str(error)))
    del data["vars"]
    uses: dict = {}
    data = substitute(data, values, model, (), uses, problems)
    return data, uses, problems, refused


def origin_of(field: str, overrides: list[Override], uses: dict) -> Override | None:
    """The override a problem at `field` (dotted) comes from: one at the path or above it, or a var
    the value there used that an override gave; None if the problem is the file's own."""
    def under(path: str) -> bool:
        return field == path or field.startswith(path + ".")

    found = [o for o in overrides if o.path[0] != "vars" and (under(o.dotted) or o.dotted.startswith(field + "."))]
    if found:
        return max(found, key=lambda o: len(o.path))  # the last and most specific
    for path, names in uses.items():
        if under(".".join(str(p) for p in path)):
            for override in reversed(overrides):
                if override.path[0] == "vars" and len(override.path) == 2 and override.path[1] in names:
                    return override
    return None


def placed(problems: list[tuple], overrides: list[Override], uses: dict, own: set = frozenset()) -> list[tuple]:
    """SceneError problems (line, field, message) with those an override caused moved to it:
    ('--set dream.step=x', 'dream.step', message) or ('rows.csv:3', 'column', 'field: message').
    `own`: (field, message) of problems the file has with its own vars' values; they stay the file's."""
    result = []
    for line, field, message in problems:
        override = origin_of(field, overrides, uses) if field else None
        if override is not None and override.path[0] == "vars" and (field, message) in own:
            override = None
        if override is None:
            result.append((line, field, message))
        elif field == override.dotted or field == override.label:
            result.append((override.where, override.label, message))
        else:
            result.append((override.where, override.label, f"{field}: {message}"))
    return result
