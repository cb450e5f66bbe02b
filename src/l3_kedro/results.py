"""The schema of the downstream results table shared by ``downstream_eval`` and ``reporting``.

``downstream_eval`` writes one row per embedding x dataset x fold; the
embedding's design attributes below are copied into every row so that
``reporting`` can group and pair results by them.
"""

from __future__ import annotations

DESIGN_ATTRIBUTES = (
    "kind",
    "input_repr",
    "subset",
    "samples_seen",
    "selection",
    "width",
    "embedding_size",
    "hop_size",
)
"""Embedding attributes copied into every results row (missing ones are left empty)."""

DESIGN_COLUMNS = ("embedding", *DESIGN_ATTRIBUTES, "seed")
"""Columns of the results table that name a variation (``fold`` is the unit)."""
