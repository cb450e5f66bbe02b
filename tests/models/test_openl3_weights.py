"""Tests of loading the released OpenL3 audio weights (``openl3_weights``).

The real files cannot be downloaded here, so the tests write HDF5 files in
exactly their layout: Keras 2 ``save_weights`` (root attributes
``layer_names``, ``backend``, ``keras_version``; one group per layer with
``weight_names``; datasets named by TF variable name, e.g. ``conv2d_1/kernel:0``),
the layer names of OpenL3's audio model built in a fresh Keras session, and,
for the v0.2.0 files, the kapre 0.1 front-end layer first (its DFT kernels and
mel matrix). Values are random, with the real shapes.
"""

from __future__ import annotations

import logging
from pathlib import Path

import h5py
import keras
import numpy as np
import pytest

from l3_kedro.audio.constants import FRONTEND_SETTINGS
from l3_kedro.audio.features import mel_filterbank
from l3_kedro.errors import ModelError, ParameterError
from l3_kedro.models.audio_tower import build_audio_tower
from l3_kedro.models.openl3_weights import (
    AUDIO_WEIGHTED_LAYERS,
    build_openl3_embedding_model,
    load_openl3_audio_weights,
    parse_openl3_filename,
    read_openl3_audio_weights,
)

FILTERS = (64, 128, 256, 512)
Layer = tuple[str, list[tuple[str, np.ndarray]]]


