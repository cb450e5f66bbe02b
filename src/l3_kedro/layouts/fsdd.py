"""The Free Spoken Digit Dataset (FSDD).

``<root>/recordings/{digit}_{speaker}_{index}.wav``. FSDD has no official
folds; two documented rules are offered:

- ``"index"`` (default): ``fold = index // 5 + 1``, i.e. ten folds of five
  takes per speaker and digit; fold 1 (indices 0-4) is the test set the
  dataset's README suggests.
- ``"speaker"``: one fold per speaker (sorted by name, numbered from 1), for
  speaker-independent evaluation.

The speaker is each recording's ``source_id``: a validation hold-out never
splits a speaker's recordings.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from l3_kedro.errors import DatasetLayoutError, ParameterError
from l3_kedro.layouts.base import finish_manifest, require_dir, select_folds

FSDD_NAME = re.compile(r"^(?P<digit>\d)_(?P<speaker>[A-Za-z]+)_(?P<index>\d+)$")
FSDD_FOLD_RULES = ("index", "speaker")
FSDD_TAKES_PER_INDEX_FOLD = 5


def read_fsdd(
    *, root: str | Path, fold_rule: str = "index", folds: list[int] | None = None
) -> pd.DataFrame:
    """List the recordings of FSDD with folds from ``fold_rule``.

    Files under ``recordings/`` that do not match ``{digit}_{speaker}_{index}``
    raise :class:`DatasetLayoutError` naming them.
    """
    if fold_rule not in FSDD_FOLD_RULES:
        raise ParameterError(
            f"Parameter 'fold_rule' must be one of {FSDD_FOLD_RULES}, not {fold_rule!r}."
        )
    recordings = require_dir(Path(root) / "recordings", what="FSDD recordings", parameter="root")
    files = sorted(p for p in recordings.iterdir() if p.is_file() and not p.name.startswith("."))
    parsed = [(p, FSDD_NAME.match(p.stem)) for p in files]
    bad = [p.name for p, m in parsed if m is None]
    if bad:
        raise DatasetLayoutError(
            f"FSDD files not named '{{digit}}_{{speaker}}_{{index}}.wav' "
            f"in '{recordings}': {bad[:5]}"
        )
    rows = pd.DataFrame(
        {
            "clip_id": [p.stem for p, _ in parsed],
            "path": [p for p, _ in parsed],
            "label": [m["digit"] for _, m in parsed],
            "label_index": [int(m["digit"]) for _, m in parsed],
            "speaker": [m["speaker"] for _, m in parsed],
            "source_id": [m["speaker"] for _, m in parsed],
            "index": [int(m["index"]) for _, m in parsed],
        }
    )
    if fold_rule == "index":
        rows["fold"] = rows["index"] // FSDD_TAKES_PER_INDEX_FOLD + 1
    else:
        speakers = sorted(rows["speaker"].unique())
        rows["fold"] = rows["speaker"].map({s: i + 1 for i, s in enumerate(speakers)})
    manifest = finish_manifest(rows, dataset="fsdd")
    return select_folds(manifest, folds, parameter="folds")
