"""Platform presets: each platform's frame size, frame rates, length, bitrate, sound and safe area.

One table, data only. Every number's source (and the date it was read) is in docs/presets.md;
`python render.py presets [--json]` prints the table. A deliverable with `preset: NAME` inherits
all of it; anything set on the deliverable itself wins.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Preset:
    name: str
    platform: str  # the platform and placement, in words
    size: tuple[int, int]  # width, height in pixels
    fps: tuple[float, float]  # the lowest and highest frame rate the platform takes
    max_duration: float  # seconds
    video_bitrate: int  # bit/s: the most the platform takes, or its recommendation as a cap
    audio_rate: int  # Hz (AAC)
    loudness: float  # integrated LUFS (ITU-R BS.1770) the sound is normalised to
    true_peak: float  # dBTP the sound stays under
    safe: tuple[float, float, float, float]  # margins the interface covers: top, right, bottom, left (fractions)
    # bit/s at 30 fps and below, where the platform recommends less than at high frame rates; None: video_bitrate
    video_bitrate_up_to_30fps: int | None = None

    def takes_fps(self, fps: float) -> bool:
        low, high = self.fps
        return low - 0.01 <= float(fps) <= high + 0.01  # 23.976 counts as 24's neighbour, 59.94 as 60's

    def fps_text(self) -> str:
        low, high = self.fps
        return f"{low:g} to {high:g} fps"

    def bitrate_for(self, fps: float) -> int:
        """The bitrate cap (bit/s) for a video at `fps`: a platform may recommend less at 24-30 fps."""
        if self.video_bitrate_up_to_30fps is not None and float(fps) <= 30.01:
            return self.video_bitrate_up_to_30fps
        return self.video_bitrate

    def as_json(self) -> dict:
        data = asdict(self)
        data.pop("name")
        return {**data, "size": list(self.size), "fps": list(self.fps), "safe": list(self.safe)}


def _preset(*args) -> tuple[str, Preset]:
    preset = Preset(*args)
    return preset.name, preset


# Sources, with the date each was read, in docs/presets.md. Where a platform publishes no figure (loudness,
# true peak, YouTube's and TikTok's safe areas, TikTok's bitrate) the value is a stated convention, named so there.
PRESETS: dict[str, Preset] = dict([
    _preset("youtube", "YouTube, 16:9", (1920, 1080), (23.976, 60), 12 * 3600, 12_000_000, 48_000, -14.0, -1.0,
            (0.05, 0.05, 0.05, 0.05), 8_000_000),
    _preset("shorts", "YouTube Shorts, 9:16", (1080, 1920), (23.976, 60), 180, 12_000_000, 48_000, -14.0, -1.0,
            (0.12, 0.14, 0.20, 0.05), 8_000_000),
    _preset("reels", "Instagram and Facebook Reels, 9:16", (1080, 1920), (23, 60), 180, 25_000_000, 48_000, -14.0,
            -1.0, (0.14, 0.06, 0.35, 0.06)),
    _preset("tiktok", "TikTok, 9:16", (1080, 1920), (23, 60), 600, 25_000_000, 48_000, -14.0, -1.0,
            (0.08, 0.14, 0.23, 0.06)),
    _preset("feed-square", "Instagram and Facebook feed, 1:1", (1080, 1080), (23, 60), 60, 25_000_000, 48_000,
            -14.0, -1.0, (0.06, 0.06, 0.06, 0.06)),
    _preset("feed-portrait", "Instagram and Facebook feed, 4:5", (1080, 1350), (23, 60), 60, 25_000_000, 48_000,
            -14.0, -1.0, (0.06, 0.06, 0.06, 0.06)),
])


def preset_names() -> str:
    return ", ".join(PRESETS)