def kapre_frontend(input_repr: str) -> Layer:
    """The kapre 0.1 (Mel)Spectrogram layer of a v0.2.0 file: DFT kernels (+ mel matrix)."""
    settings = FRONTEND_SETTINGS[input_repr]
    n_fft = settings.n_fft
    t = np.arange(n_fft)
    w = np.arange(n_fft // 2 + 1) * 2 * np.pi / n_fft
    window = 0.5 - 0.5 * np.cos(2 * np.pi * t / n_fft)  # periodic Hann
    real = (np.cos(w[:, None] * t[None, :]) * window).T[:, None, None, :]
    imag = (-np.sin(w[:, None] * t[None, :]) * window).T[:, None, None, :]
    name = "spectrogram_1" if settings.n_mels is None else "melspectrogram_1"
    weights = [
        (f"{name}/real_kernels:0", real.astype(np.float32)),
        (f"{name}/imag_kernels:0", imag.astype(np.float32)),
    ]
    if settings.n_mels is not None:
        basis = mel_filterbank(n_mels=settings.n_mels, n_fft=n_fft).T  # (1025, n_mels)
        weights.append((f"{name}/Variable:0", basis.astype(np.float32)))
    return name, weights


def openl3_layers(
    rng: np.random.Generator,
    *,
    input_repr: str = "mel256",
    with_frontend: bool = False,
    filters: tuple[int, ...] = FILTERS,
    in_channels: int = 1,
) -> list[Layer]:
    """Every layer of OpenL3's audio model, in model order, with random weights.

    ``input_1``, [front-end], ``batch_normalization_1``, then per conv
    ``conv2d_k``, ``batch_normalization_k+1``, ``activation_k`` (max-pools
    after blocks 1-3), the last conv being ``audio_embedding_layer``.
    """
    counters = {"batch_normalization": 0, "conv2d": 0, "activation": 0, "max_pooling2d": 0}

    def auto(kind: str) -> str:
        counters[kind] += 1
        return f"{kind}_{counters[kind]}"

    def bn(channels: int) -> Layer:
        name = auto("batch_normalization")
        values = [
            rng.normal(1.0, 0.1, channels),
            rng.normal(0.0, 0.1, channels),
            rng.normal(0.0, 0.1, channels),
            rng.uniform(0.5, 2.0, channels),
        ]
        keys = ("gamma", "beta", "moving_mean", "moving_variance")
        return name, [
            (f"{name}/{k}:0", v.astype(np.float32)) for k, v in zip(keys, values, strict=True)
        ]

    def conv(c_in: int, c_out: int, name: str | None = None) -> Layer:
        name = name or auto("conv2d")
        kernel = rng.normal(0, np.sqrt(2 / (9 * c_in)), (3, 3, c_in, c_out))
        bias = rng.normal(0, 0.01, c_out)
        return name, [
            (f"{name}/kernel:0", kernel.astype(np.float32)),
            (f"{name}/bias:0", bias.astype(np.float32)),
        ]

    layers: list[Layer] = [("input_1", [])]
    if with_frontend:
        layers.append(kapre_frontend(input_repr))
    layers.append(bn(in_channels))
    c_in = in_channels
    for block, n_filters in enumerate(filters):
        for i in (1, 2):
            last = block == len(filters) - 1 and i == 2
            layers.append(conv(c_in, n_filters, "audio_embedding_layer" if last else None))
            c_in = n_filters
            if last:
                break
            layers += [bn(n_filters), (auto("activation"), [])]
        if block < len(filters) - 1:
            layers.append((auto("max_pooling2d"), []))
    return layers


def write_keras2_h5(path: Path, layers: list[Layer], *, whole_model: bool = False) -> Path:
    """Write ``layers`` as Keras 2.2 ``save_weights`` (or ``model.save``) would."""
    with h5py.File(path, "w") as handle:
        root = handle.create_group("model_weights") if whole_model else handle
        root.attrs["layer_names"] = np.array([name.encode("utf8") for name, _ in layers])
        root.attrs["backend"] = b"tensorflow"
        root.attrs["keras_version"] = b"2.2.4"
        for name, weights in layers:
            group = root.create_group(name)
            group.attrs["weight_names"] = np.array([w.encode("utf8") for w, _ in weights])
            for weight_name, value in weights:
                group.create_dataset(weight_name, data=value)
    return path


def trunk_values(layers: list[Layer]) -> list[list[np.ndarray]]:
    """The BatchNorm / Conv2D weight lists of ``layers``, in order."""
    return [
        [v for _, v in weights] for name, weights in layers if weights and "spectrogram" not in name
    ]


@pytest.fixture(scope="module")
def module_rng() -> np.random.Generator:
    return np.random.default_rng(20190512)


@pytest.fixture(scope="module")
def towers() -> dict[str, keras.Model]:
    """One width-1.0 embedding tower per representation (weights overwritten per test)."""
    return {r: build_audio_tower(input_repr=r) for r in FRONTEND_SETTINGS}


@pytest.fixture(scope="module")
def mel256_file(tmp_path_factory, module_rng) -> tuple[Path, list[Layer]]:
    """A v0.4.0-layout ``openl3_audio_mel256_music.h5`` (no front-end layer)."""
    layers = openl3_layers(module_rng, input_repr="mel256")
    path = tmp_path_factory.mktemp("openl3") / "openl3_audio_mel256_music.h5"
    return write_keras2_h5(path, layers), layers


def tower_values(model: keras.Model) -> list[list[np.ndarray]]:
    return [model.get_layer(name).get_weights() for name in AUDIO_WEIGHTED_LAYERS]


def assert_loaded(model: keras.Model, layers: list[Layer]) -> None:
    expected = trunk_values(layers)
    assert len(expected) == len(AUDIO_WEIGHTED_LAYERS) == 16
    for name, want, got in zip(AUDIO_WEIGHTED_LAYERS, expected, tower_values(model), strict=True):
        assert len(want) == len(got), name
        for a, b in zip(want, got, strict=True):
            np.testing.assert_array_equal(a, b, err_msg=name)


def test_weighted_layers_match_the_tower(towers):
    model = towers["mel256"]
    weighted = [layer.name for layer in model.layers if layer.weights]
    assert tuple(weighted) == AUDIO_WEIGHTED_LAYERS


def test_fixture_follows_openl3_layout(mel256_file):
    path, _ = mel256_file
    with h5py.File(path, "r") as handle:
        names = [n.decode() for n in handle.attrs["layer_names"]]
        assert names[:4] == [
            "input_1",
            "batch_normalization_1",
            "conv2d_1",
            "batch_normalization_2",
        ]
        assert names[-1] == "audio_embedding_layer"
        assert handle["conv2d_1"]["conv2d_1"]["kernel:0"].shape == (3, 3, 1, 64)
        assert list(handle["input_1"].attrs["weight_names"]) == []
        weighted = [n for n in names if len(handle[n].attrs["weight_names"])]
        assert len(weighted) == 16


@pytest.mark.parametrize(
    ("input_repr", "with_frontend"),
    [("mel256", False), ("mel256", True), ("mel128", True), ("linear", True), ("linear", False)],
)
def test_load_copies_every_layer(tmp_path, rng, towers, input_repr, with_frontend):
    layers = openl3_layers(rng, input_repr=input_repr, with_frontend=with_frontend)
    path = write_keras2_h5(tmp_path / f"openl3_audio_{input_repr}_env.h5", layers)
    mapping = load_openl3_audio_weights(towers[input_repr], path, input_repr=input_repr)
    assert list(mapping.values()) == list(AUDIO_WEIGHTED_LAYERS)
    assert mapping["batch_normalization_1"] == "audio_input_bn"
    assert mapping["audio_embedding_layer"] == "audio_block4_conv2"
    assert_loaded(towers[input_repr], layers)


def test_frontend_weights_tell_the_repr(tmp_path, rng):
    for input_repr in FRONTEND_SETTINGS:
        layers = openl3_layers(rng, input_repr=input_repr, with_frontend=True, filters=(2, 2, 2, 2))
        weights = read_openl3_audio_weights(write_keras2_h5(tmp_path / "w.h5", layers))
        assert weights.frontend_repr() == input_repr
        assert len(weights.trunk) == 16
        assert weights.keras_version == "2.2.4"


def test_whole_model_file_loads(tmp_path, rng, towers):
    layers = openl3_layers(rng, input_repr="mel128")
    path = write_keras2_h5(tmp_path / "openl3_audio_mel128_music.h5", layers, whole_model=True)
    load_openl3_audio_weights(towers["mel128"], path, input_repr="mel128")
    assert_loaded(towers["mel128"], layers)


def test_embedding_model_is_deterministic(mel256_file, chirps):
    path, layers = mel256_file
    first = build_openl3_embedding_model(path, input_repr="mel256")
    second = build_openl3_embedding_model(path, input_repr="mel256", name="again")
    assert_loaded(first, layers)
    windows = chirps[:2]
    a = first.predict_on_batch(windows)
    assert a.shape == (2, 6144)
    assert np.isfinite(a).all()
    assert a.std() > 0
    np.testing.assert_array_equal(a, first.predict_on_batch(windows))
    np.testing.assert_array_equal(a, second.predict_on_batch(windows))
    small = build_openl3_embedding_model(
        path, input_repr="mel256", embedding_size=512, include_frontend=False
    )
    assert small.output_shape == (None, 512)
    assert_loaded(small, layers)


def test_parse_filename():
    assert parse_openl3_filename("x/openl3_audio_mel256_music.h5") == ("mel256", "music")
    assert parse_openl3_filename("openl3_audio_linear_env-v0_4_0.h5") == ("linear", "env")
    assert parse_openl3_filename("weights.h5") == (None, None)


def test_unverifiable_repr_is_logged(tmp_path, mel256_file, towers, caplog):
    _, layers = mel256_file
    path = write_keras2_h5(tmp_path / "my_weights.h5", layers)
    with caplog.at_level(logging.WARNING, logger="l3_kedro.models.openl3_weights"):
        load_openl3_audio_weights(towers["mel128"], path, input_repr="mel128")
    assert "Cannot verify" in caplog.text


# --- errors -------------------------------------------------------------------------------


def test_missing_file(tmp_path):
    path = tmp_path / "openl3_audio_mel256_music.h5"
    with pytest.raises(ModelError, match=r"openl3_audio_mel256_music\.h5 not found.*pip install"):
        build_openl3_embedding_model(path, input_repr="mel256")


def test_not_hdf5(tmp_path, towers):
    path = tmp_path / "openl3_audio_mel256_music.h5"
    path.write_text("<html>404</html>")
    with pytest.raises(ModelError, match="not an HDF5 file"):
        load_openl3_audio_weights(towers["mel256"], path, input_repr="mel256")


def test_gzipped_file_says_gunzip(tmp_path, mel256_file):
    import gzip

    path = tmp_path / "openl3_audio_mel256_music-v0_4_0.h5.gz"
    path.write_bytes(gzip.compress(mel256_file[0].read_bytes()[:4096]))
    with pytest.raises(ModelError, match="gunzip"):
        read_openl3_audio_weights(path)


def test_hdf5_without_layer_names(tmp_path):
    path = tmp_path / "data.h5"
    with h5py.File(path, "w") as handle:
        handle.create_dataset("x", data=np.zeros(3))
    with pytest.raises(ModelError, match="not a Keras weights file"):
        read_openl3_audio_weights(path)


def test_wrong_repr_from_frontend_weights(tmp_path, rng, towers):
    layers = openl3_layers(rng, input_repr="linear", with_frontend=True)
    path = write_keras2_h5(tmp_path / "weights.h5", layers)
    before = tower_values(towers["mel256"])
    with pytest.raises(ModelError, match=r"weights\.h5 looks like an OpenL3 'linear' model"):
        load_openl3_audio_weights(towers["mel256"], path, input_repr="mel256")
    with pytest.raises(ModelError, match="kapre front-end weights"):
        load_openl3_audio_weights(towers["mel256"], path, input_repr="mel256")
    np.testing.assert_array_equal(before[0][0], tower_values(towers["mel256"])[0][0])


def test_wrong_repr_from_file_name(tmp_path, mel256_file, towers):
    _, layers = mel256_file
    path = write_keras2_h5(tmp_path / "openl3_audio_linear_music.h5", layers)
    with pytest.raises(ModelError, match=r"'linear' model \(from its name\).*input_repr: linear"):
        load_openl3_audio_weights(towers["mel256"], path, input_repr="mel256")


def test_unknown_input_repr(mel256_file):
    with pytest.raises(ParameterError, match="input_repr"):
        build_openl3_embedding_model(mel256_file[0], input_repr="mel64")


def test_missing_layers(tmp_path, mel256_file, towers):
    _, layers = mel256_file
    weighted = [i for i, (_, w) in enumerate(layers) if w]
    truncated = layers[: weighted[-3]]  # drop block 4: conv1, bn1 and the embedding conv
    path = write_keras2_h5(tmp_path / "openl3_audio_mel256_music.h5", truncated)
    with pytest.raises(ModelError, match=r"holds 13 of the 16 .*'audio_block4_conv2'"):
        load_openl3_audio_weights(towers["mel256"], path, input_repr="mel256")


def test_extra_layers(tmp_path, rng, mel256_file, towers):
    _, layers = mel256_file
    extra = ("batch_normalization_16", [(f"bn/{k}:0", rng.random(512, np.float32)) for k in "abcd"])
    path = write_keras2_h5(tmp_path / "openl3_audio_mel256_music.h5", [*layers, extra])
    with pytest.raises(ModelError, match="1 weighted layers more"):
        load_openl3_audio_weights(towers["mel256"], path, input_repr="mel256")


def test_other_width_is_refused_before_any_change(tmp_path, rng, towers):
    layers = openl3_layers(rng, filters=(32, 64, 128, 256))
    path = write_keras2_h5(tmp_path / "openl3_audio_mel256_music.h5", layers)
    before = tower_values(towers["mel256"])
    with pytest.raises(ModelError, match=r"layer 2 \('conv2d_1'.*'audio_block1_conv1'"):
        load_openl3_audio_weights(towers["mel256"], path, input_repr="mel256")
    for want, got in zip(before, tower_values(towers["mel256"]), strict=True):
        np.testing.assert_array_equal(want[0], got[0])


def test_image_model_file(tmp_path, rng, towers):
    layers = openl3_layers(rng, in_channels=3)
    path = write_keras2_h5(tmp_path / "openl3_image_mel256_music.h5", layers)
    with pytest.raises(ModelError, match="image model"):
        load_openl3_audio_weights(towers["mel256"], path, input_repr="mel256")


def test_listed_layer_without_group(tmp_path, mel256_file):
    path = write_keras2_h5(tmp_path / "w.h5", mel256_file[1])
    with h5py.File(path, "a") as handle:
        del handle["conv2d_3"]
    with pytest.raises(ModelError, match=r"'conv2d_3' but holds no group.*damaged"):
        read_openl3_audio_weights(path)


def test_foreign_layer(tmp_path, rng, mel256_file):
    dense = (
        "dense_1",
        [
            ("dense_1/kernel:0", rng.random((512, 128), np.float32)),
            ("dense_1/bias:0", rng.random(128, np.float32)),
        ],
    )
    path = write_keras2_h5(tmp_path / "w.h5", [*mel256_file[1], dense])
    with pytest.raises(ModelError, match=r"'dense_1' .* neither a BatchNormalization nor a Conv2D"):
        read_openl3_audio_weights(path)


def test_model_that_is_not_a_tower(mel256_file):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, name="dense")])
    with pytest.raises(ModelError, match=r"lacks layers.*build_audio_tower"):
        load_openl3_audio_weights(model, mel256_file[0], input_repr="mel256")
