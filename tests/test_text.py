"""Words on screen: text items and captions are drawn where and when the scene says, wrap, stay in
the safe area, slide and grow, refuse what they cannot draw, and say when they are hard to read."""

import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from PIL import Image

from pipeline import SceneError, render
from pipeline.image.text import BUNDLED, Look, contrast_ratio, load_font, rasterise, relative_luminance, wrap
from pipeline.plan import make_plan
from pipeline.session.text import Texts

PLAIN = {"size": [96, 76], "fps": 10, "frames": 6, "weights": "random", "start": "#000000",
         "dream": {"octaves": 1, "iterations": 0}, "segments": [{"at": 0, "layers": "edges"}]}


def frames_in(folder) -> np.ndarray:
    return np.stack([np.asarray(Image.open(p).convert("RGB")) for p in sorted(Path(folder).glob("*.png"))]).astype(int)


def drawn(scene, n: int, background=0.0) -> np.ndarray:
    """Video frame n's words over a plain frame, as (H, W, 3) floats in [0, 1], without rendering."""
    plan = make_plan(scene)
    frame = torch.full((1, 3, plan.height, plan.width), background)
    return Texts(plan, torch.device("cpu")).over(n, frame)[0].permute(1, 2, 0).numpy()


def ink(picture: np.ndarray, level=0.3) -> np.ndarray:
    """Where the (red) words are: rows and columns of pixels whose red stands out."""
    return np.argwhere(picture[..., 0] > level)


def test_text_shows_exactly_from_start_to_end_and_fades(make_scene, tmp_path):
    scene = make_scene({**PLAIN, "frames": 10, "text": [
        {"content": "Hi", "color": "#ff0000", "size": 0.3, "start": 2, "end": 7, "fade_in": 0.2, "fade_out": 0.1}]})
    frames = frames_in(render(scene, tmp_path / "frames", device="cpu").path)
    reds = frames[..., 0].max(axis=(1, 2))
    assert list(reds[:2]) == [0, 0] and list(reds[8:]) == [0, 0]  # nothing outside start..end
    assert all(reds[2:8] > 0)
    assert reds[2] < reds[3] < reds[4] == reds[5] == reds[6] == 255 > reds[7]  # 2 frames in, 1 frame out
    assert frames[..., 1:].max() == 0  # only the red words on black


def test_text_is_composited_after_the_dream_and_never_fed_back(make_scene, tmp_path):
    dreamy = {**PLAIN, "dream": {"octaves": 1, "iterations": 1, "step": 0.05}, "start": "noise", "frames": 4,
              "motion": {"zoom": 1.1}}
    with_text = make_scene({**dreamy, "text": [{"content": "T", "size": 0.4, "position": [0.2, 0.2]}]})
    plain = make_scene(dreamy, name="plain")
    a = frames_in(render(with_text, tmp_path / "a", device="cpu").path)
    b = frames_in(render(plain, tmp_path / "b", device="cpu").path)
    assert np.array_equal(a[:, 50:], b[:, 50:])  # far from the words, the same dream


def test_lines_wrap_between_words_within_max_width():
    font = BUNDLED["sans"]
    lines = wrap("the quick brown fox jumps over the lazy dog\nagain", font, 20, 120)
    assert len(lines) > 3 and lines[-1] == "again"
    assert all(load_font(font, 20).getlength(line) <= 120 for line in lines)
    assert " ".join(lines[:-1]) == "the quick brown fox jumps over the lazy dog"
    assert wrap("Supercalifragilistic", font, 20, 60)[0] != "Supercalifragilistic"  # a long word is broken


def test_max_width_keeps_the_block_narrow(make_scene):
    scene = make_scene({**PLAIN, "size": [200, 100], "text": [
        {"content": "one two three four five six", "color": "red", "size": 0.12, "max_width": 0.4}]})
    cols = ink(drawn(scene, 0))[:, 1]
    assert cols.max() - cols.min() <= 0.4 * 0.9 * 200 + 2  # within 40% of the safe area's width
    rows = ink(drawn(scene, 0))[:, 0]
    assert rows.max() - rows.min() > 2 * 0.12 * 100  # several lines


