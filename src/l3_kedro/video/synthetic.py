"""A procedural audio-visual corpus for the embedded default's AVC training.

The repository cannot ship real training video, so the embedded default
generates a small corpus offline, deterministic by seed, as real mp4 files
(h264 video, aac audio) laid out like an AudioSet download, so that it goes
through the same decode path as AudioSet videos. It is synthetic: its only
purpose is to let the default run end to end on a laptop.

Each video has one sound source of one subset (*music*: harmonic
instruments; *environmental*: noise textures and impulsive events), which
sounds throughout, like most AudioSet clips, and its class's visual object,
drawn near the centre of the frame. Optionally (``two_sources_p``,
``silent_stretch_p``) a video has two sources that take turns in stretches
of 2.5-4 s, with silent stretches that show only the background; each
object is drawn exactly while its source sounds. So what is seen at an
instant predicts what is heard in the second around it, and a negative pair
(a frame of another video) mostly shows another class. The objects follow
cross-modal correspondences, so that a small network learns the association
within a few thousand pairs: struck, plucked or impulsive sources have warm,
angular objects and sustained or continuous ones cool, round objects; low
sources have large objects and high ones small objects (see
:mod:`l3_kedro.video.synthetic_classes`). A music object's height follows
the pitch of the current note, an environmental object's size its loudness.
Each video carries an AudioSet-style identity (fake YTID, segment times) and
the real AudioSet ontology ids of its classes (:data:`SYNTHETIC_CLASSES`),
chosen so that the paper's subset filters put every video in its own subset.

Layout under ``root``::

    videos/{ytid}_{start_ms}_{end_ms}.mp4   h264 yuv420p + aac mono
    segments.csv                            AudioSet segment-list format
    README.txt                              what this is
    corpus.json                             generator version and parameters
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from rich.progress import track

from l3_kedro.atomic_files import partial_name, remove_stale_partials
from l3_kedro.errors import ParameterError
from l3_kedro.video.synthetic_classes import LARGE, SUBSETS, SYNTHETIC_CLASSES, SyntheticClass
from l3_kedro.video.synthetic_params import PARAMETER_PREFIX, CorpusParameters
from l3_kedro.video.synthetic_render import VideoPlan, plan_video, render_video

__all__ = [
    "CORPUS_VERSION",
    "SUBSETS",
    "SYNTHETIC_CLASSES",
    "CorpusParameters",
    "SyntheticClass",
    "generate_synthetic_corpus",
    "write_mp4",
]

logger = logging.getLogger(__name__)

CORPUS_VERSION = 3
"""Bumped whenever the generator's output changes for the same parameters."""

SEGMENTS_NAME = "segments.csv"
STAMP_NAME = "corpus.json"
README_NAME = "README.txt"
VIDEO_DIR = "videos"
_AUDIO_FRAME = 1024  # samples per AAC frame
_FORMAT = {
    "generator": "l3_kedro.video.synthetic",
    "video": {"codec": "h264", "pix_fmt": "yuv420p", "container": "mp4"},
    "audio": {"codec": "aac", "channels": 1},
    "classes": {s: {n: c.ontology_id for n, c in SYNTHETIC_CLASSES[s].items()} for s in SUBSETS},
}
"""What every corpus.json records besides the version and the parameters."""


