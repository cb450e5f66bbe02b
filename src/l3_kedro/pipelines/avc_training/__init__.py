from l3_kedro.pipelines.avc_training.pipeline import create_pipeline

__all__ = ["create_pipeline"]