@pytest.mark.parametrize("anchor, position, corner", [
    ("top-left", [0, 0], (0.05, 0.05)), ("bottom-right", [1, 1], (0.95, 0.95)), ("center", [0.5, 0.5], (0.5, 0.5)),
])
def test_anchors_land_in_the_title_safe_area(make_scene, anchor, position, corner):
    scene = make_scene({**PLAIN, "size": [200, 100], "text": [
        {"content": "Go", "color": "red", "size": 0.2, "box": "#ff0000", "anchor": anchor, "position": position}]})
    rows, cols = ink(drawn(scene, 0)).T
    x = {"top-left": cols.min(), "bottom-right": cols.max() + 1, "center": (cols.min() + cols.max() + 1) / 2}[anchor]
    y = {"top-left": rows.min(), "bottom-right": rows.max() + 1, "center": (rows.min() + rows.max() + 1) / 2}[anchor]
    assert x == pytest.approx(corner[0] * 200, abs=1.5) and y == pytest.approx(corner[1] * 100, abs=1.5)


def test_safe_false_reaches_the_frame_edge_and_safe_keeps_a_big_text_inside(make_scene):
    edge = make_scene({**PLAIN, "size": [200, 100], "text": [
        {"content": "Go", "color": "red", "box": "red", "anchor": "top-left", "position": [0, 0], "safe": False}]})
    assert ink(drawn(edge, 0)).min(axis=0).tolist() == [0, 0]
    inside = make_scene({**PLAIN, "size": [200, 100], "text": [
        {"content": "Go", "color": "red", "box": "red", "anchor": "center", "position": [1, 1]}]})
    rows, cols = ink(drawn(inside, 0)).T
    assert rows.max() < 95 and cols.max() < 190  # pushed back inside the 5% margins


def test_a_keyframed_slide_and_scale(make_scene):
    scene = make_scene({**PLAIN, "size": [200, 100], "frames": 10, "text": [
        {"content": "Go", "color": "red", "size": 0.1, "safe": False,
         "position": {0: [0.2, 0.5], 9: [0.8, 0.5]}, "scale": {0: 1, 9: 2}}]})
    plan = make_plan(scene)
    texts = Texts(plan, torch.device("cpu"))
    middles, widths = [], []
    for n in (0, 4, 9):
        picture = texts.over(n, torch.zeros(1, 3, 100, 200))[0].permute(1, 2, 0).numpy()
        cols = ink(picture)[:, 1]
        middles.append((cols.min() + cols.max()) / 2)
        widths.append(cols.max() - cols.min())
    assert middles[0] == pytest.approx(40, abs=2) and middles[2] == pytest.approx(160, abs=2)
    assert middles[0] < middles[1] < middles[2]
    assert widths[2] == pytest.approx(2 * widths[0], rel=0.15) and widths[0] < widths[1] < widths[2]
    assert len(texts.rasters) == 3  # one raster per size shown


def test_text_opacity_takes_expressions(make_scene):
    scene = make_scene({**PLAIN, "frames": 10, "text": [{"content": "x", "opacity": "t / 0.9"}]})
    levels = [make_plan(scene).texts[0].opacity_at(n) for n in range(10)]
    assert levels[0] == 0 and levels[-1] == pytest.approx(1) and levels == sorted(levels)


def test_non_latin_text_the_font_covers_is_drawn(make_scene):
    for words in ("Ça déçoit", "Привет", "Καλημέρα", "שלום", "مرحبا"):
        scene = make_scene({**PLAIN, "text": [{"content": words, "color": "red"}]})
        assert len(ink(drawn(scene, 0))) > 10, words


def test_a_missing_glyph_is_refused_at_load_by_its_code_point(make_scene):
    with pytest.raises(SceneError) as caught:
        make_scene({**PLAIN, "text": [{"content": "Dream 🦄"}]})
    message = caught.value.render()
    assert "text.0.content" in message and "U+1F984" in message and "DejaVuSans.ttf" in message
    assert len(caught.value.problems) == 1


