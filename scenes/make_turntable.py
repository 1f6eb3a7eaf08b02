"""Film scenes/turntable.mp4, the footage scenes/turntable.yaml dreams over: a product box turning
on a turntable in front of a soft backdrop, 4 seconds at 24 fps, made from nothing but geometry:
python scenes/make_turntable.py"""

import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from pipeline.media import ffmpeg  # noqa: E402  (the one place that runs ffmpeg)

WIDTH, HEIGHT, FPS, SECONDS = 640, 360, 24, 4
BOX = np.array([[x, y, z] for x in (-1, 1) for y in (-1.3, 1.3) for z in (-0.6, 0.6)], np.float32)
FACES = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]  # -x +x -y +y -z +z
COLOURS = [(235, 120, 40), (235, 120, 40), (245, 240, 230), (245, 240, 230), (40, 90, 200), (40, 90, 200)]
LIGHT = np.array([-0.5, -0.7, -0.6]) / np.linalg.norm([-0.5, -0.7, -0.6])


def backdrop() -> np.ndarray:
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    glow = np.exp(-(((x - WIDTH * 0.5) / WIDTH) ** 2 + ((y - HEIGHT * 0.35) / HEIGHT) ** 2) * 4)
    picture = np.stack([70 + 120 * glow, 80 + 110 * glow, 110 + 100 * glow], -1)
    stripes = 12 * np.sin(x / 9.0 + y / 23.0)  # a texture for the dream (and the flow) to hold on to
    return np.clip(picture + stripes[..., None], 0, 255).astype(np.uint8)


def frame(angle: float, backdrop: np.ndarray) -> np.ndarray:
    picture = backdrop.copy()
    centre = np.array([WIDTH / 2, HEIGHT * 0.55])
    cv2.ellipse(picture, (int(centre[0]), int(centre[1] + 95)), (170, 34), 0, 0, 360, (50, 50, 60), -1, cv2.LINE_AA)
    cv2.ellipse(picture, (int(centre[0]), int(centre[1] + 88)), (170, 34), 0, 0, 360, (150, 150, 165), -1,
                cv2.LINE_AA)
    turn = np.array([[np.cos(angle), 0, np.sin(angle)], [0, 1, 0], [-np.sin(angle), 0, np.cos(angle)]])
    tilt = np.array([[1, 0, 0], [0, np.cos(0.35), -np.sin(0.35)], [0, np.sin(0.35), np.cos(0.35)]])
    points = BOX @ turn.T @ tilt.T
    projected = centre + points[:, :2] * 300 / (points[:, 2:] + 5)
    for face, colour in sorted(zip(FACES, COLOURS), key=lambda fc: -points[list(fc[0]), 2].mean()):
        corners = points[list(face)]
        normal = np.cross(corners[1] - corners[0], corners[2] - corners[0])
        normal /= np.linalg.norm(normal)
        if normal[2] >= 0:  # faces away from the camera
            continue
        shade = 0.35 + 0.65 * max(0.0, float(normal @ LIGHT))
        polygon = np.round(projected[list(face)] * 16).astype(np.int32)
        cv2.fillConvexPoly(picture, polygon, tuple(int(c * shade) for c in colour), cv2.LINE_AA, shift=4)
        # a label band across each face, so the turning shows on every side
        band = [corners[0] + (corners[1] - corners[0]) * t + (corners[3] - corners[0]) * s
                for t, s in ((0.4, 0), (0.6, 0), (0.6, 1), (0.4, 1))]
        band = np.array([centre + p[:2] * 300 / (p[2] + 5) for p in band])
        cv2.fillConvexPoly(picture, np.round(band * 16).astype(np.int32),
                           tuple(int(c * shade) for c in (250, 250, 250)), cv2.LINE_AA, shift=4)
    return picture


def main() -> None:
    target = Path(__file__).with_name("turntable.mp4")
    writer = ffmpeg.encoder(target, (WIDTH, HEIGHT), FPS, "libx264", "yuv420p",
                            ["-crf", "20", "-preset", "slow", "-movflags", "+faststart"])
    back = backdrop()
    for index in range(FPS * SECONDS):
        writer.write(np.ascontiguousarray(frame(2 * np.pi * index / (FPS * SECONDS) * 0.5, back)).tobytes())
    failed = writer.close()
    if failed:
        raise SystemExit(f"could not write {target}: {failed}")
    print(f"wrote {target} ({target.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
