"""The documentation stays true: the generated key reference is the models' own, every scene
shown in the docs loads, every page is on the site and says something, the README stays a
front door."""

import re

import pytest
import yaml

from pipeline.cli.args import OPTIONS
from pipeline.cli.outcome import EXIT_BAD_INPUT, EXIT_BUSY, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK
from pipeline.models.zoo import ALIASES, ZOO
from pipeline.scene import Scene, SceneError
from pipeline.scene.reference import key_reference

from tests.helpers import ROOT

DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md"))
README = ROOT / "README.md"
FRAGMENT = "# fragment"  # a first line that marks a YAML block as part of a scene, not a whole one
BEGIN, END = "<!-- scene keys: generated, do not edit -->", "<!-- end of scene keys -->"


def yaml_blocks(path):
    """(line of the block's first line, text) for each ```yaml block of a Markdown file."""
    text = path.read_text()
    return [(text.count("\n", 0, match.start(1)) + 1, match.group(1))
            for match in re.finditer(r"^```yaml\n(.*?)^```$", text, re.S | re.M)]


BLOCKS = [(path, line, text) for path in [README, *PAGES] for line, text in yaml_blocks(path)]


def prose(text: str) -> str:
    """A page without its code blocks, tables, headings, images and HTML comments."""
    text = re.sub(r"^```.*?^```$", "", text, flags=re.S | re.M)
    lines = [line for line in text.splitlines()
             if not line.startswith(("|", "#", "![", "<!--")) and line.strip()]
    return " ".join(lines)


def nav_pages(nav) -> list[str]:
    """Every page named in mkdocs.yml's nav, however deep."""
    pages = []
    for item in nav:
        for value in (item.values() if isinstance(item, dict) else [item]):
            pages += nav_pages(value) if isinstance(value, list) else [value]
    return pages


# ---------------------------------------------------------------- the generated reference

def test_the_key_reference_page_is_the_generated_one():
    page = (DOCS / "reference.md").read_text()
    table = re.search(re.escape(BEGIN) + r"\n(.*?)\n" + re.escape(END), page, re.S)
    assert table, "docs/reference.md lost its generated key reference markers"
    assert table.group(1) == key_reference(), \
        "run `python -m pipeline schema --markdown` and paste it between the markers in docs/reference.md"


def test_every_key_of_the_reference_is_on_its_page():
    page = (DOCS / "reference.md").read_text()
    keys = re.findall(r"^\| `([^`]+)` \|", key_reference(), re.M)
    assert len(keys) > 50 and "motion.zoom" in keys
    assert [key for key in keys if f"| `{key}` |" not in page] == []


def test_the_reference_lives_in_one_place_only():
    """The generated table is on one page: a second copy would go stale unseen."""
    holders = [path.name for path in [README, *PAGES] if BEGIN in path.read_text()]
    assert holders == ["reference.md"]


# ---------------------------------------------------------------- scenes shown in the docs

def test_the_docs_show_scenes():
    assert len(BLOCKS) >= 8
    assert any(path == README for path, _, _ in BLOCKS)


@pytest.mark.parametrize("path, line, text", BLOCKS,
                         ids=[f"{path.name}:{line}" for path, line, text in BLOCKS])
def test_every_scene_in_the_docs_loads(path, line, text):
    """Each YAML block is a whole scene, checked as fully as a file beside the sample scenes (so
    logo.png, badge.png, pulse.m4a and turntable.mp4 are there), unless its first line says it
    is a fragment; a fragment must still be YAML."""
    where = f"{path.relative_to(ROOT)}:{line}"
    data = yaml.safe_load(text)
    if text.startswith(FRAGMENT):
        assert data is not None, f"{where}: an empty fragment"
        return
    assert isinstance(data, dict), f"{where}: a scene is a mapping (or mark the block '{FRAGMENT}')"
    try:
        Scene.from_data(data, base_dir=ROOT / "scenes", name="docs-example")
    except SceneError as error:
        pytest.fail(f"{where}: the scene shown does not load:\n{error.render()}")


# ---------------------------------------------------------------- the site

def test_every_page_is_on_the_site_and_every_entry_is_a_page():
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    listed = nav_pages(config["nav"])
    assert sorted(listed) == sorted(path.name for path in PAGES)
    assert config.get("strict", False) or "--strict" in (ROOT / ".ci" / "run").read_text()


@pytest.mark.parametrize("path", PAGES, ids=[path.name for path in PAGES])
def test_no_page_is_a_stub(path):
    text = path.read_text()
    assert text.startswith("# "), f"{path.name}: a page starts with its title"
    assert len(prose(text)) >= 600, f"{path.name}: {len(prose(text))} characters of prose"
    assert not re.search(r"\b(TODO|TBD|coming soon)\b", text, re.I)


@pytest.mark.parametrize("path", [README, *PAGES], ids=["README.md", *(path.name for path in PAGES)])
def test_links_between_pages_land(path):
    for target in re.findall(r"\]\(([^)#\s]+\.(?:md|png|gif))(?:#[^)]*)?\)", path.read_text()):
        assert (path.parent / target).is_file(), f"{path.name} links to {target}, which is not there"


# ---------------------------------------------------------------- pages that mirror the code

def test_the_command_line_page_names_every_option_and_exit_code():
    page = (DOCS / "cli.md").read_text()
    assert [option.flag for option in OPTIONS if f"`{option.flag}" not in page] == []
    for subcommand in ("layers", "atlas", "schema", "check"):
        assert f"render.py {subcommand}" in page
    for code in (EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_BUSY, EXIT_INTERRUPTED, 143, 129):
        assert re.search(rf"^\| (\d+, )*{code}\b", page, re.M), f"exit code {code}"


def test_the_models_page_names_every_model_and_its_aliases():
    page = (DOCS / "models.md").read_text()
    for spec in ZOO.values():
        row = f"| `{spec.name}` | " + " | ".join(f"`{spec.aliases[alias]}`" for alias in ALIASES) + \
            f" | {spec.min_size} px |"
        assert row in page.splitlines(), f"docs/models.md should have the row\n{row}"


def test_the_dependencies_page_names_every_dependency():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11 and later
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = project["dependencies"] + [name for extra in project["optional-dependencies"].values()
                                       for name in extra]
    page = (DOCS / "dependencies.md").read_text().lower()
    bare = {re.split(r"[<>=\[ ]", name)[0].lower() for name in names}
    assert [name for name in sorted(bare) if f"**{name}**" not in page] == []


# ---------------------------------------------------------------- the front door

def test_the_readme_is_a_front_door():
    text = README.read_text()
    assert len(text.splitlines()) <= 200
    assert "pip install -e . && python render.py scenes/logo.yaml" in text
    assert "pip install -e '.[test]' && python -m pytest" in text
    assert 'python -m pytest -m "not slow"' in text
    assert "docs/logo-frames.png" in text and "docs/logo.gif" in text
    linked = set(re.findall(r"\]\(docs/([^)#]+\.md)\)", text))
    assert linked == {path.name for path in PAGES} - {"index.md"}, "the README links every page of the docs"
