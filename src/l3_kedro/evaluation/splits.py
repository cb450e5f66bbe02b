"""Fold and validation splits over clips (never over windows).

Each test fold is evaluated with a classifier trained on all the other folds;
10 % of those training clips are held out for validation, stratified by class.
Splitting clips rather than windows keeps the overlapping windows of one clip
on one side of every split, and the validation hold-out keeps every source
(``source_id``: the recording an UrbanSound8K slice was cut from, an ESC-50
source file, an FSDD speaker) on one side too, as the predefined folds do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from l3_kedro.errors import EvaluationError, ParameterError
from l3_kedro.layouts.folds import assign_grouped_bins


def plan_test_folds(
    folds: np.ndarray, *, test_folds: Sequence[int] | None, dataset: str
) -> tuple[int, ...]:
    """The folds to use as test folds, in order.

    Parameters
    ----------
    folds : np.ndarray [shape=(n_clips,)], int
        Fold of every clip.
    test_folds : sequence of int, optional
        Only these folds are test folds (DCASE 2013 SCD: ``[2]``, trained on
        fold 1); by default every fold in turn.
    dataset : str
        Dataset name, for error messages.

    Returns
    -------
    tuple of int

    Raises
    ------
    EvaluationError
        If the clips make a single fold: there would be nothing to train on.
    ParameterError
        If ``test_folds`` names a fold that no clip has.
    """
    present = tuple(int(f) for f in np.unique(folds))
    if len(present) < 2:
        raise EvaluationError(
            f"The '{dataset}' dataset has a single fold ({present[0] if present else 'none'}): "
            "the protocol trains on the other folds and tests on each test fold, so it "
            "needs at least two (e.g. DCASE 2013 SCD: fold 1 train, fold 2 test, with "
            "test_folds: [2]). Ingest the dataset with its predefined folds."
        )
    if test_folds is None:
        return present
    unknown = sorted(set(test_folds) - set(present))
    if unknown:
        raise ParameterError(
            f"test_folds={list(test_folds)} names fold(s) {unknown} that the '{dataset}' "
            f"dataset lacks; its folds are {list(present)}."
        )
    return tuple(int(f) for f in test_folds)


def split_by_fold(folds: np.ndarray, *, test_fold: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the training and test clips for one test fold.

    Parameters
    ----------
    folds : np.ndarray [shape=(n_clips,)], int
    test_fold : int

    Returns
    -------
    train, test : np.ndarray, int64
        Sorted positions into ``folds``; they partition ``range(n_clips)``.
    """
    is_test = np.asarray(folds) == test_fold
    return np.flatnonzero(~is_test), np.flatnonzero(is_test)


def require_all_classes(
    targets: np.ndarray,
    *,
    class_names: Sequence[str],
    dataset: str,
    test_fold: int,
    what: str = "",
) -> None:
    """Raise unless the training clips of a fold cover every class.

    Parameters
    ----------
    targets : np.ndarray [shape=(n_train_clips,)], int
        Class positions ``0 .. K-1`` of the training clips.
    class_names : sequence of str
        The K class names.
    dataset : str
    test_fold : int
    what : str
        When the check applies (for the message), e.g. after the validation hold-out.

    Raises
    ------
    EvaluationError
        Naming the dataset, the fold and the missing classes.
    """
    missing = sorted(set(range(len(class_names))) - {int(t) for t in np.unique(targets)})
    if missing:
        names = [class_names[i] for i in missing]
        when = f" {what}" if what else ""
        raise EvaluationError(
            f"The training split of the '{dataset}' dataset for test fold {test_fold} has "
            f"no clip of the class(es) {names}{when}: the classifier could never predict "
            "them. Check the folds and sources of the clip table, or choose other test_folds."
        )


def allocate_validation(
    counts: np.ndarray, *, fraction: float, rng: np.random.Generator
) -> np.ndarray:
    """Validation clips per class: ``fraction`` of the total, spread in proportion.

    Each class keeps at least one training clip; within that limit the total
    ``round(fraction * counts.sum())`` is shared in proportion to the counts,
    by largest remainder (ties broken at random).

    Parameters
    ----------
    counts : np.ndarray [shape=(K,)], int
        Clips per class.
    fraction : float
        In (0, 1).
    rng : numpy.random.Generator

    Returns
    -------
    np.ndarray [shape=(K,)], int64
    """
    counts = np.asarray(counts, dtype=np.int64)
    ideal = fraction * counts
    room = np.maximum(counts - 1, 0)  # every class keeps a training clip
    share = np.minimum(np.floor(ideal).astype(np.int64), room)
    left = round(fraction * int(counts.sum())) - int(share.sum())
    order = np.lexsort((rng.random(counts.size), -(ideal - share)))
    while left > 0 and (share < room).any():
        for k in order[share[order] < room[order]][:left]:
            share[k] += 1
            left -= 1
    return share


