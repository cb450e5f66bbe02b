"""Nodes of the ``ingest`` pipeline (downstream half): datasets -> clip tables."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from l3_kedro.errors import ParameterError
from l3_kedro.layouts import read_manifest
from l3_kedro.layouts.folds import refold_by_source
from l3_kedro.layouts.probe import IngestPolicy, probe_clips

logger = logging.getLogger(__name__)


def build_clip_table(
    source: dict[str, Any], policy: dict[str, Any], dataset: str | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """List, probe and validate one dataset's clips.

    Parameters
    ----------
    source : dict
        ``layout`` (a name of :data:`l3_kedro.layouts.LAYOUT_READERS`) and that
        reader's options (``root``, ``folds``, ...), from ``parameters_ingest.yml``;
        optionally ``refold: {n_folds, seed}`` to deal the usable clips into
        new folds grouped by source (:func:`~l3_kedro.layouts.folds.refold_by_source`),
        for subsets with too few predefined folds for paired tests.
    policy : dict
        ``on_error`` and ``probe``, see :class:`IngestPolicy`.
    dataset : str or None
        The dataset's key under ``ingest.datasets`` (``us8k``), used in log
        and error messages; default ``source["name"]``, else the layout.

    Returns
    -------
    clips : pandas.DataFrame
        The clip table, one row per usable clip.
    skips : pandas.DataFrame
        The skip report, one row per clip left out and why.
    """
    options = dict(source)
    layout = options.pop("layout", None)
    if layout is None:
        raise ParameterError(
            f"Parameter 'ingest.datasets.{dataset or '<name>'}.layout' is missing: {source}"
        )
    name = options.pop("name", None) or dataset or layout
    refold = options.pop("refold", None)
    manifest = read_manifest(layout, **options)
    clips, skips = probe_clips(manifest, policy=IngestPolicy(**policy), dataset=name)
    if refold:
        unknown = set(refold) - {"n_folds", "seed"}
        if unknown or "n_folds" not in refold:
            raise ParameterError(
                f"ingest.datasets.{name}.refold takes n_folds (and optionally seed); "
                f"got {dict(refold)}"
            )
        official = sorted(clips["fold"].unique())
        clips = refold_by_source(
            clips, n_folds=refold["n_folds"], seed=refold.get("seed", 0), dataset=name
        )
        logger.info(
            "%s: the clips of folds %s dealt into %d folds by source (%d sources)",
            name,
            official,
            refold["n_folds"],
            clips["source_id"].nunique(),
        )
    logger.info(
        "%s: %d clips, %d classes, folds %s; %d skipped",
        name,
        len(clips),
        clips["label"].nunique(),
        ", ".join(str(f) for f in sorted(clips["fold"].unique())),
        len(skips),
    )
    return clips, skips


def prepare_synthetic_corpus(synthetic: dict[str, Any]) -> dict[str, Any]:
    """Check the embedded default's procedural video corpus options; saving them generates it.

    Parameters
    ----------
    synthetic : dict
        ``ingest.avc.synthetic``: the generator's options (see
        :func:`l3_kedro.video.synthetic.generate_synthetic_corpus`).

    Returns
    -------
    dict
        The options, checked, for ``avc.synthetic_corpus``: that dataset
        (:class:`~l3_kedro.datasets.SyntheticCorpusDataset`) renders the
        videos into its folder, atomically, and keeps a corpus these options
        already made.

    Raises
    ------
    ParameterError
        An option is out of its domain, or ``root`` is set (the folder is the
        catalog entry's ``path`` now).
    """
    from l3_kedro.video.synthetic_params import CorpusParameters

    options = dict(synthetic)
    if "root" in options:
        raise ParameterError(
            "ingest.avc.synthetic.root is no longer read: the corpus folder is the `path` of "
            "the catalog entry avc.synthetic_corpus (conf/base/catalog.yml). Remove `root` "
            "and set that path in your environment's catalog instead."
        )
    CorpusParameters.from_options(options)  # raises ParameterError naming a bad key
    return options


def build_synthetic_video_table(
    corpus: dict[str, str], source: dict[str, Any], policy: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`build_video_table` of the synthetic corpus ``avc.synthetic_corpus``.

    ``corpus`` (``segments`` and ``video_dir``, loaded from the corpus
    dataset) completes ``source``, which says how to read and split it.
    """
    return build_video_table({**source, **corpus}, policy)


def build_video_table(
    source: dict[str, Any], policy: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """List, label, split and probe the AVC training videos.

    Parameters
    ----------
    source : dict
        ``ingest.avc.source``, see :func:`l3_kedro.video.build_video_manifest`.
    policy : dict
        ``on_error`` and ``probe`` (shared with the clip tables).

    Returns
    -------
    manifest : pandas.DataFrame
        One row per usable video x subset, with its split, duration, frame
        rate and sample rate.
    skips : pandas.DataFrame
        One row per video left out and why.
    """
    from l3_kedro.video import build_video_manifest

    checked = IngestPolicy(**policy)
    manifest, skips = build_video_manifest(
        dict(source), on_error=checked.on_error, probe=checked.probe
    )
    counts = manifest.groupby(["subset", "split"]).size().to_dict()
    logger.info("AVC corpus: %d videos %s; %d skipped", len(manifest), counts, len(skips))
    return manifest, skips
