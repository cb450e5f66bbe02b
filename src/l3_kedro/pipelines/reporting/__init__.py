"""The ``reporting`` pipeline: significance tests, the paper's figures and tables, one report."""

from l3_kedro.pipelines.reporting.pipeline import create_pipeline

__all__ = ["create_pipeline"]
