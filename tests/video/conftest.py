"""Tiny real video files written with PyAV: frame k shows grey level 10 k."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest


def write_video(
    path: Path,
    *,
    n_frames: int = 20,
    fps: int = 10,
    size: tuple[int, int] = (32, 24),
    sample_rate: int | None = 16000,
) -> Path:
    """Write an h264 mp4 (``size`` = (width, height)) and, with a ``sample_rate``, an aac
    sound track as long as the picture; frame k is a flat grey of level 10 k."""
    path.parent.mkdir(parents=True, exist_ok=True)
    width, height = size
    with av.open(str(path), mode="w") as container:
        video = container.add_stream("libx264", rate=Fraction(fps))
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.options = {"crf": "0", "preset": "ultrafast"}
        sound = None
        if sample_rate is not None:
            sound = container.add_stream("aac", rate=sample_rate)
            sound.layout = "mono"
        for k in range(n_frames):
            image = np.full((height, width, 3), 10 * k % 256, dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            container.mux(video.encode(frame))
        container.mux(video.encode())
        if sound is not None:
            t = np.arange(round(n_frames / fps * sample_rate)) / sample_rate
            tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
            chunk = 1024
            for start in range(0, len(tone), chunk):
                piece = tone[start : start + chunk][None, :]
                frame = av.AudioFrame.from_ndarray(piece, format="flt", layout="mono")
                frame.sample_rate = sample_rate
                frame.pts = start
                container.mux(sound.encode(frame))
            container.mux(sound.encode())
    return path


@pytest.fixture
def make_video() -> Callable[..., Path]:
    """``make_video(path, **options)`` writes a tiny mp4 (see :func:`write_video`)."""
    return write_video


@pytest.fixture(scope="session")
def tiny_video(tmp_path_factory) -> Path:
    """2 s, 10 fps, 32x24 h264 + 16 kHz mono aac; frame k is grey level 10 k."""
    return write_video(tmp_path_factory.mktemp("video") / "tiny.mp4")
