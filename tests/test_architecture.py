"""The shape of the package: import rules, the three doors to one command, a plain install.

The rules keep each concern in one place: the scene format and the plan stay
free of torch (validation is instant), the dream core, models and image ops
know nothing of scenes, plans, sessions, files or the command line, and
nothing imports the command line.
"""

import ast
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.helpers import ROOT, small_scene

PACKAGE = ROOT / "pipeline"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_nodes(tree: ast.AST):
    """Every node that can run: `if TYPE_CHECKING:` blocks (imports for annotations only) are left out."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            yield from (n for child in node.orelse for n in [child, *_runtime_nodes(child)])
            continue
        yield node
        yield from _runtime_nodes(node)


def imports_of(path: Path) -> set[str]:
    """Every module `path` imports, at the top or inside functions, as absolute names."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in _runtime_nodes(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)  # `from . import x` imports a module
    return found


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    """pipeline module -> the pipeline modules and third-party top-level packages it imports."""
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    result = {}
    for name, path in modules.items():
        targets = set()
        for imported in imports_of(path):
            if imported.startswith("pipeline"):
                while imported not in modules and "." in imported:  # `from .x import Name` names a module x
                    imported = imported.rpartition(".")[0]
                targets.add(imported)
            else:
                targets.add(imported.split(".")[0])
        result[name] = targets - {name}
    return result


def subpackage(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and (PACKAGE / parts[1]).is_dir()) else ""


def reachable(graph, start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for target in graph.get(todo.pop(), ()):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def test_the_folders_are_the_architecture():
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert folders == {"scene", "plan", "session", "dream", "models", "image", "output", "cli", "tools", "media"}
    top = {p.name for p in PACKAGE.glob("*.py")}
    assert top == {"__init__.py", "__main__.py", "api.py", "bench.py"}, "the top of pipeline/ keeps only its doors"


def test_scene_and_plan_never_reach_torch(graph):
    for module in graph:
        if subpackage(module) in ("scene", "plan"):
            reached = reachable(graph, module)
            assert "torch" not in reached and "torchvision" not in reached, module


@pytest.mark.parametrize("inner", ["dream", "models", "image"])
def test_the_core_knows_nothing_of_scenes_plans_sessions_outputs_or_the_cli(graph, inner):
    outer = {"scene", "plan", "session", "output", "cli", "tools"}
    for module, targets in graph.items():
        if subpackage(module) == inner:
            wrong = {t for t in targets if t.startswith("pipeline.") and subpackage(t) in outer}
            assert not wrong, f"{module} imports {wrong}"


def test_image_ops_do_not_import_the_dream_core(graph):
    for module, targets in graph.items():
        if subpackage(module) == "image":
            assert not {t for t in targets if subpackage(t) == "dream"}, module


def test_scene_does_not_import_output(graph):
    for module, targets in graph.items():
        if subpackage(module) == "scene":
            assert not {t for t in targets if subpackage(t) == "output"}, module


def test_nothing_imports_the_cli(graph):
    for module, targets in graph.items():
        if subpackage(module) != "cli" and module != "pipeline.__main__":
            assert not {t for t in targets if subpackage(t) == "cli"}, module


def test_no_import_cycles(graph):
    internal = {m: {t for t in targets if t in graph} for m, targets in graph.items()}
    for module in internal:
        assert module not in reachable(internal, module), f"{module} imports itself through others"


def test_the_walk_sees_real_imports(graph):
    """Guards the rule tests: the walker finds imports of each kind it must see."""
    assert "torch" in graph["pipeline.dream.core"]
    assert "pipeline.scene.schema" in graph["pipeline.scene.load"]  # relative, top level
    assert "pipeline.session.devices" in graph["pipeline.cli.single"]  # relative, inside a function
    assert "pipeline.image.pixels" in graph["pipeline.session.recipe"]  # `from ..image import pixels`


BAD_SCENE = """
size: [128, 96]
frames: 4
segments:
  - frames: [0, 3]
    layers: cirles
"""


def poisoned_torch(tmp_path) -> dict:
    """An environment in which importing torch fails loudly."""
    fake = tmp_path / "poison"
    for name in ("torch", "torchvision"):
        (fake / name).mkdir(parents=True, exist_ok=True)
        (fake / name / "__init__.py").write_text(f"raise ImportError('{name} must not be imported here')\n")
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(fake), str(ROOT)])}


