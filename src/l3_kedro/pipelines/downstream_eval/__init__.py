from l3_kedro.pipelines.downstream_eval.pipeline import create_pipeline

__all__ = ["create_pipeline"]