def generate_synthetic_corpus(
    root: str | os.PathLike,
    *,
    n_videos_per_subset: int = CorpusParameters.n_videos_per_subset,
    duration_s: float = CorpusParameters.duration_s,
    frame_rate: float = CorpusParameters.frame_rate,
    image_size: int = CorpusParameters.image_size,
    sample_rate: int = CorpusParameters.sample_rate,
    seed: int = CorpusParameters.seed,
    two_sources_p: float = CorpusParameters.two_sources_p,
    silent_stretch_p: float = CorpusParameters.silent_stretch_p,
    instruments: str = CorpusParameters.instruments,
    drawn_classes: int = CorpusParameters.drawn_classes,
    overwrite: bool = False,
) -> Path:
    """Generate (or reuse) the synthetic AVC corpus under ``root``.

    An existing corpus is reused when its ``corpus.json`` records this
    generator version and these parameters and all its files exist;
    otherwise it is regenerated. The corpus is written into a temporary
    folder next to ``root`` and renamed into place when complete, so a crash
    never leaves half a corpus behind.

    Parameters
    ----------
    root : str or PathLike
        Folder of the corpus; created if missing. An existing folder must be
        empty or hold a corpus made by this function (it is replaced).
    n_videos_per_subset : int >= 1
        Videos of each subset (music, environmental).
    duration_s : float in [1, 60]
        Length of each video in seconds.
    frame_rate : float in [1, 30]
        Video frames per second.
    image_size : even int in [32, 256]
        Width and height of the frames in pixels.
    sample_rate : int
        Audio sampling rate in Hz, one of the AAC rates (e.g. 48000).
    seed : int >= 0
        Seed of everything random; video ``i`` of a subset depends only on
        ``seed``, its subset and ``i``.
    two_sources_p : float in [0, 1]
        Probability that a video has two sources taking turns (else one).
    silent_stretch_p : float in [0, 1]
        Probability that a 2.5-4 s stretch (not after a silent one) is silent:
        no sound and no object. 0 (default): the source sounds throughout.
    instruments : {"procedural", "soundfont"}
        ``procedural``: every sound is synthesised from its recipe;
        ``soundfont``: instruments and the sound effects General MIDI has
        (helicopter, applause, gunshot) are played on recorded samples (see
        :mod:`l3_kedro.video.soundfont`).
    drawn_classes : int in [0, 48]
        Classes drawn at random added to each subset's eight hand-made ones
        (:mod:`l3_kedro.video.synthetic_drawn`), so that telling a few
        classes apart no longer solves the AVC task. With ``soundfont``,
        drawn instruments play General MIDI programs of their kind; drawn
        textures stay procedural.
    overwrite : bool
        Regenerate even when a matching corpus exists.

    Returns
    -------
    Path
        ``root / "segments.csv"``, the AudioSet-format list of the segments;
        the videos are ``root / "videos" / "{ytid}_{start_ms}_{end_ms}.mp4"``.

    Raises
    ------
    ParameterError
        A parameter is out of its domain (named ``ingest.avc.synthetic.*``),
        or ``root`` exists and holds something other than such a corpus.
    """
    params = CorpusParameters(
        n_videos_per_subset=n_videos_per_subset,
        duration_s=duration_s,
        frame_rate=frame_rate,
        image_size=image_size,
        sample_rate=sample_rate,
        seed=seed,
        two_sources_p=two_sources_p,
        silent_stretch_p=silent_stretch_p,
        instruments=instruments,
        drawn_classes=drawn_classes,
    )
    if not isinstance(overwrite, bool):
        raise ParameterError(
            f"Parameter '{PARAMETER_PREFIX}.overwrite' must be a bool, not {overwrite!r}."
        )
    segments, target = Path(root) / SEGMENTS_NAME, Path(root).resolve()
    if not overwrite and _is_current(target, params):
        logger.info("Reusing the synthetic AVC corpus in '%s'.", target)
        return segments
    _check_replaceable(target)
    plans = [plan_video(s, i, params) for s in SUBSETS for i in range(n_videos_per_subset)]
    if len({plan.ytid for plan in plans}) < len(plans):
        raise ParameterError(
            f"Parameter '{PARAMETER_PREFIX}.seed' = {seed} draws a YTID twice; change it."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_partials(target)
    remove_stale_partials(_retired_name(target))
    staging = target.with_name(partial_name(target.name))
    staging.mkdir(mode=0o755)
    try:
        (staging / VIDEO_DIR).mkdir()
        # numpy and FFmpeg release the GIL, so threads use the cores without pickling.
        with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
            jobs = pool.map(lambda plan: _write_video(plan, params, staging), plans)
            try:
                for _ in track(
                    jobs, description="Generating synthetic AVC videos", total=len(plans)
                ):
                    pass
            except BaseException:
                pool.shutdown(cancel_futures=True)
                raise
        (staging / SEGMENTS_NAME).write_text(_segments_csv(plans, params), encoding="utf-8")
        (staging / README_NAME).write_text(_readme(params), encoding="utf-8")
        stamp = {"version": CORPUS_VERSION, "parameters": params.as_dict(), **_FORMAT}
        (staging / STAMP_NAME).write_text(json.dumps(stamp, indent=2) + "\n", encoding="utf-8")
        _swap_in(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    logger.info("Wrote a synthetic AVC corpus of %d videos to '%s'.", len(plans), target)
    return segments


def _write_video(plan: VideoPlan, params: CorpusParameters, root: Path) -> None:
    """Render one planned video and encode it under ``root / "videos"``."""
    stems, frames = render_video(plan, params)
    write_mp4(
        root / VIDEO_DIR / f"{plan.file_stem(params.duration_s)}.mp4",
        audio=stems.sum(axis=0),
        frames=frames,
        sample_rate=params.sample_rate,
        frame_rate=params.frame_rate,
    )


def write_mp4(
    path: str | os.PathLike,
    *,
    audio: np.ndarray,
    frames: np.ndarray,
    sample_rate: int,
    frame_rate: float,
) -> None:
    """Encode frames (h264, yuv420p) and a mono sound track (aac) into an mp4.

    Parameters
    ----------
    path : str or PathLike
        Output file.
    audio : np.ndarray [shape=(n,)]
        Mono samples in [-1, 1] at ``sample_rate`` Hz.
    frames : np.ndarray [shape=(n_frames, height, width, 3), dtype=uint8]
        RGB frames; frame ``i`` is shown at ``i / frame_rate`` s. Height and
        width must be even.
    sample_rate : int
        Audio sampling rate in Hz (an AAC rate).
    frame_rate : float
        Frames per second.
    """
    samples = np.ascontiguousarray(audio, dtype=np.float32)
    with av.open(str(path), mode="w", format="mp4") as container:
        video = container.add_stream("libx264", rate=Fraction(frame_rate).limit_denominator(1001))
        video.height, video.width = frames.shape[1:3]
        video.pix_fmt = "yuv420p"
        # Constant QP: x264's CRF rate control (lookahead, mb-tree) gave different
        # bytes from run to run here; constant QP makes the files reproducible.
        video.options = {"qp": "18", "preset": "veryfast"}
        video.thread_count = 1
        sound = container.add_stream("aac", rate=sample_rate)
        sound.layout = "mono"
        sound.options = {"aac_coder": "fast", "b": "96k"}
        for i, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = i
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        for start in range(0, samples.size, _AUDIO_FRAME):
            chunk = samples[None, start : start + _AUDIO_FRAME]
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
            frame.sample_rate, frame.pts = sample_rate, start
            container.mux(sound.encode(frame))
        container.mux(sound.encode(None))


def _segments_csv(plans: list[VideoPlan], params: CorpusParameters) -> str:
    """The AudioSet segment list of ``plans`` (three ``#`` header lines, then rows)."""
    labels = {label for plan in plans for label in plan.labels}
    n_labels = sum(len(plan.labels) for plan in plans)
    lines = [
        f"# Segments csv created by l3_kedro.video.synthetic (synthetic, seed {params.seed})",
        f"# num_ytids={len(plans)}, num_segs={len(plans)}, "
        f"num_unique_labels={len(labels)}, num_positive_labels={n_labels}",
        "# YTID, start_seconds, end_seconds, positive_labels",
    ]
    for plan in plans:
        start_ms, end_ms = plan.segment_ms(params.duration_s)
        times = f"{start_ms / 1000:.3f}, {end_ms / 1000:.3f}"
        lines.append(f'{plan.ytid}, {times}, "{",".join(plan.labels)}"')
    return "\n".join(lines) + "\n"


def _segment_files(root: Path) -> list[Path]:
    """Video files named by the rows of ``root/segments.csv`` (AudioSet download naming)."""
    paths = []
    for line in (root / SEGMENTS_NAME).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            ytid, start, end = (field.strip() for field in line.split(",")[:3])
            stem = f"{ytid}_{round(float(start) * 1000)}_{round(float(end) * 1000)}"
            paths.append(root / VIDEO_DIR / f"{stem}.mp4")
    return paths


def _is_current(root: Path, params: CorpusParameters) -> bool:
    """Whether ``root`` holds a complete corpus of this version and these parameters."""
    try:
        stamp = json.loads((root / STAMP_NAME).read_text(encoding="utf-8"))
        files = _segment_files(root)
    except (OSError, ValueError):
        return False
    return (
        isinstance(stamp, dict)
        and stamp.get("version") == CORPUS_VERSION
        and stamp.get("parameters") == params.as_dict()
        and len(files) == 2 * params.n_videos_per_subset
        and (root / README_NAME).is_file()
        and all(p.is_file() and p.stat().st_size > 0 for p in files)
    )


def _check_replaceable(root: Path) -> None:
    """Refuse to replace anything but an empty folder or an earlier synthetic corpus."""
    if root.exists() and not root.is_dir():
        raise ParameterError(
            f"Parameter '{PARAMETER_PREFIX}.root' ('{root}') is a file; give a folder."
        )
    if root.is_dir() and any(root.iterdir()) and not (root / STAMP_NAME).is_file():
        raise ParameterError(
            f"Parameter '{PARAMETER_PREFIX}.root': '{root}' is not empty and holds no "
            f"synthetic corpus ({STAMP_NAME}); give an empty or new folder."
        )


def _retired_name(root: Path) -> Path:
    """Where an old corpus waits for deletion (its partial name, a killed run's clean-up)."""
    return root.with_name(f"{root.name}-old")


def _swap_in(staging: Path, root: Path) -> None:
    """Rename the finished ``staging`` folder to ``root``, replacing an old corpus."""
    if not root.exists():
        staging.rename(root)
        return
    retired = _retired_name(root).with_name(partial_name(_retired_name(root).name))
    root.rename(retired)
    staging.rename(root)
    shutil.rmtree(retired, ignore_errors=True)


def _readme(params: CorpusParameters) -> str:
    """The corpus's README: what it is and how it was made."""
    rows = "\n".join(
        f"  {subset:13s} {name:24s} {cls.ontology_id:11s} {cls.visual.colour!s:15s} "
        f"{cls.visual.shape:9s} {'large' if cls.visual.size == LARGE else 'small'}"
        for subset in SUBSETS
        for name, cls in params.classes(subset).items()
    )
    settings = "\n".join(f"  {key} = {value}" for key, value in params.as_dict().items())
    return (
        "SYNTHETIC audio-visual corpus - not AudioSet, not real recordings.\n\n"
        "Generated by l3_kedro (l3_kedro.video.synthetic.generate_synthetic_corpus,\n"
        f"corpus version {CORPUS_VERSION}) so that the embedded default can train an\n"
        "audio-visual correspondence (AVC) model end to end without downloading video.\n"
        "Each video has one procedural source of one subset (music-like instruments or\n"
        "environmental-like textures) that sounds throughout, and its class's object\n"
        "(below) near the centre of the frame; with two_sources_p > 0 some videos have\n"
        "two sources taking turns in 2.5-4 s stretches, with silent_stretch_p > 0 some\n"
        "stretches are silent and show only the background. The objects follow\n"
        "cross-modal correspondences: struck, plucked or impulsive sources have warm,\n"
        "angular objects, sustained or continuous ones cool, round objects; low sources\n"
        "(low register or band) have large objects, high sources small ones.\n"
        "Music objects rise with pitch, environmental objects grow with loudness.\n"
        "Labels are the AudioSet ontology ids of the classes in the video; YTIDs and\n"
        "segment times are made up.\n\n"
        f"Layout: {VIDEO_DIR}/{{ytid}}_{{start_ms}}_{{end_ms}}.mp4 (h264 yuv420p + aac mono),\n"
        f"{SEGMENTS_NAME} (AudioSet segment-list format), {STAMP_NAME} (generation stamp).\n\n"
        f"Parameters:\n{settings}\n\nClasses (subset, name, ontology id, RGB colour, shape, size):\n"
        f"{rows}\n"
    )
