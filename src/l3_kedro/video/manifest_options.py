"""The options of ``ingest.avc.source``, each checked with a message naming its parameter."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from l3_kedro.errors import ParameterError
from l3_kedro.layouts.splits import SPLIT_NAMES, assign_splits

PARAMETER_PREFIX = "ingest.avc"
"""Where these options live in the parameters."""

DEFAULT_VIDEO_PATTERN = "{ytid}_{start_ms}_{end_ms}.mp4"
"""File name of an AudioSet segment's video (``video_pattern``)."""


def split_parameters(split: Any) -> tuple[tuple[float, float, float], int]:
    """(fractions, seed) from the ``split`` section, defaults filled in."""
    key = f"{PARAMETER_PREFIX}.split"
    values: dict[str, Any] = {"train": 0.8, "validation": 0.1, "test": 0.1, "seed": 0}
    if split is not None:
        if not isinstance(split, Mapping) or set(split) - set(values):
            raise ParameterError(
                f"Parameter '{key}' must be a mapping with keys among {sorted(values)}, "
                f"not {split!r}."
            )
        values.update(split)
    fractions = tuple(values[name] for name in SPLIT_NAMES)
    try:
        assign_splits([], fractions=fractions, seed=values["seed"])
    except ParameterError as err:
        raise ParameterError(f"Parameter '{key}': {err}") from err
    return fractions, values["seed"]


def min_duration(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1e9:
        raise ParameterError(
            f"Parameter '{PARAMETER_PREFIX}.min_duration' must be a number of seconds >= 0, "
            f"not {value!r}."
        )
    return float(value)


def required(source: Mapping[str, Any], key: str) -> Any:
    if source.get(key) in (None, ""):
        raise ParameterError(f"Parameter '{PARAMETER_PREFIX}.{key}' is required for this layout.")
    return source[key]


def pattern_fields(ytid: str, start: float, end: float) -> dict[str, Any]:
    return {
        "ytid": ytid,
        "start": f"{start:.3f}",
        "end": f"{end:.3f}",
        "start_ms": round(start * 1000),
        "end_ms": round(end * 1000),
    }


def pattern(source: Mapping[str, Any], key: str, default: str | None) -> str | None:
    """A file-name pattern, checked by formatting it with example fields."""
    pattern = source.get(key, default)
    if pattern is None:
        return None
    try:
        if not isinstance(pattern, str) or not pattern.strip():
            raise ValueError("not a non-empty string")
        pattern.format(**pattern_fields("YTID", 30.0, 40.0))
    except (KeyError, IndexError, ValueError) as err:
        raise ParameterError(
            f"Parameter '{PARAMETER_PREFIX}.{key}' = {pattern!r} is not a usable file-name "
            f"pattern ({err.__class__.__name__}: {err}); use the fields "
            f"{{{'}, {'.join(pattern_fields('x', 0, 1))}}}, e.g. {DEFAULT_VIDEO_PATTERN!r}."
        ) from err
    return pattern


def extensions(value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not all(isinstance(v, str) and v for v in value):
        raise ParameterError(
            f"Parameter '{PARAMETER_PREFIX}.extensions' must be a list of suffixes such as "
            f"['.mp4', '.webm'], not {value!r}."
        )
    return tuple(v.lower() if v.startswith(".") else f".{v.lower()}" for v in value)


def relative_id(path: Path, base: Path) -> str:
    """``path`` relative to ``base`` without suffix (posix), else its own stem path."""
    try:
        return path.relative_to(base).with_suffix("").as_posix()
    except ValueError:
        return path.with_suffix("").as_posix()
