"""The layer catalog and the atlas: what users look at to choose layers."""

import pytest
from PIL import Image

from pipeline.cli import commands as cli
from pipeline.models.zoo import ALIASES
from tests.helpers import LOGO


def test_layers_lists_layers_and_aliases(capsys):
    assert cli.main(["layers", "efficientnet_lite0"]) == 0
    out = capsys.readouterr().out
    for alias in ALIASES:
        assert alias in out
    assert "block_4" in out and "stride" in out and "channels" in out
    assert "googlenet" in out and "inception_v3" in out  # the model list follows


def test_layers_rejects_an_unknown_model(capsys):
    assert cli.main(["layers", "vgg99"]) == 2
    assert "unknown model 'vgg99'" in capsys.readouterr().err


@pytest.mark.slow
def test_atlas_writes_a_labelled_grid(tmp_path, capsys):
    out = tmp_path / "atlas.png"
    assert cli.main(["atlas", str(LOGO), "--model", "efficientnet_lite0", "--size", "96", "--out", str(out),
                     "--device", "cpu"]) == 0
    assert f"Atlas: {out}" in capsys.readouterr().out
    with Image.open(out) as sheet:
        # start image + 5 aliases in 3 columns: 2 rows of 96x54 tiles
        assert sheet.size == (3 * 96, 2 * 54)
    assert not list(tmp_path.glob(".*part"))


def test_atlas_rejects_a_missing_image(tmp_path, capsys):
    assert cli.main(["atlas", str(tmp_path / "none.png")]) == 2
    assert "no such image" in capsys.readouterr().err
