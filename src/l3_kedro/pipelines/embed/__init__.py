from l3_kedro.pipelines.embed.pipeline import create_pipeline

__all__ = ["create_pipeline"]
