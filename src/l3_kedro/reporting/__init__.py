"""Statistics for reporting design-choice comparisons (paper section 3.3).

See :mod:`l3_kedro.reporting.stats` for the decisions the paper leaves open.
"""

from l3_kedro.reporting.stats import (
    DESIGN_COLUMNS,
    TABLE_COLUMNS,
    ZERO_METHOD,
    WilcoxonComparison,
    bootstrap_mean_ci,
    compare_design_choices,
    holm_correction,
    min_exact_p,
    paired_units,
    rank_biserial,
    wilcoxon_comparison,
)

__all__ = [
    "DESIGN_COLUMNS",
    "TABLE_COLUMNS",
    "ZERO_METHOD",
    "WilcoxonComparison",
    "bootstrap_mean_ci",
    "compare_design_choices",
    "holm_correction",
    "min_exact_p",
    "paired_units",
    "rank_biserial",
    "wilcoxon_comparison",
]
