"""List and probe the videos of an audio-visual corpus: the AVC manifest.

``build_video_manifest(source)`` reads one ``ingest.avc`` parameter section.
Two layouts:

``layout: audioset``
    AudioSet segment lists, filtered into subsets by the paper's label
    filters (:mod:`l3_kedro.layouts.audioset`). Keys: ``segments`` (a CSV
    or a list of them), ``video_dir``, ``video_pattern`` (default
    ``"{ytid}_{start_ms}_{end_ms}.mp4"``), ``audio_dir`` (default
    ``video_dir``), ``audio_pattern`` (None: the sound is in the video),
    ``ontology``, ``subsets`` (``{name: filter CSV}``). Pattern fields:
    ``ytid``, ``start`` and ``end`` (seconds with three decimals, as in the
    CSVs: ``"30.000"``), ``start_ms`` and ``end_ms`` (whole milliseconds).
``layout: folder``
    ``root`` with one sub-folder of video files per subset, or ``manifest``,
    a CSV with columns ``path,subset[,audio_path]`` (relative paths are
    relative to the CSV's folder). Optional ``extensions``.

Both take ``split`` (``{train, validation, test, seed}``, default 0.8 / 0.1
/ 0.1, seed 0; drawn per video id, see
:func:`~l3_kedro.layouts.splits.assign_splits`) and ``min_duration``
(seconds, default 1.0).

Missing video or side-car files are always recorded as skips, whatever the
policy: AudioSet downloads always miss some. Videos that exist but cannot be
used, and AudioSet segments with a label id the ontology lacks, follow
``on_error``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from rich.progress import track

from l3_kedro.errors import DatasetLayoutError, ParameterError, VideoError
from l3_kedro.layouts.audioset import Ontology, load_label_filter, read_segments_csv
from l3_kedro.layouts.base import read_metadata_csv, require_dir
from l3_kedro.layouts.generic import VIDEO_SUFFIXES
from l3_kedro.layouts.probe import IngestPolicy
from l3_kedro.layouts.splits import assign_splits
from l3_kedro.video import manifest_options as options
from l3_kedro.video.manifest_options import DEFAULT_VIDEO_PATTERN, PARAMETER_PREFIX
from l3_kedro.video.probe import probe_video

logger = logging.getLogger(__name__)

VIDEO_MANIFEST_COLUMNS = (
    "video_id",
    "segment_id",
    "subset",
    "split",
    "labels",
    "video_path",
    "audio_path",
    "duration_s",
    "frame_rate",
    "width",
    "height",
    "sample_rate",
    "channels",
)
"""Columns of a video manifest, one row per video file x subset it belongs to.

