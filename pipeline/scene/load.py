"""Loading a scene file: safe YAML with the line of every key, pydantic
validation, then the meaning checks; every problem reported as
`file:LINE: field.path: message` before anything expensive runs.
"""

from __future__ import annotations

import os
import re
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from .checks import check_scene
from .clips import CLIP_SUFFIXES, ClipError, is_clip, probe
from .errors import SceneError, SceneIssue, WithinKey, did_you_mean
from .schema import FOOTAGE, Scene, public_keys
from .templates import Override, TemplateError, apply, placed, split_path
from .timing import Timing


def _key(node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":int"):
        try:
            return int(node.value)
        except ValueError:
            return node.value
    return node.value if isinstance(node, yaml.ScalarNode) else str(node.value)


MAX_SCENE_BYTES = 1 << 20  # a scene is a page of settings; anything larger is a mistake or an attack
MAX_VALUES = 100_000  # keys and items, aliases expanded: refuses "billion laughs" alias bombs
MAX_DEPTH = 50  # nesting levels


class _TooBig(Exception):
    def __init__(self, node: yaml.Node, message: str):
        self.line, self.message = node.start_mark.line + 1, message


def _line_map(node: yaml.Node, path: tuple, lines: dict, duplicates: list, budget: list | None = None) -> None:
    """Record the 1-based line of every key and list item, and duplicate keys. Counts every
    value it visits, aliases expanded, and stops (_TooBig) past MAX_VALUES or MAX_DEPTH."""
    budget = [MAX_VALUES] if budget is None else budget
    budget[0] -= 1
    if budget[0] < 0:
        raise _TooBig(node, f"the scene expands to more than {MAX_VALUES} values (YAML aliases repeated?)")
    if len(path) > MAX_DEPTH:
        raise _TooBig(node, f"values nested more than {MAX_DEPTH} levels deep")
    if isinstance(node, yaml.MappingNode):
        seen = set()
        for key_node, value_node in node.value:
            key = _key(key_node)
            if key in seen:
                duplicates.append((path + (key,), key_node.start_mark.line + 1))
            seen.add(key)
            lines[path + (key,)] = key_node.start_mark.line + 1
            _line_map(value_node, path + (key,), lines, duplicates, budget)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[path + (index,)] = item.start_mark.line + 1
            _line_map(item, path + (index,), lines, duplicates, budget)


def _line_of(lines: dict, path: tuple) -> int:
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return 1 if lines else 0  # a scene built from data has no lines


def _dotted(path: tuple) -> str:
    return ".".join(str(p) for p in path)


def _unwrap(annotation):
    """The model class inside Optional[...] / list[...], or None."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is None:
            return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if not args:
            return None
        annotation = args[0] if origin is not dict else args[-1]


def _model_at(path: tuple):
    model = Scene
    for part in path:
        if isinstance(part, int):
            continue
        fields = {f.alias or n: f for n, f in model.model_fields.items()} if model else {}
        field = fields.get(part)
        model = _unwrap(field.annotation) if field else None
    return model


def _pydantic_issue(error: dict) -> SceneIssue:
    path = tuple(error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        model = _model_at(path[:-1])
        allowed = public_keys(model) if model else []
        return SceneIssue(
            path,
            f"unknown key '{path[-1]}'{did_you_mean(path[-1], allowed)}"
            + (f" Allowed here: {', '.join(allowed)}" if allowed else ""),
        )
    given, limits = error.get("input"), error.get("ctx") or {}
    if kind == "missing" and path and isinstance(path[-1], int):  # a list one value short: `size: [360]`
        return SceneIssue(path[:-1], f"write {path[-1] + 1} values in [brackets], got {len(given)}")
    if kind == "missing":
        return SceneIssue(path, "this key is required")
    if kind in ("tuple_type", "list_type"):  # `size: 360x240` -> write [360, 240]
        numbers = re.findall(r"-?\d+(?:\.\d+)?", given) if isinstance(given, str) else []
        if len(numbers) > 1:
            return SceneIssue(path, f"write [{', '.join(numbers)}]")
        return SceneIssue(path, f"write a list in [brackets] (got {given!r})")
    if kind == "too_long" and "max_length" in limits:
        return SceneIssue(path, f"write at most {limits['max_length']} values, got {limits.get('actual_length')}")
    whole, number, boolean = "write a whole number", "write a number", "write true or false"
    words = {"int_type": whole, "int_parsing": whole, "int_from_float": whole, "float_type": number,
             "float_parsing": number, "bool_type": boolean, "bool_parsing": boolean,
             "greater_than_equal": f"write {limits.get('ge')} or more",
             "less_than_equal": f"write {limits.get('le')} or less",
             "greater_than": f"write more than {limits.get('gt')}", "less_than": f"write less than {limits.get('lt')}"}
    message = words.get(kind) or error["msg"].replace("Input should be ", "write ", 1)
    if kind == "value_error":
        message = message.removeprefix("Value error, ")
        cause = limits.get("error")
        if isinstance(cause, WithinKey):  # a layer's, channel's or class's weight: the path ends in its key
            return SceneIssue(path + (cause.key,), str(cause))
    elif "input" in error and not isinstance(given, (dict, list)):
        message += f" (got {given!r})"
    return SceneIssue(path, message)


def _parse(file: Path, text: str):
    """The data, the line of every key and item, and duplicate keys; SceneError for syntax
    errors, unsafe tags and scenes too large or too deep to be settings."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        lines: dict = {}
        duplicates: list = []
        _line_map(root, (), lines, duplicates)
        data = yaml.safe_load(text)  # bounded: every value has been walked, aliases expanded
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or str(error)
        raise SceneError(file, [(mark.line + 1 if mark else 0, "", f"YAML syntax error: {problem}")]) from None
    except _TooBig as error:
        raise SceneError(file, [(error.line, "", error.message)]) from None
    except RecursionError:
        raise SceneError(file, [(0, "", f"values nested more than {MAX_DEPTH} levels deep")]) from None
    return data, lines, duplicates