def test_a_font_of_ones_own_is_read_relative_to_the_scene(make_scene, tmp_path):
    shutil.copy(BUNDLED["sans-bold"], tmp_path / "my font.ttf")
    scene = make_scene({**PLAIN, "text": [{"content": "Bold", "font": "my font.ttf", "color": "red"}]})
    assert make_plan(scene).texts[0].style.font == tmp_path / "my font.ttf"
    assert len(ink(drawn(scene, 0))) > 20


@pytest.mark.parametrize("item, message", [
    ({"content": "x" * 100_000}, r"text\.0\.content: 100000 characters; a text item holds at most 2000"),
    ({"content": "a\x07b"}, r"text\.0\.content: .*control character U\+0007"),
    ({"content": "a\x00b"}, r"text\.0\.content: .*control character U\+0000"),
    ({"content": ""}, r"text\.0\.content: write the words"),
    ({"content": ["x"]}, r"text\.0\.content: write the words as text"),
    ({"content": "x", "font": "notafont.ttf"}, r"text\.0\.font: 'notafont\.ttf' is not a TrueType or OpenType font"),
    ({"content": "x", "font": "-n 'q\".ttf"}, r"text\.0\.font: .*not found"),
    ({"content": "x", "size": 0}, r"text\.0\.size: write more than 0"),
    ({"content": "x", "size": float("nan")}, r"text\.0\.size: write a finite number"),
    ({"content": "x", "size": float("inf")}, r"text\.0\.size"),
    ({"content": "x", "size": 1e300}, r"text\.0\.size: write 1\.0 or less"),
    ({"content": "x", "size": "big"}, r"text\.0\.size: write a number"),
    ({"content": "x", "color": "nope"}, r"text\.0\.color: 'nope' is not a colour"),
    ({"content": "x", "color": 7}, r"text\.0\.color: write a colour"),
    ({"content": "x", "stroke": {"width": -1}}, r"text\.0\.stroke\.width"),
    ({"content": "x", "box": {"radius": float("nan")}}, r"text\.0\.box\.radius"),
    ({"content": "x", "opacity": 2}, r"text\.0\.opacity"),
    ({"content": "x", "scale": 0}, r"text\.0\.scale"),
    ({"content": "x", "position": [0.5]}, r"text\.0\.position"),
    ({"content": "x", "end": 99}, r"text\.0\.end: ends at 99, past the last frame 5"),
    ({"content": "x", "anchor": "middle"}, r"text\.0\.anchor"),
    ({"content": "x", "opacity": {0: 0, 50: 1}}, r"text\.0\.opacity\.50: keyframe 50 is past the last frame 5"),
    ({"content": "x", "position": {0: [0, 0], "1s": [2, 0]}}, r"text\.0\.position"),
    ({"content": "x", "colour": "red"}, r"text\.0\.colour: unknown key 'colour'; did you mean 'color'"),
])
def test_hostile_text_is_refused_in_one_line(make_scene, tmp_path, item, message):
    (tmp_path / "notafont.ttf").write_text("not a font at all")
    with pytest.raises(SceneError) as caught:
        make_scene({**PLAIN, "text": [item]})
    rendered = caught.value.render()
    assert len(caught.value.problems) == 1 and len(rendered) < 400, rendered
    assert re.search(message, rendered), rendered


def test_a_hostile_text_list_and_reverse_are_refused(make_scene):
    for keys, message in [({"text": "hello"}, "text"), ({"reverse": "yes"}, "reverse: write true or false"),
                          ({"reverse": True, "loop": True}, "reverse: a seamless loop")]:
        with pytest.raises(SceneError, match=message):
            make_scene({**PLAIN, **keys})


# ------------------------------------------------------------------ captions

SRT = """1
00:00:00,100 --> 00:00:00,300
First words

2
00:00:00,400 --> 00:00:00,800
<i>Second</i> words

3
00:00:00,600 --> 00:00:00,700
Overlap
"""


