"""Real sampled instruments for the synthetic corpus: General MIDI programs from a SoundFont.

With ``ingest.avc.synthetic.instruments: soundfont`` the corpus plays its
notes and sound effects on recorded instrument samples instead of
procedural tones: the General MIDI SoundFont that ``pretty_midi`` installs
(``TimGM6mb.sf2``, 6 MB, by Tim Brechbill), rendered by ``tinysoundfont``
(no system library). Nothing is downloaded; the rendering is deterministic.

Classes without a General MIDI counterpart keep their procedural sound.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from l3_kedro.errors import ParameterError

GM_PROGRAMS = {
    "Piano": 0,  # Acoustic Grand Piano
    "Marimba, xylophone": 12,  # Marimba
    "Tubular bells": 14,
    "Organ": 19,  # Church Organ
    "Acoustic guitar": 25,  # Acoustic Guitar (steel)
    "Violin, fiddle": 40,
    "Trumpet": 56,
    "Flute": 73,
    "Helicopter": 125,
    "Applause": 126,
    "Gunshot, gunfire": 127,
}
"""Synthetic class name -> General MIDI program (0-based) that plays it."""

IMPULSIVE_PROGRAMS = (
    *range(0, 16),  # pianos, chromatic percussion
    *range(24, 40),  # guitars, basses
    45,  # pizzicato strings
    46,  # orchestral harp
    47,  # timpani
    *range(104, 109),  # sitar, banjo, shamisen, koto, kalimba
    *range(112, 119),  # tinkle bell ... synth drum
)
"""Melodic General MIDI programs that are struck or plucked (notes decay)."""

SUSTAINED_PROGRAMS = (*range(16, 24), *range(40, 45), *range(48, 96), *range(109, 112))
"""Melodic programs that sustain: organs, bowed strings, ensembles, brass, reeds,
pipes, synth leads and pads, bagpipe, fiddle, shanai."""


def default_soundfont() -> Path:
    """The General MIDI SoundFont installed with ``pretty_midi`` (``TimGM6mb.sf2``)."""
    from importlib.resources import files

    path = Path(str(files("pretty_midi") / "TimGM6mb.sf2"))
    if not path.is_file():
        raise ParameterError(
            f"The General MIDI SoundFont {path} is missing: reinstall pretty_midi "
            "(pip install --force-reinstall pretty_midi), or set "
            "ingest.avc.synthetic.instruments: procedural."
        )
    return path


@functools.lru_cache(maxsize=2)
def _soundfont_bytes(path: str) -> bytes:
    return Path(path).read_bytes()


def render_notes(
    program: int,
    onsets: np.ndarray,
    offsets: np.ndarray,
    pitches: np.ndarray,
    velocities: np.ndarray,
    *,
    n_samples: int,
    sample_rate: int,
    soundfont: str | Path | None = None,
) -> np.ndarray:
    """Play notes on General MIDI ``program`` and return the mono sound.

    Parameters
    ----------
    program : int
        General MIDI program, 0-127.
    onsets, offsets : np.ndarray [shape=(n_notes,)]
        Note-on and note-off times in seconds, sorted by onset.
    pitches : np.ndarray [shape=(n_notes,)]
        MIDI note numbers.
    velocities : np.ndarray [shape=(n_notes,)]
        MIDI velocities, 1-127.
    n_samples, sample_rate : int
        Length (samples) and rate (Hz) of the result.
    soundfont : str or Path, optional
        A ``.sf2`` file; :func:`default_soundfont` when None.

    Returns
    -------
    np.ndarray [shape=(n_samples,), dtype=float32]
        The left and right channels averaged.
    """
    try:
        import tinysoundfont
    except ImportError as exc:
        raise ParameterError(
            "ingest.avc.synthetic.instruments: soundfont needs tinysoundfont: "
            "pip install --no-deps 'tinysoundfont>=0.3.6,<0.4' (make install does), "
            "or set it to procedural."
        ) from exc

    path = str(soundfont or default_soundfont())
    synth = tinysoundfont.Synth(samplerate=sample_rate)
    sfid = synth.sfload(_soundfont_bytes(path))
    synth.program_select(0, sfid, 0, int(program))
    ons = zip(onsets, pitches, velocities, strict=True)
    offs = zip(offsets, pitches, strict=True)
    events = sorted(
        [(round(t * sample_rate), 1, int(p), int(v)) for t, p, v in ons]
        + [(round(t * sample_rate), 0, int(p), 0) for t, p in offs]
    )  # at one instant, note-offs (0) before note-ons (1): a repeated pitch restarts
    out = np.zeros((n_samples, 2), dtype=np.float32)
    done = 0
    for sample, is_on, pitch, velocity in [*events, (n_samples, -1, 0, 0)]:
        at = min(max(sample, done), n_samples)
        if at > done:
            block = synth.generate(at - done)
            out[done:at] = np.frombuffer(block, dtype=np.float32).reshape(at - done, 2)
            done = at
        if is_on == 1:
            synth.noteon(0, pitch, velocity)
        elif is_on == 0:
            synth.noteoff(0, pitch)
    return out.mean(axis=1)
