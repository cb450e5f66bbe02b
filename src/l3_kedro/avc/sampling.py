"""Which audio goes with which frame, and the augmentations of docs/reference.md §5.

A pair is a 1 s audio crop and one video frame. Positives take a frame of the
same video whose own timestamp lies inside the audio crop (they overlap in
time: the original code's samples-vs-seconds bug is not reproduced, and the
frame is never one shown before the crop starts); negatives take a frame of
a different video. Labels: 1 = corresponds, 0 = does not; the model's
softmax output column 1 is the probability of correspondence.

Every function here is pure numpy and takes its randomness from a
``numpy.random.Generator``, so a batch is a function of its seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from l3_kedro.errors import ParameterError

WINDOW_S = 1.0
"""Length of the audio crop, in seconds."""

GAIN_RANGE = (0.9, 1.1)
"""Audio gain augmentation factor range (uniform)."""


@dataclass(frozen=True)
class PairPlan:
    """Where each pair of a batch comes from.

    Attributes
    ----------
    audio_video, image_video : np.ndarray [shape=(n,), int]
        Indices (into the caller's video list) of the audio's and the frame's video.
    audio_start : np.ndarray [shape=(n,), float]
        Start of the 1 s audio crop, in seconds.
    image_time : np.ndarray [shape=(n,), float]
        Time at which the frame is shown, in seconds.
    label : np.ndarray [shape=(n,), int]
        1 for a corresponding pair, 0 otherwise.
    """

    audio_video: np.ndarray
    audio_start: np.ndarray
    image_video: np.ndarray
    image_time: np.ndarray
    label: np.ndarray


def plan_pairs(
    rng: np.random.Generator,
    *,
    videos: np.ndarray,
    durations: np.ndarray,
    n_pairs: int,
) -> PairPlan:
    """Draw ``n_pairs`` pairs (half positive, half negative, shuffled) from ``videos``.

    Parameters
    ----------
    rng : numpy.random.Generator
    videos : np.ndarray [shape=(v,), int]
        Candidate video indices (at least two distinct ones).
    durations : np.ndarray [shape=(total videos,), float]
        Usable duration of every video, in seconds (>= 1 s), indexed by video index.
    n_pairs : int
        Pairs to draw (an odd count gets one more negative).

    Returns
    -------
    PairPlan
    """
    videos = np.unique(np.asarray(videos, dtype=np.int64))
    if videos.size < 2:
        raise ParameterError("Negative pairs need at least two distinct videos in a batch.")
    durations = np.asarray(durations, dtype=np.float64)
    if np.any(durations[videos] < WINDOW_S):
        raise ParameterError(f"Every sampled video must last at least {WINDOW_S} s.")
    label = np.zeros(n_pairs, dtype=np.int64)
    label[: n_pairs // 2] = 1
    rng.shuffle(label)
    audio_video = rng.choice(videos, size=n_pairs)
    audio_start = rng.uniform(0.0, 1.0, n_pairs) * (durations[audio_video] - WINDOW_S)
    # A negative's frame comes from another video of the batch: shift the
    # audio video's position by 1 .. v-1 places, so it can never be itself.
    position = np.searchsorted(videos, audio_video)
    other = videos[(position + rng.integers(1, videos.size, n_pairs)) % videos.size]
    image_video = np.where(label == 1, audio_video, other)
    inside = audio_start + rng.uniform(0.0, WINDOW_S, n_pairs)
    anywhere = rng.uniform(0.0, 1.0, n_pairs) * durations[image_video]
    image_time = np.where(label == 1, inside, anywhere)
    return PairPlan(audio_video, audio_start, image_video, image_time, label)


def crop_start(n_samples: int, start_s: float, *, sample_rate: int) -> int:
    """First sample of the 1 s crop planned at ``start_s``.

    Moved back where the audio ends less than 1 s after ``start_s`` (so the
    crop stays whole), and to 0 for audio shorter than 1 s.
    """
    length = round(WINDOW_S * sample_rate)
    return min(round(start_s * sample_rate), max(n_samples - length, 0))


def frame_index_inside(frame_times: np.ndarray, start_s: float, fraction: float) -> int:
    """Index of a frame whose timestamp lies in the crop ``[start_s, start_s + 1 s)``.

    Parameters
    ----------
    frame_times : np.ndarray [shape=(m,)]
        Presentation times of the frames, increasing, in seconds.
    start_s : float
        Start of the audio crop actually taken, in seconds.
    fraction : float
        In [0, 1): which of the frames inside, in time order (a uniform
        draw gives every frame inside the same chance).

    Returns
    -------
    int
        The frame at ``fraction`` of those inside the crop; if none is inside
        (frames sparser than one a second), the frame nearest the crop's centre.
    """
    first = int(np.searchsorted(frame_times, start_s, side="left"))
    stop = int(np.searchsorted(frame_times, start_s + WINDOW_S, side="left"))
    if stop > first:
        return first + min(int(fraction * (stop - first)), stop - first - 1)
    return int(np.argmin(np.abs(np.asarray(frame_times) - (start_s + WINDOW_S / 2))))


def frame_index_at(frame_times: np.ndarray, time_s: float) -> int:
    """Index of the frame on screen at ``time_s`` (the last one shown at or before it).

    Parameters
    ----------
    frame_times : np.ndarray [shape=(m,)]
        Presentation times of the frames, increasing, in seconds.
    time_s : float
        Time in seconds.
    """
    index = int(np.searchsorted(frame_times, time_s, side="right")) - 1
    return min(max(index, 0), len(frame_times) - 1)


def crop_audio(
    rng: np.random.Generator | None,
    audio: np.ndarray,
    *,
    start_s: float,
    sample_rate: int,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Take the 1 s crop starting at ``start_s``; with ``rng``, apply the gain augmentation.

    Parameters
    ----------
    rng : numpy.random.Generator or None
        None: no augmentation (evaluation).
    audio : np.ndarray [shape=(n,), int16 or float]
        Mono audio of one video; int16 is scaled to [-1, 1).
    start_s : float
        Crop start in seconds.
    sample_rate : int
        Audio rate in Hz.
    out : np.ndarray [shape=(sample_rate,), float32], optional
        Where to write the crop (e.g. a row of a batch); a new array if None.

    Returns
    -------
    np.ndarray [shape=(sample_rate,), float32]
        ``out``; zero-padded if the audio ends early.
    """
    length = round(WINDOW_S * sample_rate)
    if out is None:
        out = np.empty(length, dtype=np.float32)
    start = crop_start(len(audio), start_s, sample_rate=sample_rate)
    piece = audio[start : start + length]
    scale = 1.0 / 32768.0 if audio.dtype == np.int16 else 1.0
    if rng is not None:
        scale *= rng.uniform(*GAIN_RANGE)
    # one pass: int16 (or float) -> float32, scaled, into place
    np.multiply(piece, np.float32(scale), out=out[: len(piece)], casting="unsafe")
    out[len(piece) :] = 0.0
    return out


def crop_image(
    rng: np.random.Generator | None,
    frame: np.ndarray,
    *,
    size: int,
) -> np.ndarray:
    """Crop a square from a frame; with ``rng``, a random crop flipped with p = 0.5.

    The colour augmentations of docs/reference.md §5 (saturation, brightness) and the
    scaling to [0, 1] happen in the model, on the device
    (:class:`~l3_kedro.models.image_input.ImageColourJitter`): batches carry
    uint8 pixels. Evaluation (``rng`` None): the centre crop.

    Parameters
    ----------
    rng : numpy.random.Generator or None
    frame : np.ndarray [shape=(h, w, 3), uint8]
        RGB frame whose short side is at least ``size``.
    size : int
        Side of the crop in pixels.

    Returns
    -------
    np.ndarray [shape=(size, size, 3), uint8]
        A view into ``frame``.
    """
    height, width = frame.shape[:2]
    if min(height, width) < size:
        raise ParameterError(
            f"A {height}x{width} frame cannot give a {size}x{size} crop; decode frames with "
            "a short side of at least avc_training.training.image_size."
        )
    if rng is None:
        top, left = (height - size) // 2, (width - size) // 2
    else:
        top, left = int(rng.integers(0, height - size + 1)), int(rng.integers(0, width - size + 1))
    crop = frame[top : top + size, left : left + size]
    if rng is not None and rng.random() < 0.5:
        crop = crop[:, ::-1]
    return crop
