"""The model zoo: real pretrained weights, tables that match the networks, clear failures."""

import urllib.error

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from pipeline.models import torchvision_nets
from pipeline.models.network import load_model
from pipeline.models.weights import ModelUnavailable
from pipeline.models.zoo import ALIASES, ZOO
from tests.helpers import ROOT

SAMPLES = ROOT / "scenes" / "samples"
CAT_CLASSES = {281, 282, 283, 285, 287}  # tabby, tiger cat, Persian, Egyptian cat, lynx
CUP_CLASSES = {504, 967, 968}  # coffee mug, espresso, cup


def sample(name, size=224):
    image = Image.open(SAMPLES / f"{name}.png").convert("RGB").resize((size, size), Image.Resampling.BICUBIC)
    return torch.from_numpy(np.array(image)).permute(2, 0, 1)[None].float() / 255


@pytest.mark.slow
@pytest.mark.parametrize("spec", ZOO.values(), ids=ZOO.keys())
def test_every_model_has_the_aliases_and_a_consistent_table(spec):
    for alias in ALIASES:
        assert spec.resolve(alias) in spec.layer_names
    net = load_model(spec.name, weights="random")
    size = max(spec.min_size, 96)
    with torch.no_grad():
        acts = net(torch.rand(1, 3, size, size), spec.layer_names)
    for layer in spec.layers:
        assert acts[layer.name].shape[1] == layer.channels, layer


@pytest.mark.slow
def test_efficientnet_lite0_classifies_the_samples():
    net = load_model("efficientnet_lite0")
    with torch.no_grad():
        cat = net(sample("cat"), ["logits"])["logits"].topk(5).indices[0].tolist()
        cup = net(sample("coffee"), ["logits"])["logits"].topk(5).indices[0].tolist()
    assert CAT_CLASSES & set(cat), cat
    assert CUP_CLASSES & set(cup), cup


@pytest.mark.slow
@pytest.mark.parametrize("name, layer", [("inception_v3", "mixed_10"), ("vgg19", "conv5_4")])
def test_headless_models_recognise_the_same_content(name, layer):
    """No classifier here, so: a cat must look more like a cat than like a coffee cup."""
    net = load_model(name)

    def features(image):
        with torch.no_grad():
            return net(image, [layer])[layer].mean(dim=(2, 3)).flatten()

    size = 299 if name == "inception_v3" else 224
    cat, cup = features(sample("cat", size)), features(sample("coffee", size))
    cat_again = features(sample("cat", size).flip(3)[..., 10:-10, 10:-10])
    assert F.cosine_similarity(cat, cat_again, dim=0) > F.cosine_similarity(cat, cup, dim=0) + 0.3


def test_weights_from_a_file(tmp_path):
    from pipeline.models import efficientnet_lite

    model = efficientnet_lite.architecture()
    torch.manual_seed(3)
    for parameter in model.parameters():
        parameter.data.normal_()
    path = tmp_path / "mine.pth"
    torch.save({"state_dict": model.state_dict()}, path)
    loaded = load_model("efficientnet_lite0", weights=path)
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():  # the file's weights, batch norm folded into the convolution
        expected = model.eval()._swish(model._bn0(model._conv_stem(x)))
        assert torch.allclose(loaded.stages["stem"](x), expected, rtol=1e-4, atol=1e-4)
    (tmp_path / "junk.pth").write_bytes(b"junk")
    with pytest.raises(ModelUnavailable, match="cannot read weights"):
        load_model("efficientnet_lite0", weights=tmp_path / "junk.pth")


def test_torchvision_models_without_network_say_what_to_do(monkeypatch, tmp_path):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))

    def offline(*args, **kwargs):
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", offline)
    with pytest.raises(ModelUnavailable) as caught:
        load_model("googlenet")
    message = str(caught.value)
    assert "https://download.pytorch.org/models/googlenet-1378be20.pth" in message
    assert str(tmp_path / "checkpoints" / "googlenet-1378be20.pth") in message
    assert "inception_v3, efficientnet_lite0, vgg19" in message
    assert torchvision_nets.weights_file("googlenet").name == "googlenet-1378be20.pth"
