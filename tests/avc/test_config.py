import pytest

from l3_kedro.avc.config import AvcTrainingConfig
from l3_kedro.errors import ParameterError
from tests.avc.conftest import TINY_TRAINING


def test_paper_defaults():
    config = AvcTrainingConfig()
    assert config.total_samples == 300 * 4096 * 64
    assert config.learning_rate == 1e-5 and config.weight_decay == 1e-5
    assert config.checkpoint_samples[0] == 2_621_440
    assert config.checkpoint_samples[-1] == config.total_samples
    assert len(config.checkpoint_samples) == 30


def test_checkpoints_always_include_the_end():
    config = AvcTrainingConfig.from_parameters(
        {**TINY_TRAINING, "epochs": 5, "checkpoint_every_samples": 16}
    )
    assert config.checkpoint_epochs == (2, 4, 5)
    assert config.checkpoint_samples == (16, 32, 40)


@pytest.mark.parametrize(
    ("key", "value", "match"),
    [
        ("checkpoint_every_samples", 12, "multiple of one epoch"),
        ("learning_rate", "1e-5", "write 1.0e-5"),
        ("distribution", "tpu", "one_device"),
        ("image_size", 32, "frame_short_side"),
        ("batch_size", 1, "batch_size"),
        ("frame_rate", 0.5, "frame_rate"),
        ("ema_momentum", 1.0, "ema_momentum"),
        ("ema_momentum", 0, "ema_momentum"),
        ("sync_batch_norm", "yes", r"sync_batch_norm='yes'; use true/false"),
        ("mixed_precision", 1, r"mixed_precision=1; use true/false"),
    ],
)
def test_bad_values_name_the_parameter(key, value, match):
    with pytest.raises(ParameterError, match=match) as info:
        AvcTrainingConfig.from_parameters({**TINY_TRAINING, key: value})
    assert "avc_training.training." in str(info.value)


def test_unknown_keys_are_refused():
    with pytest.raises(ParameterError, match="Unknown key"):
        AvcTrainingConfig.from_parameters({**TINY_TRAINING, "epoch": 3})
