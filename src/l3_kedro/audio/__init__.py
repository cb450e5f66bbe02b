"""Audio input: decode files and sound tracks, resample, cut into windows."""

from l3_kedro.audio.io import AudioInfo, audio_info, load_audio, resample
from l3_kedro.audio.windows import (
    PaddedSignal,
    WindowBatch,
    batch_windows,
    count_windows,
    frame_audio,
    mono_float32,
    pad_for_windows,
)

__all__ = [
    "AudioInfo",
    "PaddedSignal",
    "WindowBatch",
    "audio_info",
    "batch_windows",
    "count_windows",
    "frame_audio",
    "load_audio",
    "mono_float32",
    "pad_for_windows",
    "resample",
]