def test_captions_show_at_their_times_and_overlaps_stack(make_scene, tmp_path):
    (tmp_path / "words.srt").write_text(SRT)
    scene = make_scene({**PLAIN, "frames": 10, "captions": "words.srt"})
    shown = [(t.first, t.last, t.content) for t in make_plan(scene).texts]
    assert shown == [(1, 2, "First words"), (4, 5, "Second words"), (6, 6, "Second words\nOverlap"),
                     (7, 7, "Second words")]
    frames = [drawn(scene, n) for n in range(10)]
    assert [bool((f > 0.5).any()) for f in frames] == [False, True, True, False, True, True, True, True, False, False]
    rows = lambda f: np.argwhere(f.max(axis=2) > 0.5)[:, 0]  # noqa: E731
    assert rows(frames[6]).min() < rows(frames[5]).min() - 3  # a second line above
    assert rows(frames[5]).max() >= 0.8 * 76  # near the bottom, inside the safe area
    assert rows(frames[5]).max() < 0.95 * 76 + 1


def test_webvtt_captions_and_their_style(make_scene, tmp_path):
    (tmp_path / "words.vtt").write_text("WEBVTT\n\nNOTE a comment\n\nintro\n00:00.000 --> 00:00.300\nHello\n")
    scene = make_scene({**PLAIN, "captions": {"file": "words.vtt", "color": "#ff0000", "stroke": False,
                                              "position": [0.5, 0], "anchor": "top"}})
    text = make_plan(scene).texts[0]
    assert (text.first, text.last, text.content, text.style.color, text.style.stroke) == (
        0, 2, "Hello", (255, 0, 0, 255), None)
    assert ink(drawn(scene, 0))[:, 0].max() < 38  # at the top


@pytest.mark.parametrize("content, line, words", [
    ("1\n00:00:00,000 --> 00:00:01,000\nok\n\n2\n00:00:01,000 -> 00:00:02,000\nbroken\n", 6, "expected a timing"),
    ("1\n00:00:00,000 --> 00:00:01,000\nok\n\nhello\n", 5, "expected a cue number"),
    ("1\n00:00:03,000 --> 00:00:01,000\nbackwards\n", 2, "ends before it starts"),
    ("1\n00:00:00,000 --> 00:00:01,000\nunicorn 🦄\n", 2, "U\\+1F984"),
])
def test_a_malformed_srt_is_refused_with_its_line(make_scene, tmp_path, content, line, words):
    (tmp_path / "bad.srt").write_text(content)
    with pytest.raises(SceneError) as caught:
        make_scene({**PLAIN, "captions": "bad.srt"})
    rendered = caught.value.render()
    assert len(caught.value.problems) == 1 and f"captions.file: 'bad.srt' line {line}: " in rendered, rendered
    assert re.search(words, rendered), rendered


def test_captions_that_are_not_text_or_not_captions(make_scene, tmp_path):
    (tmp_path / "binary.srt").write_bytes(b"\x00\x01\x02")
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "latin1.srt").write_bytes("1\n00:00:00,000 --> 00:00:01,000\ncaf\xe9\n".encode("latin-1"))
    for name, words in [("binary.srt", "binary data"), ("notes.txt", "neither .srt nor .vtt"),
                        ("latin1.srt", "line 3: not UTF-8"), ("missing.srt", "not found")]:
        with pytest.raises(SceneError, match=words):
            make_scene({**PLAIN, "captions": name})


# ------------------------------------------------------------------ contrast


def test_wcag_arithmetic():
    assert contrast_ratio(relative_luminance([1, 1, 1]), relative_luminance([0, 0, 0])) == pytest.approx(21)
    assert contrast_ratio(0.5, 0.5) == 1
    assert relative_luminance([0.5, 0.5, 0.5]) == pytest.approx(0.214, abs=1e-3)


