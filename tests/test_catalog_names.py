import pytest

from l3_kedro.catalog_names import embedding_models, trained_embeddings
from l3_kedro.errors import ParameterError
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