def test_a_bad_scene_is_refused_without_torch_in_well_under_a_second(tmp_path):
    scene = tmp_path / "bad.yaml"
    scene.write_text(BAD_SCENE.lstrip())
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run([sys.executable, "-m", "pipeline", str(scene)], capture_output=True, text=True,
                            env=poisoned_torch(tmp_path), cwd=tmp_path, timeout=60)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    took = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)  # CPU time: a busy machine
    # stretches the wall time, not the work
    assert result.returncode == 2, result.stderr
    assert f"{scene}:5: segments.0.layers: unknown layer 'cirles'" in result.stderr
    assert "Traceback" not in result.stderr
    assert took < 1.0, f"{took:.2f} s of CPU time with the interpreter's start"


@pytest.mark.slow
@pytest.mark.parametrize("door", [["render.py"], ["-m", "pipeline"]])
def test_every_door_runs_the_same_command(tmp_path, door):
    scene = tmp_path / "bad.yaml"
    scene.write_text(BAD_SCENE.lstrip())
    command = [sys.executable, *(str(ROOT / d) if d.endswith(".py") else d for d in door), str(scene)]
    result = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=60,
                            env=poisoned_torch(tmp_path))
    assert result.returncode == 2 and "unknown layer 'cirles'" in result.stderr
    usage = subprocess.run(command[:-1] + ["--help"], capture_output=True, text=True, cwd=tmp_path, timeout=60,
                           env=poisoned_torch(tmp_path))
    shown = "render.py" if door == ["render.py"] else "python -m pipeline"
    assert usage.returncode == 0 and usage.stdout.startswith(f"usage: {shown} ")


def test_the_console_script_is_the_same_command():
    from importlib.metadata import entry_points

    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "dreamzoom"]
    from pipeline.cli import main

    assert script.load() is main


@pytest.mark.install
def test_a_plain_install_runs_a_jobs_batch(tmp_path):
    """`pip install .` (not editable) into a fresh folder, then --jobs 2 from elsewhere: the children
    start as `python -m pipeline` of the installed package, not through the repository's render.py."""
    target = tmp_path / "site"
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".git", "*.egg-info", "build", "__pycache__",
                                                                 "renders", ".pytest_cache"))
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--target", str(target),
         str(source)], capture_output=True, text=True, timeout=300,
    )
    assert install.returncode == 0, install.stderr[-2000:]
    assert (target / "pipeline" / "models" / "imagenet_classes.txt").is_file()
    assert (target / "pipeline" / "models" / "fast" / "racing.py").is_file()
    scenes = []
    for name in ("one", "two"):
        path = tmp_path / "work" / f"{name}.yaml"
        path.parent.mkdir(exist_ok=True)
        path.write_text(yaml.safe_dump(small_scene(2, output=f"{name}.gif", start="#336699", weights="random")))
        scenes.append(path)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(target)
    result = subprocess.run(
        [sys.executable, "-m", "pipeline", *map(str, scenes), "--jobs", "2", "--device", "cpu", "--full"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path / "work", env=env,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    for name in ("one", "two"):
        assert (tmp_path / "work" / f"{name}.gif").is_file()
        sidecar = (tmp_path / "work" / f"{name}.gif.yaml").read_text()
        assert "command: python -m pipeline" in sidecar
    assert str(ROOT) not in sidecar


def test_a_batch_hands_each_scene_exactly_its_options():
    """The per-scene flags are rebuilt from the one option table: parsed again they give the same values."""
    from pipeline.cli.args import OPTIONS, parse_args, scene_flags

    given = parse_args(["a.yaml", "b.yaml", "--frames", "3:9", "--full", "--resume", "--precision", "bf16",
                        "--max-vram", "2.5", "--checkpoint-every", "7", "--jobs", "2", "--quiet", "--out", "x.mp4",
                        "--set", "dream.step=0.003", "--set", "vars.tagline=Dream on"])
    again = parse_args(["a.yaml", *scene_flags(given)])
    for option in OPTIONS:
        name = option.flag[2:].replace("-", "_")
        if option.per_scene:
            assert getattr(again, name) == getattr(given, name), option.flag
        else:
            assert option.flag not in scene_flags(given)
    assert scene_flags(parse_args(["a.yaml"])) == []
    with pytest.raises(SystemExit):
        parse_args(["a.yaml", "--preview", "--full"])


def test_media_stands_below_everything(graph):
    """ffmpeg, sound tracks and file hashes serve every package and use none of them, nor torch."""
    for module, targets in graph.items():
        if subpackage(module) == "media":
            wrong = {t for t in targets if t.startswith("pipeline.") and subpackage(t) != "media"}
            assert not wrong and "torch" not in targets, f"{module} imports {wrong or 'torch'}"


def test_plan_is_pure(graph):
    """The plan turns a scene into frames: it starts no program and reads no sound."""
    for module, targets in graph.items():
        if subpackage(module) == "plan":
            assert not {t for t in targets if subpackage(t) == "media"} and "subprocess" not in targets, module
