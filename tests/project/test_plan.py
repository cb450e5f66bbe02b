import pytest

from l3_kedro.errors import ParameterError
from l3_kedro.project.plan import embedding_models, trained_embeddings
from tests.avc.conftest import TINY_TRAINING


def _parameters(**trained):
    return {
        "embed": {"models": {"soundnet": {"kind": "soundnet"}}, "trained": trained},
        "avc_training": {
            "variants": {
                "l3_mel256_env": {"input_repr": "mel256", "subset": "environmental"},
                "l3_linear_music": {"input_repr": "linear", "subset": "music"},
                "off": {"input_repr": "mel128", "subset": "music", "enabled": False},
            },
            "training": TINY_TRAINING,  # checkpoints at 8, 16 and 24 samples
        },
    }


def test_best_models_and_intermediate_checkpoints_of_chosen_variants():
    names = trained_embeddings(_parameters(checkpoint_variants=["l3_mel256_env"]))
    assert names == {
        "l3_mel256_env": "l3_mel256_env.avc_model",
        "l3_mel256_env_s8": "l3_mel256_env.avc_checkpoint_8",
        "l3_mel256_env_s16": "l3_mel256_env.avc_checkpoint_16",
        "l3_linear_music": "l3_linear_music.avc_model",
    }


def test_all_checkpoints_of_every_variant():
    names = trained_embeddings(_parameters(checkpoints="all"))
    assert len(names) == 2 * (1 + 3)
    assert embedding_models(_parameters(checkpoints="none")) == [
        "soundnet",
        "l3_mel256_env",
        "l3_linear_music",
    ]


def test_disabled_or_unknown():
    assert trained_embeddings(_parameters(enabled=False)) == {}
    with pytest.raises(ParameterError, match="checkpoint_variants"):
        trained_embeddings(_parameters(checkpoint_variants=["off"]))
    with pytest.raises(ParameterError, match=r"embed\.trained\.checkpoints"):
        trained_embeddings(_parameters(checkpoints="some"))


def _plan_parameters(**downstream):
    return {
        **_parameters(checkpoint_variants=["l3_mel256_env"]),
        "ingest": {"datasets": {"us8k": {}, "fsdd": {}, "esc50": {"enabled": False}}},
        "downstream_eval": downstream,
    }


def test_the_run_plan_reads_every_pipelines_shape_once():
    from l3_kedro.project.plan import RunPlan

    plan = RunPlan.from_parameters(_plan_parameters(embeddings="soundnet+l3_mel256_env_s8"))
    assert plan.datasets == plan.embedded_datasets == ("us8k", "fsdd")
    assert not plan.avc_corpus
    assert plan.variants == ("l3_mel256_env", "l3_linear_music")
    assert plan.checkpoint_samples == (8, 16, 24)
    assert plan.models == ("soundnet",)
    assert plan.trained == (
        "l3_mel256_env",
        "l3_mel256_env_s8",
        "l3_mel256_env_s16",
        "l3_linear_music",
    )
    assert len(plan.stores) == 2 * 5
    assert plan.evaluated == (
        ("us8k", "soundnet"),
        ("fsdd", "soundnet"),
        ("us8k", "l3_mel256_env_s8"),
        ("fsdd", "l3_mel256_env_s8"),
    )
    with pytest.raises(ParameterError, match=r"downstream_eval\.datasets.*esc50"):
        RunPlan.from_parameters(_plan_parameters(datasets="esc50"))


def test_every_pipeline_builds_from_the_plan_it_is_given():
    from l3_kedro.pipelines import downstream_eval, embed, ingest
    from l3_kedro.project.plan import RunPlan

    plan = RunPlan.from_parameters(_plan_parameters(datasets="fsdd", embeddings="soundnet"))
    assert ingest.create_pipeline(plan).outputs() >= {"us8k.clips", "fsdd.clips"}
    stores = {o for o in embed.create_pipeline(plan).all_outputs() if o.endswith(".embeddings")}
    assert stores == {f"{d}.{m}.embeddings" for d, m in plan.stores}
    evaluated = downstream_eval.create_pipeline(plan).inputs()
    assert {i for i in evaluated if i.endswith(".embeddings")} == {"fsdd.soundnet.embeddings"}