def test_white_text_on_white_is_reported_and_a_stroke_answers_it(make_scene, tmp_path):
    white = {**PLAIN, "start": "#ffffff", "frames": 4}
    scene = make_scene({**white, "text": [{"content": "Hello", "size": 0.2}]})
    result = render(scene, tmp_path / "white", device="cpu")
    assert len(result.notes) == 1 and "text.0 ('Hello') is hard to read" in result.notes[0]
    assert "below 3:1 on 4 of its 4 frames" in result.notes[0] and "stroke" in result.notes[0]
    record = yaml.safe_load((tmp_path / "white.yaml").read_text())["rendered"]["text_contrast"][0]
    assert record["frames"] == 4 and record["below_3_to_1"] == 4 and record["lowest"] == pytest.approx(1.0)

    from pipeline.cli.check import sidecar_text_warnings

    assert sidecar_text_warnings(tmp_path / "white") == list(result.notes)

    stroked = make_scene({**white, "text": [{"content": "Hello", "size": 0.2, "stroke": True}]}, name="stroked")
    result = render(stroked, tmp_path / "stroked", device="cpu")
    assert result.notes == ()
    record = yaml.safe_load((tmp_path / "stroked.yaml").read_text())["rendered"]["text_contrast"][0]
    assert record["below_3_to_1"] == 0 and record["lowest"] == pytest.approx(21)


def test_a_dark_plate_makes_white_text_readable(make_scene):
    scene = make_scene({**PLAIN, "start": "#ffffff", "text": [{"content": "Hi", "box": "#000000e0"}]})
    plan = make_plan(scene)
    texts = Texts(plan, torch.device("cpu"))
    texts.over(0, torch.ones(1, 3, plan.height, plan.width))
    assert texts.readability['text.0'].lowest > 3


def test_rasterised_text_is_antialiased_with_straight_alpha():
    pixels, body = rasterise(["Ag"], Look(BUNDLED["sans"], 40, (255, 0, 0, 255)))
    alpha = pixels[..., 3]
    assert 0 < ((alpha > 0) & (alpha < 255)).mean() and (alpha == 255).any()  # soft edges
    assert (pixels[alpha > 0][:, :3] == [255, 0, 0]).all()  # colour is not darkened by coverage
    assert body[2] <= pixels.shape[1] and body[3] <= pixels.shape[0]


def test_a_huge_scale_is_drawn_no_larger_than_a_few_frames(make_scene):
    scene = make_scene({**PLAIN, "text": [{"content": "a wide line of words", "size": 1, "scale": 10}]})
    plan = make_plan(scene)
    texts = Texts(plan, torch.device("cpu"))
    texts.over(0, torch.zeros(1, 3, plan.height, plan.width))
    (tensor, _), = texts.rasters._entries.values()
    assert tensor.shape[2] * tensor.shape[3] <= 6 * 96 * 76


def test_many_captions_make_one_record(make_scene, tmp_path):
    cues = "".join(f"{n + 1}\n00:00:00,{n * 100:03d} --> 00:00:00,{n * 100 + 80:03d}\ncue {n}\n\n" for n in range(6))
    (tmp_path / "many.srt").write_text(cues)
    scene = make_scene({**PLAIN, "captions": "many.srt"})
    plan = make_plan(scene)
    texts = Texts(plan, torch.device("cpu"))
    for n in range(6):
        texts.over(n, torch.zeros(1, 3, plan.height, plan.width))
    assert [(r["text"], r["content"]) for r in texts.records()] == [("captions", "many.srt")]
    assert texts.records()[0]["frames"] == 6


def test_right_to_left_text_without_raqm_is_refused_clearly(make_scene, monkeypatch):
    from pipeline.image import text

    monkeypatch.setattr(text, "raqm", lambda: False)
    with pytest.raises(SceneError, match=r"text\.0\.content: the content is written in Hebrew, which needs Pillow's "
                                         r"raqm layout"):
        make_scene({**PLAIN, "text": [{"content": "שלום"}]})
    make_scene({**PLAIN, "text": [{"content": "Ελληνικά"}]})  # Greek needs no shaping


def test_static_text_is_rasterised_once(make_scene, monkeypatch):
    from pipeline.session import text

    calls = []
    real = text.rasterise
    monkeypatch.setattr(text, "rasterise", lambda *a, **k: calls.append(1) or real(*a, **k))
    scene = make_scene({**PLAIN, "frames": 10, "text": [{"content": "Still", "opacity": "0.5 + t / 2"}]})
    plan = make_plan(scene)
    texts = Texts(plan, torch.device("cpu"))
    for n in range(10):
        texts.over(n, torch.zeros(1, 3, plan.height, plan.width))
    assert len(calls) == 1