def load_scene(file: str | Path, vars: dict | None = None, set: dict | None = None, *,
               overrides: list[Override] | None = None) -> Scene:
    """Read and fully validate a scene file; raises SceneError listing every problem.

    vars: values for the scene's `vars` ({"product": "tea.png"}); set: values at dotted key paths
    ({"dream.step": 0.003, "segments.1.layers": "parts"}), as `--set` gives them. Both are applied
    before validation, so the result is checked as fully as a file that said so.
    `overrides`: the same from the command line or a batch's rows, each saying where it came from."""
    overrides = list(overrides or []) + api_overrides(vars, set)
    file = Path(file)
    if not file.exists():
        raise SceneError(file, [(0, "", "no such file")])
    if file.is_dir():
        raise SceneError(file, [(0, "", "is a directory, not a scene file")])
    try:
        if file.stat().st_size > MAX_SCENE_BYTES:
            raise SceneError(file, [(0, "", f"is {file.stat().st_size} bytes; a scene file has at most "
                                            f"{MAX_SCENE_BYTES} (is this the right file?)")])
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SceneError(file, [(0, "", f"cannot read: {error}")]) from None
    data, lines, duplicates = _parse(file, text)
    if not isinstance(data, dict):
        raise SceneError(file, [(1, "", "a scene file is a YAML mapping (key: value lines)")])
    if duplicates:
        raise SceneError(file, [(line, _dotted(path), "appears twice") for path, line in duplicates])
    if "vars" not in data and not overrides:
        return _validated(_with_clip_length(data, file, lines), file, lines)
    return resolved(data, file, lines, overrides)


def declared_vars(file: str | Path) -> dict:
    """The vars a scene file declares, with their defaults; {} when it declares none or cannot be
    read (loading it then says why)."""
    try:
        if Path(file).stat().st_size > MAX_SCENE_BYTES:
            return {}
        data, _, _ = _parse(Path(file), Path(file).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, SceneError):
        return {}
    declared = data.get("vars") if isinstance(data, dict) else None
    return dict(declared) if isinstance(declared, dict) else {}


def api_overrides(vars: dict | None, set: dict | None) -> list[Override]:
    """load_scene's `vars=` and `set=` as overrides; TypeError for arguments that are not mappings."""
    found = []
    for argument, given in (("vars", vars), ("set", set)):
        if given is None:
            continue
        if not isinstance(given, dict):
            raise TypeError(f"{argument} takes a dict, like {{'product': 'tea.png'}}, got {given!r}")
        for key, value in given.items():
            if not isinstance(key, str):
                raise TypeError(f"{argument} takes text keys, got {key!r}")
            where = f"{argument}[{key!r}]"
            try:
                path = ("vars", key) if argument == "vars" else split_path(key)
            except TemplateError as error:
                raise ValueError(f"{where}: {error}") from None
            found.append(Override(path, value, where, key))
    return found


def resolved(data: dict, file: Path, lines: dict, overrides: list[Override]) -> Scene:
    """The scene `data` describes once its overrides are in place and its vars substituted
    (templates.py), validated as if the file said so; problems an override caused name it."""
    resolved_data, uses, problems, refused = apply(data, overrides, Scene)
    if refused:
        raise SceneError(file, [(o.where, o.label, message) for o, message in refused])
    if problems:
        raise SceneError(file, placed([(_line_of(lines, p), _dotted(p), m) for p, m in problems], overrides, uses))
    try:
        return _validated(_with_clip_length(resolved_data, file, lines), file, lines)
    except SceneError as error:
        own = _own_problems(data, file, lines, overrides) if any(o.path[0] == "vars" for o in overrides) else set()
        raise SceneError(file, placed(error.problems, overrides, uses, own)) from None


