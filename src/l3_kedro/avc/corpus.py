"""Decoded videos for pair sampling: audio at 48 kHz and frames, in a bounded cache.

A :class:`VideoCache` decodes a video the first time a batch needs it and
keeps at most ``capacity`` of them (least recently used out). Worker threads
preparing batches share one cache; a video being decoded by one thread is
waited for, not decoded twice.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
from rich.progress import track

from l3_kedro.audio import load_audio
from l3_kedro.audio.constants import TARGET_SR
from l3_kedro.errors import ParameterError

MANIFEST_COLUMNS = ("video_id", "subset", "split", "video_path", "audio_path", "duration_s")
"""Columns of the video manifest that sampling needs."""


@dataclass(frozen=True)
class DecodedVideo:
    """One video ready for sampling.

    Attributes
    ----------
    audio : np.ndarray [shape=(n,), int16]
        Mono sound track at ``TARGET_SR`` Hz (int16 as in the authors' code).
    frames : np.ndarray [shape=(m, h, w, 3), uint8]
        RGB frames with the configured short side.
    frame_times : np.ndarray [shape=(m,), float64]
        Presentation time of each frame, in seconds.
    """

    audio: np.ndarray
    frames: np.ndarray
    frame_times: np.ndarray

    @property
    def duration_s(self) -> float:
        """Length of the sound track in seconds."""
        return len(self.audio) / TARGET_SR

    @property
    def nbytes(self) -> int:
        """Memory held, in bytes."""
        return self.audio.nbytes + self.frames.nbytes + self.frame_times.nbytes


def decode_video(
    *, video_path: str, audio_path: str, short_side: int, frame_rate: float | None
) -> DecodedVideo:
    """Decode the sound track (mono, 48 kHz, int16) and the frames of one video."""
    from l3_kedro.video.frames import decode_frames

    audio, _ = load_audio(audio_path, sr=TARGET_SR, mono=True)
    pcm = np.clip(np.round(audio * 32767.0), -32768, 32767).astype(np.int16)
    frames, times = decode_frames(video_path, frame_rate=frame_rate, short_side=short_side)
    return DecodedVideo(audio=pcm, frames=frames, frame_times=times)


class VideoCache:
    """Thread-safe, bounded cache of :class:`DecodedVideo` for the rows of a manifest.

    Parameters
    ----------
    manifest : pandas.DataFrame
        Video manifest (see :data:`MANIFEST_COLUMNS`); row ``i`` is video ``i``.
    short_side : int
        Short side of the decoded frames, in pixels.
    frame_rate : float or None
        Frames kept per second (None: all).
    capacity : int
        Videos kept decoded at once.
    """

    def __init__(
        self,
        manifest: pd.DataFrame,
        *,
        short_side: int,
        frame_rate: float | None,
        capacity: int,
    ) -> None:
        missing = [c for c in MANIFEST_COLUMNS if c not in manifest.columns]
        if missing:
            raise ParameterError(
                f"The video manifest lacks column(s) {missing}; build it with the ingest pipeline."
            )
        self.manifest = manifest.reset_index(drop=True)
        self.short_side = short_side
        self.frame_rate = frame_rate
        self.capacity = capacity
        self._videos: OrderedDict[int, DecodedVideo] = OrderedDict()
        self._loading: dict[int, threading.Event] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.manifest)

    @property
    def durations(self) -> np.ndarray:
        """Usable duration of each video from the manifest, in seconds (shape (v,))."""
        return self.manifest["duration_s"].to_numpy(dtype=np.float64)

    def indices(self, *, subset: str | None = None, split: str | None = None) -> np.ndarray:
        """Row indices of the videos of one subset and/or split (shape (k,), int)."""
        keep = np.ones(len(self.manifest), dtype=bool)
        if subset is not None:
            keep &= (self.manifest["subset"] == subset).to_numpy()
        if split is not None:
            keep &= (self.manifest["split"] == split).to_numpy()
        return np.flatnonzero(keep)

    def preload(self, indices: np.ndarray, *, threads: int | None = None) -> int:
        """Decode videos ``indices`` into the cache ahead of use, in parallel threads.

        Only as many as the cache holds are decoded (the first ``capacity``);
        PyAV and the resampler release the GIL, so threads use every core.
        Training then never waits on decoding while its batches are made.

        Returns
        -------
        int
            Videos now in the cache out of ``indices``.
        """
        wanted = [int(i) for i in np.asarray(indices)[: self.capacity]]
        threads = threads or min(8, os.cpu_count() or 1)
        with ThreadPoolExecutor(max_workers=threads) as pool:
            for _ in track(
                pool.map(self.get, wanted),
                total=len(wanted),
                description="Decoding AVC videos",
                transient=True,
            ):
                pass
        return len(wanted)

    def get(self, index: int) -> DecodedVideo:
        """Return video ``index`` decoded, decoding it if it is not cached."""
        while True:
            with self._lock:
                if index in self._videos:
                    self._videos.move_to_end(index)
                    return self._videos[index]
                event = self._loading.get(index)
                if event is None:
                    event = self._loading[index] = threading.Event()
                    break
            event.wait()
        try:
            row = self.manifest.iloc[index]
            video = decode_video(
                video_path=row["video_path"],
                audio_path=row["audio_path"],
                short_side=self.short_side,
                frame_rate=self.frame_rate,
            )
            with self._lock:
                self._videos[index] = video
                while len(self._videos) > self.capacity:
                    self._videos.popitem(last=False)
            return video
        finally:
            with self._lock:
                self._loading.pop(index, None)
            event.set()
