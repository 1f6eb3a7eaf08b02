"""The scene with its sound track analysed (media/audio.py), where formulas or `bpm: auto` read it."""

from __future__ import annotations

from pathlib import Path

from ..media.audio import Analysis, AudioError, cached_analysis
from .expressions import AUDIO_NAMES
from .load import revalidated, scene_error
from .schema import Scene

MAX_SECONDS = 600  # analysed at most: the spectra of a longer timeline would take gigabytes of memory


def played_seconds(scene: Scene) -> float:
    """How much of the sound track the scene's timeline plays (a loop's runs past the video's end)."""
    return scene._timing.frame_count / scene._timing.fps


def analysis_of(scene: Scene, cache: Path | None = None) -> Analysis:
    """The analysis of the part of the scene's sound track its timeline plays (cached in the folder `cache`);
    a loop's timeline runs past the video's end, where its sound starts again."""
    seconds = played_seconds(scene)
    if seconds > MAX_SECONDS:
        raise scene_error(scene, ("audio",), f"the sound track is analysed (for bpm: auto or audio features) over "
                                             f"at most {MAX_SECONDS // 60} minutes of video; this one is "
                                             f"{seconds / 60:.1f}: split it into scenes")
    try:
        return cached_analysis(scene.audio_path, seconds, cache, repeat=scene.loop)
    except AudioError as error:
        raise scene_error(scene, ("audio",), str(error)) from None


def analysed(scene: Scene, cache: Path | None = None) -> Scene:
    """The scene with its sound track analysed, where it needs that (bpm: auto, audio features in
    formulas): validated again with the tempo and the features. SceneError, with the line, for a
    track that cannot be decoded, a tempo that cannot be found, or values out of bounds."""
    if not scene.awaits_analysis:
        return scene
    analysis = analysis_of(scene, cache)
    timing = scene._timing
    bpm, offset = scene.tempo
    if scene.bpm == "auto":
        if analysis.bpm is None:
            raise scene_error(scene, ("bpm",), f"auto found no steady beat in the {played_seconds(scene):g} s of "
                                               f"'{scene.audio.file}' the video plays: write the tempo, e.g. bpm: 120")
        bpm = analysis.bpm
        offset = scene.beat_offset if scene.beat_offset is not None else analysis.first_beat
    features = {name: analysis.per_frame(name, timing.fps, timing.frame_count) for name in AUDIO_NAMES}
    return revalidated(scene, timing.analysed(bpm, offset, features))
