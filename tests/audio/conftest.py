"""Tiny real audio and video files for the audio tests, written in tmp dirs.

The seeded ``rng`` and ``shared_data`` fixtures come from the top-level
conftest. Lossless files (wav, flac) are written with soundfile, lossy ones (ogg
vorbis through soundfile; mp3, mp4/aac, webm/opus through PyAV encoders) so
that every decode path reads a file a real encoder made.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
import soundfile as sf

SR = 16_000
TONE_HZ = 1_000.0


def sine(freq_hz: float, sr: int, duration_s: float, amplitude: float = 0.5) -> np.ndarray:
    """A float32 sine of shape (round(duration_s * sr),)."""
    t = np.arange(round(duration_s * sr)) / sr
    return (amplitude * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)


def peak_frequency(audio: np.ndarray, sr: int) -> float:
    """Frequency in Hz of the largest magnitude-spectrum bin of a 1-D signal."""
    spectrum = np.abs(np.fft.rfft(audio * np.hanning(audio.size)))
    return float(np.fft.rfftfreq(audio.size, 1 / sr)[np.argmax(spectrum)])


def write_with_pyav(
    path: Path, audio: np.ndarray | None, sr: int, *, codec: str | None, video: str | None
) -> Path:
    """Encode (channels, n) float audio and/or a short grey video with PyAV."""
    n_video_frames = 10 if audio is None else max(1, round(10 * audio.shape[1] / sr))
    with av.open(str(path), mode="w") as container:
        # Every stream must exist before the first packet is muxed.
        video_stream = audio_stream = None
        if video is not None:
            video_stream = container.add_stream(video, rate=10)
            video_stream.width = video_stream.height = 32
            video_stream.pix_fmt = "yuv420p"
        if audio is not None:
            layout = "mono" if audio.shape[0] == 1 else "stereo"
            audio_stream = container.add_stream(codec, rate=sr, layout=layout)
        if video_stream is not None:
            for i in range(n_video_frames):
                image = np.full((32, 32, 3), (20 * i) % 256, dtype=np.uint8)
                frame = av.VideoFrame.from_ndarray(image, format="rgb24")
                container.mux(video_stream.encode(frame))
            container.mux(video_stream.encode(None))
        if audio_stream is not None:
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(audio, dtype=np.float32), format="fltp", layout=layout
            )
            frame.sample_rate = sr
            container.mux(audio_stream.encode(frame))
            container.mux(audio_stream.encode(None))
    return path


@pytest.fixture(scope="session")
def make_sine():
    """The :func:`sine` helper: (freq_hz, sr, duration_s, amplitude) -> (n,)."""
    return sine


@pytest.fixture(scope="session")
def peak_hz():
    """The :func:`peak_frequency` helper: (audio, sr) -> Hz."""
    return peak_frequency


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A session-wide folder of generated media (encoded once)."""
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def tone() -> np.ndarray:
    """Half a second of a 1 kHz sine at 16 kHz, amplitude 0.5, shape (8000,)."""
    return sine(TONE_HZ, SR, 0.5)


@pytest.fixture(scope="session")
def wav_path(media_dir: Path, tone: np.ndarray) -> Path:
    """16-bit PCM mono WAV of `tone`."""
    path = media_dir / "tone.wav"
    sf.write(path, tone, SR, subtype="PCM_16")
    return path


@pytest.fixture(scope="session")
def stereo_wav_path(media_dir: Path) -> Path:
    """Float stereo WAV: left 1 kHz at 0.5, right 1 kHz at 0.1 (same phase)."""
    left = sine(TONE_HZ, SR, 0.25, amplitude=0.5)
    right = sine(TONE_HZ, SR, 0.25, amplitude=0.1)
    path = media_dir / "stereo.wav"
    sf.write(path, np.stack([left, right], axis=1), SR, subtype="FLOAT")
    return path


@pytest.fixture(scope="session")
def flac_path(media_dir: Path, tone: np.ndarray) -> Path:
    """16-bit FLAC of `tone`."""
    path = media_dir / "tone.flac"
    sf.write(path, tone, SR)
    return path


@pytest.fixture(scope="session")
def ogg_path(media_dir: Path, tone: np.ndarray) -> Path:
    """Ogg Vorbis of `tone` (lossy)."""
    path = media_dir / "tone.ogg"
    sf.write(path, tone, SR, format="OGG", subtype="VORBIS")
    return path


@pytest.fixture(scope="session")
def mp3_path(media_dir: Path) -> Path:
    """MP3 (libmp3lame) of a 1 s stereo 1 kHz sine at 44.1 kHz."""
    audio = np.stack([sine(TONE_HZ, 44_100, 1.0), sine(TONE_HZ, 44_100, 1.0, 0.25)])
    return write_with_pyav(media_dir / "tone.mp3", audio, 44_100, codec="mp3", video=None)


@pytest.fixture(scope="session")
def mp4_path(media_dir: Path) -> Path:
    """MP4: h264 video + 1 s of AAC stereo 1 kHz sine at 48 kHz."""
    audio = np.stack([sine(TONE_HZ, 48_000, 1.0)] * 2)
    return write_with_pyav(media_dir / "clip.mp4", audio, 48_000, codec="aac", video="h264")


@pytest.fixture(scope="session")
def webm_path(media_dir: Path) -> Path:
    """WebM: vp8 video + 2 s of Opus stereo 1 kHz sine at 48 kHz."""
    audio = np.stack([sine(TONE_HZ, 48_000, 2.0)] * 2)
    return write_with_pyav(media_dir / "clip.webm", audio, 48_000, codec="libopus", video="vp8")


@pytest.fixture(scope="session")
def silent_video_path(media_dir: Path) -> Path:
    """MP4 with an h264 video stream and no audio stream."""
    return write_with_pyav(media_dir / "no_audio.mp4", None, SR, codec=None, video="h264")


@pytest.fixture
def truncated(tmp_path: Path):
    """Factory: copy the first `fraction` of a file's bytes to tmp_path."""

    def _truncate(source: Path, fraction: float = 0.5) -> Path:
        data = source.read_bytes()
        target = tmp_path / f"truncated_{source.name}"
        target.write_bytes(data[: int(len(data) * fraction)])
        return target

    return _truncate
