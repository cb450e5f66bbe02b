"""The source classes of the synthetic AVC corpus: sounds, visual objects, ontology ids.

A registry of data, not code: each class is a :class:`SyntheticClass` holding
its real AudioSet ontology id, a :class:`VisualSpec` (shape, colour and size
of the object drawn while it sounds) and a sound recipe, either a
:class:`ToneSpec` (a harmonic instrument playing notes: the *music* subset)
or a :class:`TextureSpec` (a noise texture or train of events: the
*environmental* subset). :mod:`l3_kedro.video.synthetic_render` turns them
into sound and pictures. The class names and ids are those of the AudioSet
ontology, chosen so that the paper's subset filters accept each class in its
own subset only.

The objects follow common cross-modal correspondences, arranged so that an
AVC network can learn them from a few thousand pairs. The colour family and
the shape follow the temporal texture, the cue a small convolutional network
with max pooling picks up first: struck, plucked or impulsive sources
(piano, guitar, marimba, bells; bark, gunshot, chop, applause, the chopping
helicopter) have warm colours (red, orange, yellow, magenta, brown) and angular
shapes, sustained or continuous ones (trumpet, organ, violin, flute; engine,
siren, jet engine) cool colours (green, cyan, blue, purple) and round shapes
(disc, ring, dome, ellipse). The size follows the register: low sources
(music: low register; environmental: energy below about 1.5 kHz) have large
objects (:data:`LARGE`), high sources small ones (:data:`SMALL`). Colour,
shape and size together tell every class of a subset apart.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

SUBSETS = ("music", "environmental")
"""The two subsets of the paper, in the order used to seed the generator."""


class VisualSpec(NamedTuple):
    """A class's visual object: a key of :data:`SHAPES`, an RGB colour (0-255) and a size.

    ``size`` is the object's radius as a fraction of the image side,
    :data:`LARGE` or :data:`SMALL`.
    """

    shape: str
    colour: tuple[int, int, int]
    size: float


class ToneSpec(NamedTuple):
    """A harmonic instrument playing legato notes of a major pentatonic scale.

    Notes lie in ``midi_range`` (MIDI numbers, inclusive), last ``note_s``
    (min, max) seconds and start with a linear attack of ``attack_s`` s.
    ``partials`` are (frequency ratio to the note, amplitude); ``decay_s`` is
    the e-folding time of the fundamental (higher partials decay faster), None
    for a sustained tone; ``vibrato`` is (rate in Hz, depth in semitones);
    ``breath`` the level of band noise (1.5-9 kHz) following the envelope;
    ``tremolo`` is (rate in Hz, depth 0-1) of amplitude modulation; ``click``
    the level of a 10 ms noise burst at each onset (hammer, pluck).
    """

    partials: tuple[tuple[float, float], ...]
    midi_range: tuple[int, int]
    note_s: tuple[float, float]
    attack_s: float
    decay_s: float | None = None
    vibrato: tuple[float, float] = (0.0, 0.0)
    breath: float = 0.0
    tremolo: tuple[float, float] = (0.0, 0.0)
    click: float = 0.0


class TextureSpec(NamedTuple):
    """An environmental texture: a bed of tone and band noise, shaped in time.

    The bed is a harmonic tone (``tone_hz``, ``harmonics`` with 1/k
    amplitudes, swept by ``sweep`` = (rate Hz, relative depth)) plus band
    noise (``noise_band_hz``, ``noise_level``), amplitude-modulated by
    ``am`` = (rate Hz, depth 0-1, sharpness exponent). With ``events`` =
    (rate Hz, decay s) the bed is gated by a train of attack-decay events;
    with ``resonances_hz`` too the events ring those damped modes instead.
    """

    tone_hz: float = 0.0
    harmonics: int = 1
    tone_level: float = 0.0
    sweep: tuple[float, float] = (0.0, 0.0)
    noise_band_hz: tuple[float, float] = (20.0, 20000.0)
    noise_level: float = 0.0
    am: tuple[float, float, float] = (0.0, 0.0, 1.0)
    events: tuple[float, float] | None = None
    resonances_hz: tuple[float, ...] = ()


class SyntheticClass(NamedTuple):
    """One source class: its AudioSet ontology id, visual object and sound.

    ``program`` is the General MIDI program (0-127) that plays it with
    ``instruments: soundfont`` when the class is not in
    :data:`l3_kedro.video.soundfont.GM_PROGRAMS` (drawn instruments).
    """

    ontology_id: str
    visual: VisualSpec
    sound: ToneSpec | TextureSpec
    program: int | None = None


def _harmonics(amps: tuple[float, ...]) -> tuple[tuple[float, float], ...]:
    return tuple((float(k), a) for k, a in enumerate(amps, start=1))


SHAPES = {
    "disc": lambda u, v: u * u + v * v <= 1.0,
    "square": lambda u, v: np.maximum(abs(u), abs(v)) <= 0.85,
    "triangle": lambda u, v: (v <= 0.8) & (abs(u) <= (v + 1.0) / 1.8),
    "diamond": lambda u, v: abs(u) + abs(v) <= 1.0,
    "plus": lambda u, v: ((abs(u) <= 0.3) | (abs(v) <= 0.3)) & (np.maximum(abs(u), abs(v)) <= 1),
    "hbar": lambda u, v: (abs(u) <= 1.0) & (abs(v) <= 0.4),
    "dome": lambda u, v: (u * u + v * v <= 1.0) & (v <= 0.3),
    "hourglass": lambda u, v: (abs(u) <= abs(v) + 0.1) & (abs(v) <= 0.9),
    "ring": lambda u, v: (u * u + v * v <= 1.0) & (u * u + v * v >= 0.4),
    "frame": lambda u, v: (
        (np.maximum(abs(u), abs(v)) <= 0.85) & (np.maximum(abs(u), abs(v)) >= 0.5)
    ),
    "x": lambda u, v: (abs(abs(u) - abs(v)) <= 0.35) & (np.maximum(abs(u), abs(v)) <= 0.9),
    "vbar": lambda u, v: (abs(u) <= 0.4) & (abs(v) <= 1.0),
    "bowtie": lambda u, v: (abs(v) <= abs(u) + 0.1) & (abs(u) <= 0.9),
    "ellipse": lambda u, v: u * u + (v / 0.55) ** 2 <= 1.0,
    "crescent": lambda u, v: (u * u + v * v <= 1.0) & ((u - 0.45) ** 2 + v * v >= 0.6),
    "chevron": lambda u, v: (abs(v - 0.6 * abs(u) + 0.2) <= 0.3) & (abs(u) <= 1.0),
}
"""Object shapes as masks over coordinates (u, v) in object radii (v points down)."""

LARGE, SMALL = 0.32, 0.15
"""Object radii (fractions of the image side) of low and of high sources."""

_RED, _ORANGE, _YELLOW, _MAGENTA = (230, 40, 40), (250, 140, 20), (240, 220, 30), (235, 50, 180)
_BROWN = (150, 80, 20)
_GREEN, _CYAN, _BLUE, _PURPLE = (40, 200, 60), (30, 200, 220), (40, 80, 240), (150, 60, 220)
WARM = (_RED, _ORANGE, _YELLOW, _MAGENTA, _BROWN)
"""Colours of struck, plucked or impulsive sources."""
COOL = (_GREEN, _CYAN, _BLUE, _PURPLE)
"""Colours of sustained or continuous sources."""

SYNTHETIC_CLASSES: dict[str, dict[str, SyntheticClass]] = {
    "music": {
        "Piano": SyntheticClass(
            "/m/05r5c",
            VisualSpec("square", _RED, LARGE),
            ToneSpec(
                partials=tuple((k * math.sqrt(1 + 4e-4 * k * k), k**-1.0) for k in range(1, 13)),
                midi_range=(45, 57),
                note_s=(0.15, 0.4),
                attack_s=0.003,
                decay_s=0.5,
                click=0.5,
            ),
        ),
        "Violin, fiddle": SyntheticClass(
            "/m/07y_7",
            VisualSpec("disc", _BLUE, SMALL),
            ToneSpec(
                partials=_harmonics(tuple(1 / k for k in range(1, 7))),
                midi_range=(74, 88),
                note_s=(0.4, 1.0),
                attack_s=0.08,
                vibrato=(5.5, 0.3),
                breath=0.04,
            ),
        ),
        "Flute": SyntheticClass(
            "/m/0l14j_",
            VisualSpec("ring", _PURPLE, SMALL),
            ToneSpec(
                partials=_harmonics((1.0, 0.2, 0.05)),
                midi_range=(79, 93),
                note_s=(0.3, 0.8),
                attack_s=0.06,
                vibrato=(4.5, 0.15),
                breath=0.3,
            ),
        ),
        "Trumpet": SyntheticClass(
            "/m/07gql",
            VisualSpec("dome", _CYAN, LARGE),
            ToneSpec(
                partials=_harmonics(
                    (0.6, 0.9, 1.0, 0.9, 0.75, 0.6, 0.45, 0.35, 0.25, 0.18, 0.12, 0.08)
                ),
                midi_range=(54, 64),
                note_s=(0.25, 0.7),
                attack_s=0.03,
                vibrato=(5.0, 0.08),
            ),
        ),
        "Acoustic guitar": SyntheticClass(
            "/m/042v_gx",
            VisualSpec("triangle", _ORANGE, LARGE),
            ToneSpec(
                partials=_harmonics((1.0, 0.45, 0.2, 0.08, 0.03)),
                midi_range=(40, 52),
                note_s=(0.2, 0.5),
                attack_s=0.002,
                decay_s=0.6,
                click=0.15,
            ),
        ),
        "Organ": SyntheticClass(
            "/m/013y1f",
            VisualSpec("ellipse", _GREEN, LARGE),
            ToneSpec(
                partials=((0.5, 0.5), (1.0, 1.0), (2.0, 0.3), (4.0, 0.1)),
                midi_range=(36, 48),
                note_s=(0.5, 1.2),
                attack_s=0.01,
                tremolo=(6.5, 0.35),
            ),
        ),
        "Marimba, xylophone": SyntheticClass(
            "/m/0dwsp",
            VisualSpec("plus", _MAGENTA, SMALL),
            ToneSpec(
                partials=((1.0, 1.0), (3.93, 0.15)),
                midi_range=(76, 91),
                note_s=(0.12, 0.3),
                attack_s=0.002,
                decay_s=0.25,
                click=0.1,
            ),
        ),
        "Tubular bells": SyntheticClass(
            "/m/016622",
            VisualSpec("diamond", _YELLOW, SMALL),
            ToneSpec(
                partials=((1.0, 1.0), (2.76, 0.8), (5.40, 0.6), (8.93, 0.45), (13.34, 0.3)),
                midi_range=(72, 84),
                note_s=(0.5, 1.0),
                attack_s=0.002,
                decay_s=0.7,
                click=0.2,
            ),
        ),
    },
    "environmental": {
        "Engine": SyntheticClass(
            "/m/02mk9",
            VisualSpec("ellipse", _CYAN, LARGE),
            TextureSpec(
                tone_hz=42.0,
                harmonics=16,
                tone_level=1.0,
                noise_band_hz=(20.0, 500.0),
                noise_level=0.3,
                am=(3.0, 0.2, 1.0),
            ),
        ),
        "Siren": SyntheticClass(
            "/m/03kmc9",
            VisualSpec("disc", _BLUE, SMALL),
            TextureSpec(tone_hz=1400.0, harmonics=4, tone_level=1.0, sweep=(0.35, 0.3)),
        ),
        "Bark": SyntheticClass(
            "/m/05tny_",
            VisualSpec("square", _RED, LARGE),
            TextureSpec(
                tone_hz=320.0,
                harmonics=6,
                tone_level=1.0,
                noise_band_hz=(300.0, 1500.0),
                noise_level=0.25,
                events=(2.2, 0.07),
            ),
        ),
        "Gunshot, gunfire": SyntheticClass(
            "/m/032s66",
            VisualSpec("triangle", _ORANGE, LARGE),
            TextureSpec(noise_band_hz=(40.0, 1500.0), noise_level=1.0, events=(1.2, 0.15)),
        ),
        "Chop": SyntheticClass(
            "/m/07pczhz",
            VisualSpec("plus", _MAGENTA, SMALL),
            TextureSpec(events=(1.8, 0.04), resonances_hz=(1800.0, 3500.0, 5600.0)),
        ),
        "Applause": SyntheticClass(
            "/m/028ght",
            VisualSpec("diamond", _BROWN, SMALL),
            TextureSpec(noise_band_hz=(2000.0, 14000.0), noise_level=1.0, events=(14.0, 0.008)),
        ),
        "Jet engine": SyntheticClass(
            "/m/04229",
            VisualSpec("ring", _PURPLE, SMALL),
            TextureSpec(
                tone_hz=5200.0,
                tone_level=0.1,
                noise_band_hz=(3000.0, 14000.0),
                noise_level=1.0,
                am=(0.25, 0.3, 1.0),
            ),
        ),
        "Helicopter": SyntheticClass(
            "/m/09ct_",
            VisualSpec("x", _YELLOW, LARGE),
            TextureSpec(
                tone_hz=34.0,
                harmonics=6,
                tone_level=0.2,
                noise_band_hz=(40.0, 1000.0),
                noise_level=1.0,
                am=(17.0, 0.9, 3.0),
            ),
        ),
    },
}
"""subset -> class name (as in the AudioSet ontology) -> :class:`SyntheticClass`."""