def stratified_holdout(
    targets: np.ndarray,
    *,
    fraction: float,
    seed: int | Sequence[int],
    groups: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Hold out a class-stratified ``fraction`` of clips for validation, whole sources at a time.

    Parameters
    ----------
    targets : np.ndarray [shape=(n_clips,)], int
        Class of each clip (one entry per clip, so the split is by clip).
    fraction : float
        Share of the clips held out, in (0, 1); per-class targets from
        :func:`allocate_validation` (every class keeps a training clip).
    seed : int or sequence of int
        Seeds :func:`numpy.random.default_rng`; the same seed gives the same split.
    groups : np.ndarray [shape=(n_clips,)], optional
        Source of each clip (``source_id``): the clips of one source are all
        held out or all kept (:func:`~l3_kedro.layouts.folds.assign_grouped_bins`),
        so the classes are in proportion only as closely as whole sources
        allow. None: every clip is its own source (a plain stratified split
        with exactly the per-class targets).

    Returns
    -------
    fit, validation : np.ndarray, int64
        Sorted positions into ``targets``; disjoint, together all positions.
    """
    targets = np.asarray(targets)
    groups = np.arange(targets.size) if groups is None else np.asarray(groups)
    rng = np.random.default_rng(seed)
    _, counts = np.unique(targets, return_counts=True)
    held = allocate_validation(counts, fraction=fraction, rng=rng)
    bins = assign_grouped_bins(
        targets,
        groups,
        shares=(1 - fraction, fraction),
        seed=rng,
        targets=np.stack([counts - held, held]),
    )
    return np.flatnonzero(bins == 0), np.flatnonzero(bins == 1)


@dataclass(frozen=True)
class FoldSplit:
    """The clips of one test fold's three splits.

    Attributes
    ----------
    test_fold : int
    train : np.ndarray [shape=(n_train_clips,)], int64
        Sorted positions (rows of the coded clip table) of the clips the MLP
        is trained on: the other folds less the validation clips.
    validation : np.ndarray [shape=(n_val_clips,)], int64
        Held-out clips of the other folds (early stopping, grid choice).
    test : np.ndarray [shape=(n_test_clips,)], int64
        The clips of ``test_fold``.
    """

    test_fold: int
    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray


def split_fold(
    clips: pd.DataFrame,
    *,
    test_fold: int,
    validation_fraction: float,
    seed: int,
    class_names: tuple[str, ...],
    dataset: str,
) -> FoldSplit:
    """Split the clips for one test fold: training, validation (by clip), test.

    Parameters
    ----------
    clips : pandas.DataFrame
        Coded clip table (:func:`~l3_kedro.evaluation.clips.code_classes`).
    test_fold : int
    validation_fraction : float
        See :func:`stratified_holdout`.
    seed : int
        The protocol's seed; the split is seeded by ``(seed, test_fold)``.
    class_names : tuple of str
    dataset : str

    Returns
    -------
    FoldSplit

    Raises
    ------
    EvaluationError
        If the training folds miss a class or are too small to hold out a
        validation clip.
    """
    targets = clips["target"].to_numpy()
    train, test = split_by_fold(clips["fold"].to_numpy(), test_fold=test_fold)
    require_all_classes(
        targets[train], class_names=class_names, dataset=dataset, test_fold=test_fold
    )
    sources = clips["source_id"].to_numpy()
    fit, held = stratified_holdout(
        targets[train],
        fraction=validation_fraction,
        seed=(seed, test_fold, 0),
        groups=sources[train],
    )
    if held.size == 0:
        raise EvaluationError(
            f"The training split of the '{dataset}' dataset for test fold {test_fold} has "
            f"{train.size} clips from {len(set(sources[train]))} sources: too few to hold "
            f"out {validation_fraction:.0%} for validation, whole sources at a time. Raise "
            "validation_fraction or use more clips."
        )
    require_all_classes(
        targets[train][fit],
        class_names=class_names,
        dataset=dataset,
        test_fold=test_fold,
        what="after holding out the validation sources",
    )
    return FoldSplit(test_fold=test_fold, train=train[fit], validation=train[held], test=test)
