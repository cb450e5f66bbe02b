"""Recorded General MIDI instruments in the synthetic corpus (``instruments: soundfont``)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from l3_kedro.video.soundfont import GM_PROGRAMS, default_soundfont, render_notes
from l3_kedro.video.synthetic import SUBSETS, SYNTHETIC_CLASSES
from l3_kedro.video.synthetic_params import CorpusParameters
from l3_kedro.video.synthetic_render import plan_video, render_video

SR = 16000


def _f0(audio: np.ndarray, sr: int) -> float:
    """The strongest frequency below 2 kHz (Hz), by a zero-padded FFT."""
    spectrum = np.abs(np.fft.rfft(audio * np.hanning(audio.size), n=8 * audio.size))
    freqs = np.fft.rfftfreq(8 * audio.size, 1 / sr)
    low = freqs < 2000
    return float(freqs[low][np.argmax(spectrum[low])])


def test_every_program_names_a_synthetic_class():
    names = {name for subset in SUBSETS for name in SYNTHETIC_CLASSES[subset]}
    assert set(GM_PROGRAMS) <= names
    assert set(SYNTHETIC_CLASSES["music"]) <= set(GM_PROGRAMS)  # every instrument is sampled
    assert default_soundfont().stat().st_size > 1_000_000


def test_notes_sound_at_their_pitch_and_only_while_held():
    notes = (np.array([0.25]), np.array([1.25]), np.array([69.0]), np.array([100]))
    flute = render_notes(GM_PROGRAMS["Flute"], *notes, n_samples=2 * SR, sample_rate=SR)
    assert flute.shape == (2 * SR,) and flute.dtype == np.float32
    rms = np.sqrt(np.mean(flute.reshape(8, SR // 4) ** 2, axis=1))
    assert rms[0] == 0.0  # nothing before the onset
    assert (rms[1:5] > 10 * rms[7]).all()  # loud while held, decayed after release
    assert abs(_f0(flute[SR // 2 : SR], SR) - 440.0) < 10.0  # A4
    again = render_notes(GM_PROGRAMS["Flute"], *notes, n_samples=2 * SR, sample_rate=SR)
    np.testing.assert_array_equal(flute, again)  # deterministic


@pytest.mark.parametrize("subset", SUBSETS)
def test_soundfont_corpus_plays_samples_with_the_same_plan_and_pictures(subset):
    procedural = CorpusParameters(1, 4.0, 8.0, 64, SR, 0)
    sampled = replace(procedural, instruments="soundfont")
    name = next(n for n in SYNTHETIC_CLASSES[subset] if n in GM_PROGRAMS)
    plan = replace(plan_video(subset, 0, procedural), classes=(name,), intervals=(((0.0, 4.0),),))
    synthetic_stems, synthetic_frames = render_video(plan, procedural)
    stems, frames = render_video(plan, sampled)
    assert stems.shape == synthetic_stems.shape
    assert np.sqrt(np.mean(stems**2)) > 1e-3 and not np.allclose(stems, synthetic_stems)
    if subset == "music":  # the object follows the same notes' pitch
        np.testing.assert_array_equal(frames, synthetic_frames)
    np.testing.assert_array_equal(render_video(plan, sampled)[0], stems)