def _own_problems(data: dict, file: Path, lines: dict, overrides: list[Override]) -> set[tuple[str, str]]:
    """(field, message) of the problems the scene has with its own vars' values: one that is there
    too is the file's, not an override's that gave a var it uses."""
    kept = [o for o in overrides if o.path[0] != "vars"]
    plain, _, problems, refused = apply(data, kept, Scene)
    if problems or refused:
        return set()
    try:
        _validated(_with_clip_length(plain, file, lines), file, lines)
    except SceneError as error:
        return {(field, message) for _, field, message in error.problems}
    return set()


def _with_clip_length(data: dict, file: Path, lines: dict) -> dict:
    """A start clip's frame rate and length stand in for fps and frames the scene leaves out (the
    timeline must be known before the scene is validated); a clip that cannot be played is the one
    problem reported."""
    start = data.get("start")
    try:
        path = file.parent / start if isinstance(start, str) and start and "\0" not in start else None
        if path is not None and path.suffix.lower() in CLIP_SUFFIXES and not path.is_file():
            what = "not found" if not path.exists() else "not a file"
            raise SceneError(file, [(_line_of(lines, ("start",)), "start", f"clip '{path}' {what}; start takes "
                                                                            f"{FOOTAGE}")])
        if path is None or not path.is_file() or not is_clip(path):
            return data
    except OSError:  # a name the system refuses is reported by the checks
        return data
    try:
        clip = probe(path)
    except ClipError as error:
        raise SceneError(file, [(_line_of(lines, ("start",)), "start", str(error))]) from None
    filled = dict(data)
    if "fps" not in data:
        filled["fps"] = clip.fps
    if "frames" not in data and "duration" not in data:
        filled["frames"] = clip.frames_at(Timing.of(filled).fps)
    return filled


def _validated(data: Any, file: Path, lines: dict, timing: Timing | None = None) -> Scene:
    """The Scene `data` describes, read as if from `file`; SceneError lists every problem.
    `timing` (with the sound track's tempo and features) is given once the audio is analysed."""
    timing = timing or Timing.of(data)
    try:
        scene = Scene.model_validate(data, context={"timing": timing})
    except ValidationError as error:
        # a list short of several values is one problem, named with the count it needs: `size: []`
        errors = error.errors()
        short = [e for e in errors if e["type"] == "missing" and e["loc"] and isinstance(e["loc"][-1], int)]
        needed = {}
        for e in short:
            needed[e["loc"][:-1]] = max(needed.get(e["loc"][:-1], 0), e["loc"][-1])
        issues = [_pydantic_issue(e) for e in errors
                  if not any(e is s and e["loc"][-1] != needed[e["loc"][:-1]] for s in short)]
        raise SceneError(file, [(_line_of(lines, i.path), _dotted(i.path), i.message) for i in issues]) from None
    scene._file, scene._source, scene._timing = file, (data, lines), timing
    issues = check_scene(scene, timeline=not timing.provisional)
    if issues:
        raise SceneError(file, [(_line_of(lines, i.path), _dotted(i.path), i.message) for i in issues])
    return scene


def revalidated(scene: Scene, timing: Timing) -> Scene:
    """The scene validated again with the sound track's tempo and features (scene/audio.py):
    beats land where the music has them and audio formulas get their values, every problem
    still reported with its line."""
    data, lines = scene._source
    return _validated(data, scene.file, lines, timing)


def scene_error(scene: Scene, path: tuple, message: str) -> SceneError:
    """A problem with `scene` found after loading, reported at the line of `path`."""
    _, lines = scene._source
    return SceneError(scene.file, [(_line_of(lines, path), _dotted(path), message)])


def scene_from_data(data: dict, base_dir: str | Path = ".", name: str = "scene", *, vars: dict | None = None,
                    set: dict | None = None) -> Scene:
    """A scene from a dict, as from a file named NAME.yaml in `base_dir`: relative paths resolve
    there, the default output is base_dir/renders/NAME.mp4, and it is checked as fully as a file.
    `vars` and `set` as for load_scene."""
    overrides = api_overrides(vars, set)
    if not isinstance(base_dir, (str, os.PathLike)):
        raise TypeError(f"base_dir takes a folder path (str or Path), got {base_dir!r}")
    if not isinstance(name, str) or not name or name in (".", "..") or any(c in name for c in "/\\\0\n\r"):
        raise ValueError(f"name takes a plain file name without folders (the output is renders/NAME.mp4), "
                         f"got {name!r}")
    file = Path(base_dir) / f"{name}.yaml"
    if not isinstance(data, dict):
        raise SceneError(file, [(0, "", f"a scene is a mapping of keys to values, got {type(data).__name__}")])
    if "vars" in data or overrides:
        return resolved(data, file, {}, overrides)
    return _validated(_with_clip_length(data, file, {}), file, {})


Scene.from_data = staticmethod(scene_from_data)
