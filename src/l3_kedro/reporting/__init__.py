"""Design-choice comparisons, tables, figures and the report (paper section 3.3).

:mod:`l3_kedro.reporting.comparisons` forms the comparisons (which rows, which
pairs); :mod:`l3_kedro.reporting.wilcoxon` is the test and the numbers
reported with it.
"""

from l3_kedro.reporting.comparisons import (
    KIND_REPRESENTATIVES,
    PAIRINGS,
    TABLE_COLUMNS,
    VARIATION_COLUMNS,
    Comparison,
    compare_design_choices,
    paired_units,
)
from l3_kedro.reporting.wilcoxon import (
    EXACT_MAX_PAIRS,
    ZERO_METHOD,
    WilcoxonComparison,
    bootstrap_mean_ci,
    holm_correction,
    min_exact_p,
    rank_biserial,
    signed_rank_exact_p,
    signed_rank_normal_p,
    wilcoxon_comparison,
)

__all__ = [
    "EXACT_MAX_PAIRS",
    "KIND_REPRESENTATIVES",
    "PAIRINGS",
    "TABLE_COLUMNS",
    "VARIATION_COLUMNS",
    "ZERO_METHOD",
    "Comparison",
    "WilcoxonComparison",
    "bootstrap_mean_ci",
    "compare_design_choices",
    "holm_correction",
    "min_exact_p",
    "paired_units",
    "rank_biserial",
    "signed_rank_exact_p",
    "signed_rank_normal_p",
    "wilcoxon_comparison",
]
