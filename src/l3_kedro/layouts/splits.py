"""Deterministic train / validation / test splits by video, in exact shares.

The paper split its AudioSet subsets 80 / 10 / 10 by video. Here the order of
the videos is fixed by hashing the seed and the video id, not by shuffling a
list as the original code did: the result is independent of listing order,
and adding videos moves only those next to a cut.
"""

from __future__ import annotations

import bisect
import hashlib
import math
from collections.abc import Iterable, Sequence
from numbers import Integral, Real

import pandas as pd

from l3_kedro.errors import ParameterError

SPLIT_NAMES = ("train", "validation", "test")
"""Split names, in the order of their fractions."""


def assign_splits(
    video_ids: Iterable[str],
    *,
    fractions: Sequence[float] = (0.8, 0.1, 0.1),
    seed: int = 0,
    groups: Iterable[str] | None = None,
) -> pd.Series:
    """Put every video in ``"train"``, ``"validation"`` or ``"test"``, in exact shares.

    The distinct ids (of each group, when ``groups`` is given) are ordered by
    a hash of the seed and the id (SHA-256) and cut at the cumulative
    fractions (rounded to whole videos), so every segment of one video lands
    together, the shares hold exactly even for a few dozen videos, and the
    order of the input does not matter. Adding videos only moves the videos
    next to a cut. An id present in several groups takes the split of its
    first group (sorted by name).

    Parameters
    ----------
    video_ids : iterable of str
        One id per row (repeats allowed); a Series keeps its index.
    fractions : sequence of 3 floats >= 0 summing to 1
        Shares of train, validation and test.
    seed : int
        Changes the whole assignment.
    groups : iterable of str, optional
        One group per row (e.g. the subset): the shares hold within each group.

    Returns
    -------
    pandas.Series [shape=(n,), dtype=str]
        The split of each id, named ``"split"``.

    Raises
    ------
    ParameterError
        ``fractions`` or ``seed`` is out of its domain.
    """
    cuts = _split_cuts(fractions)
    if not isinstance(seed, Integral) or isinstance(seed, bool):
        raise ParameterError(f"Parameter 'seed' of the split must be an integer, not {seed!r}.")
    index = video_ids.index if isinstance(video_ids, pd.Series) else None
    ids = [str(v) for v in video_ids]
    labels = [""] * len(ids) if groups is None else [str(g) for g in groups]
    split_of: dict[str, str] = {}
    for group in sorted(set(labels)):
        members = sorted(
            {v for v, g in zip(ids, labels, strict=True) if g == group} - set(split_of),
            key=lambda v: (_unit_hash(seed, v), v),
        )
        n = len(members)
        bounds = [round(cut * n) for cut in cuts]
        for rank, video in enumerate(members):
            split_of[video] = SPLIT_NAMES[bisect.bisect_right(bounds, rank)]
    return pd.Series([split_of[v] for v in ids], index=index, name="split", dtype=object)


def _split_cuts(fractions: Sequence[float]) -> tuple[float, float]:
    """Cumulative cut points of the train and validation shares, after validation."""
    values = list(fractions)
    if len(values) != len(SPLIT_NAMES) or not all(
        isinstance(f, Real) and not isinstance(f, bool) and math.isfinite(f) and f >= 0
        for f in values
    ):
        raise ParameterError(
            f"Split fractions must be three finite numbers >= 0 for {SPLIT_NAMES}, "
            f"not {fractions!r}."
        )
    if not math.isclose(sum(values), 1.0, abs_tol=1e-6):
        raise ParameterError(
            f"Split fractions {dict(zip(SPLIT_NAMES, values, strict=True))} sum to {sum(values)}; "
            "they must sum to 1."
        )
    return values[0], values[0] + values[1]


def _unit_hash(seed: int, video_id: str) -> float:
    """A uniform number in [0, 1) fixed by ``seed`` and ``video_id``."""
    digest = hashlib.sha256(f"{seed}\x00{video_id}".encode()).digest()
    return (int.from_bytes(digest[:8], "big") >> 11) / 2.0**53  # 53 bits: exact, below 1
