import shutil
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LOGO = ROOT / "scenes" / "logo.png"


@pytest.fixture
def write_scene(tmp_path):
    """Write YAML text (dedented) as a scene file in a temp folder with the logo beside it."""
    shutil.copy(LOGO, tmp_path / "logo.png")

    def write(text: str, name: str = "scene.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip("\n"))
        return path

    return write


@pytest.fixture(scope="session")
def inception():
    from pipeline.models.network import load_model

    return load_model("inception_v3", "cpu")
