"""The generated AVC video corpus as a catalog dataset (raw data the catalog names).

The ``ingest`` node that plans the corpus returns its generation options;
saving them here renders the videos into the dataset's folder (or keeps the
corpus that these options already made), atomically. Loading gives the
folder's segment list and video folder, which the video-table node reads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kedro.io.core import AbstractDataset, DatasetError


class SyntheticCorpusDataset(AbstractDataset[dict[str, Any], dict[str, str]]):
    """A folder holding the synthetic AVC corpus (``segments.csv``, ``videos/``, ``corpus.json``).

    ``save(options)`` calls :func:`l3_kedro.video.synthetic.generate_synthetic_corpus`
    with the folder and ``options`` (``n_videos_per_subset``, ``seed``, ...):
    the corpus is written into a staging folder and swapped in when complete,
    and kept as it is when it was made with the same options. ``load()``
    returns ``{"segments": <csv>, "video_dir": <folder>}``, AudioSet-layout
    keys of ``ingest.avc.source``.

    Example catalog entry::

        avc.synthetic_corpus:
          type: l3_kedro.datasets.SyntheticCorpusDataset
          path: data/01_raw/avc_synthetic
    """

    def __init__(self, *, path: str, metadata: dict[str, Any] | None = None) -> None:
        self._path = Path(path)
        self.metadata = metadata

    def load(self) -> dict[str, str]:
        from l3_kedro.video.synthetic import SEGMENTS_NAME, STAMP_NAME, VIDEO_DIR

        if not (self._path / STAMP_NAME).is_file():
            raise DatasetError(
                f"No synthetic AVC corpus in '{self._path}': run `kedro run --pipeline ingest` "
                "to generate it."
            )
        return {
            "segments": str(self._path / SEGMENTS_NAME),
            "video_dir": str(self._path / VIDEO_DIR),
        }

    def save(self, data: dict[str, Any]) -> None:
        from l3_kedro.video.synthetic import generate_synthetic_corpus

        generate_synthetic_corpus(self._path, **data)

    def _exists(self) -> bool:
        from l3_kedro.video.synthetic import STAMP_NAME

        return (self._path / STAMP_NAME).is_file()

    def _describe(self) -> dict[str, Any]:
        return {"path": str(self._path)}
