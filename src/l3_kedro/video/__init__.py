"""Video input: probe files for audio-visual correspondence, decode frames, list corpora."""

from l3_kedro.video.frames import decode_frames, read_frame_at
from l3_kedro.video.manifest import (
    VIDEO_MANIFEST_COLUMNS,
    VIDEO_SKIP_COLUMNS,
    build_video_manifest,
)
from l3_kedro.video.probe import VideoInfo, probe_video

__all__ = [
    "VIDEO_MANIFEST_COLUMNS",
    "VIDEO_SKIP_COLUMNS",
    "VideoInfo",
    "build_video_manifest",
    "decode_frames",
    "probe_video",
    "read_frame_at",
]