``video_id`` is the source video (AudioSet YTID; relative path without suffix
for folders), on which splits are drawn; ``segment_id`` names the file's
segment (``{ytid}_{start_ms}_{end_ms}``; equal to ``video_id`` for folders);
``labels`` are ``;``-joined ontology ids (empty for folders); paths are
absolute, ``audio_path == video_path`` when the sound is in the container;
``duration_s`` (the shorter of picture and sound) in seconds, ``frame_rate``
in fps, ``width``/``height`` in pixels, ``sample_rate`` in Hz."""

VIDEO_SKIP_COLUMNS = ("video_id", "video_path", "reason")
"""Columns of the skip report, one row per video file left out and why."""

_COMMON_KEYS = {"layout", "split", "min_duration"}
_FILE_KEYS = {"segments", "video_dir", "video_pattern", "audio_dir", "audio_pattern"}
_LAYOUT_KEYS = {
    "audioset": _FILE_KEYS | {"ontology", "subsets"},
    "folder": {"root", "manifest", "extensions"},
}
_CANDIDATE_COLUMNS = ["video_id", "segment_id", "subset", "labels", "video_path", "audio_path"]


def build_video_manifest(
    source: Mapping[str, Any], *, on_error: str = "skip", probe: str = "decode"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """List, filter, split and probe the videos of a corpus.

    Parameters
    ----------
    source : Mapping
        The ``ingest.avc`` parameter section (see the module docstring).
    on_error : {"skip", "error"}
        ``"error"`` stops at the first unusable video (or unknown label id);
        ``"skip"`` records it in the skip report.
    probe : {"decode", "header"}
        ``"decode"`` decodes frames near the start and end and the whole
        sound of each video; ``"header"`` reads headers only.

    Returns
    -------
    manifest : pandas.DataFrame
        Usable videos, columns :data:`VIDEO_MANIFEST_COLUMNS`, sorted by
        subset, split and id.
    skips : pandas.DataFrame
        Videos left out, columns :data:`VIDEO_SKIP_COLUMNS`.

    Raises
    ------
    ParameterError
        A key of ``source`` is missing, unknown or out of its domain (the
        message names ``ingest.avc.<key>``).
    DatasetLayoutError
        A metadata file is missing or malformed; with ``on_error="error"``, a
        segment has a label id the ontology lacks; no usable video is left.
    VideoError
        With ``on_error="error"``, the first unusable video.
    """
    policy = IngestPolicy(on_error=on_error, probe=probe)
    if not isinstance(source, Mapping):
        raise ParameterError(f"Parameter '{PARAMETER_PREFIX}' must be a mapping, not {source!r}.")
    layout = source.get("layout")
    if layout not in _LAYOUT_KEYS:
        raise ParameterError(
            f"Parameter '{PARAMETER_PREFIX}.layout' must be one of {sorted(_LAYOUT_KEYS)}, "
            f"not {layout!r}."
        )
    unknown = sorted(set(source) - _COMMON_KEYS - _LAYOUT_KEYS[layout])
    if unknown:
        raise ParameterError(
            f"Unknown key(s) {[f'{PARAMETER_PREFIX}.{k}' for k in unknown]} for layout "
            f"{layout!r}; allowed: {sorted(_COMMON_KEYS | _LAYOUT_KEYS[layout])}."
        )
    fractions, seed = options.split_parameters(source.get("split"))
    min_duration = options.min_duration(source.get("min_duration", 1.0))
    skipped: list[dict[str, str]] = []
    if layout == "audioset":
        candidates = _audioset_candidates(source, policy=policy, skipped=skipped)
    else:
        candidates = _folder_candidates(source)
    candidates["split"] = assign_splits(
        candidates["video_id"], fractions=fractions, seed=seed, groups=candidates["subset"]
    )
    facts = _probe_files(candidates, policy=policy, min_duration=min_duration, skipped=skipped)
    manifest = _assemble(candidates, facts)
    if manifest.empty:
        raise DatasetLayoutError(
            f"No usable video in '{PARAMETER_PREFIX}' ({len(skipped)} skipped; first reason: "
            f"{skipped[0]['reason'] if skipped else 'none listed'}). Check the paths and patterns."
        )
    for (subset, split), count in manifest.groupby(["subset", "split"]).size().items():
        logger.info("AVC subset %s, %s split: %d videos", subset, split, count)
    return manifest, pd.DataFrame(skipped, columns=list(VIDEO_SKIP_COLUMNS))


def _audioset_candidates(
    source: Mapping[str, Any], *, policy: IngestPolicy, skipped: list[dict[str, str]]
) -> pd.DataFrame:
    """One row per (segment, subset it is in), with expected file paths."""
    csvs = source.get("segments")
    csvs = [csvs] if isinstance(csvs, str | Path) else csvs
    if not csvs or not all(isinstance(c, str | Path) for c in csvs):
        raise ParameterError(
            f"Parameter '{PARAMETER_PREFIX}.segments' must name one segment CSV or a list of "
            f"them, not {source.get('segments')!r}."
        )
    ontology = Ontology.from_json(options.required(source, "ontology"))
    subsets = source.get("subsets")
    if not isinstance(subsets, Mapping) or not subsets:
        raise ParameterError(
            f"Parameter '{PARAMETER_PREFIX}.subsets' must map subset names to filter CSVs, "
            f"e.g. {{music: filter_music.csv}}, not {subsets!r}."
        )
    filters = {str(name): load_label_filter(path, ontology) for name, path in subsets.items()}
    video_dir = Path(options.required(source, "video_dir"))
    video_pattern = options.pattern(source, "video_pattern", DEFAULT_VIDEO_PATTERN)
    audio_pattern = options.pattern(source, "audio_pattern", None)
    audio_dir = Path(source.get("audio_dir") or video_dir)

    tables = [read_segments_csv(path).assign(csv=str(path)) for path in csvs]
    segments = pd.concat(tables, ignore_index=True)
    duplicated = segments.duplicated(["ytid", "start_seconds", "end_seconds"])
    if duplicated.any():
        logger.info("Dropping %d segments listed more than once", int(duplicated.sum()))
        segments = segments[~duplicated]
    rows, in_no_subset = [], 0
    for seg in segments.itertuples(index=False):
        fields = options.pattern_fields(seg.ytid, seg.start_seconds, seg.end_seconds)
        video_path = video_dir / video_pattern.format(**fields)
        audio_path = None if audio_pattern is None else audio_dir / audio_pattern.format(**fields)
        unknown = ontology.unknown_ids(seg.labels)
        if unknown:
            reason = (
                f"Segment {seg.ytid} ({seg.start_seconds:.3f}-{seg.end_seconds:.3f} s) in "
                f"'{seg.csv}' has label id(s) {list(unknown)} not in the ontology "
                f"{ontology.source}. Use the ontology that matches the segment lists."
            )
            if policy.on_error == "error":
                raise DatasetLayoutError(reason)
            logger.warning("Skipping video %s: %s", seg.ytid, reason)
            skipped.append({"video_id": seg.ytid, "video_path": str(video_path), "reason": reason})
            continue
        names = [name for name, f in filters.items() if f.accepts(seg.labels, ytid=seg.ytid)]
        in_no_subset += not names
        segment_id = f"{seg.ytid}_{fields['start_ms']}_{fields['end_ms']}"
        labels = ";".join(seg.labels)
        rows += [(seg.ytid, segment_id, n, labels, video_path, audio_path) for n in names]
    logger.info(
        "%d of %d AudioSet segments are in no subset of %s and are left out",
        in_no_subset,
        len(segments),
        sorted(filters),
    )
    return pd.DataFrame(rows, columns=_CANDIDATE_COLUMNS)


def _folder_candidates(source: Mapping[str, Any]) -> pd.DataFrame:
    """One row per video file of a folder-per-subset tree or a CSV manifest."""
    root, listing = source.get("root"), source.get("manifest")
    if (root is None) == (listing is None):
        raise ParameterError(
            f"Layout 'folder' needs exactly one of '{PARAMETER_PREFIX}.root' (one sub-folder "
            f"per subset) or '{PARAMETER_PREFIX}.manifest' (a CSV path,subset[,audio_path])."
        )
    if listing is not None:
        listing = Path(listing)
        table = read_metadata_csv(listing, required=("path", "subset"), dtype=str)
        base = listing.parent
        audio = table["audio_path"] if "audio_path" in table else pd.Series(None, index=table.index)
        rows = [
            (base / path, str(subset), None if pd.isna(side) else base / side)
            for path, subset, side in zip(table["path"], table["subset"], audio, strict=True)
        ]
    else:
        base = require_dir(root, what="AVC video root", parameter=f"{PARAMETER_PREFIX}.root")
        suffixes = options.extensions(source.get("extensions", VIDEO_SUFFIXES))
        folders = sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith("."))
        rows = [
            (path, folder.name, None)
            for folder in folders
            for path in sorted(folder.rglob("*"))
            if path.is_file() and path.suffix.lower() in suffixes and not path.name.startswith(".")
        ]
        if not rows:
            raise DatasetLayoutError(
                f"No video files under '{base}': expected <root>/<subset>/<file> with a suffix "
                f"in {suffixes}."
            )
    candidates = []
    for path, subset, side in rows:
        video_id = options.relative_id(path, base)
        candidates.append((video_id, video_id, subset, "", path, side))
    return pd.DataFrame(candidates, columns=_CANDIDATE_COLUMNS)


def _probe_files(
    candidates: pd.DataFrame,
    *,
    policy: IngestPolicy,
    min_duration: float,
    skipped: list[dict[str, str]],
) -> dict[tuple, dict[str, Any]]:
    """Probe each distinct (video, side-car) once; facts by file pair, skips recorded."""
    facts: dict[tuple, dict[str, Any]] = {}
    pairs = candidates.drop_duplicates(["video_path", "audio_path"])
    missing = 0
    for row in track(
        pairs.itertuples(index=False), description="Probing AVC videos", total=len(pairs)
    ):
        absent = [p for p in (row.video_path, row.audio_path) if p is not None and not p.exists()]
        if absent:  # a skip whatever the policy: downloads always miss some
            missing += 1
            reason = f"{absent[0]}: listed but not found (not downloaded?)."
            logger.warning("Skipping video %s: %s", row.video_id, reason)
            skipped.append(_skip(row, reason))
            continue
        try:
            info = probe_video(
                row.video_path,
                audio_path=row.audio_path,
                min_duration=min_duration,
                decode=policy.probe == "decode",
            )
        except VideoError as exc:
            if policy.on_error == "error":
                raise
            logger.warning("Skipping video %s: %s", row.video_id, exc)
            skipped.append(_skip(row, str(exc)))
            continue
        facts[(row.video_path, row.audio_path)] = {
            "video_path": str(info.video_path.absolute()),
            "audio_path": str(info.audio_path.absolute()),
            "duration_s": info.duration_s,
            "frame_rate": info.frame_rate,
            "width": info.width,
            "height": info.height,
            "sample_rate": info.sample_rate,
            "channels": info.channels,
        }
    if missing:
        logger.warning("%d listed videos (or side-car audio files) are missing", missing)
    return facts


def _skip(row, reason: str) -> dict[str, str]:
    """A skip-report row for a candidate."""
    return {"video_id": row.video_id, "video_path": str(row.video_path), "reason": reason}


def _assemble(candidates: pd.DataFrame, facts: dict[tuple, dict[str, Any]]) -> pd.DataFrame:
    """Join the probe facts onto the candidates that passed; typed and sorted."""
    rows = []
    for row in candidates.itertuples(index=False):
        found = facts.get((row.video_path, row.audio_path))
        if found is not None:
            rows.append({**row._asdict(), **found})
    manifest = pd.DataFrame(rows, columns=list(VIDEO_MANIFEST_COLUMNS))
    manifest = manifest.astype(
        {
            "duration_s": float,
            "frame_rate": float,
            "width": int,
            "height": int,
            "sample_rate": int,
            "channels": int,
        }
    )
    manifest = manifest.sort_values(["subset", "split", "video_id", "segment_id"], kind="stable")
    return manifest.reset_index(drop=True)
