"""The ``l3-kedro`` command line: embed audio files with L3-Net.

``l3-kedro embed PATH...`` writes one ``<stem><suffix>.npz`` per audio or
video file (``embedding`` (T, D) and ``timestamps`` (T,) in seconds, as
OpenL3 writes them). A folder is searched recursively for files with the
suffixes of ``MEDIA_SUFFIXES``; with ``--output-dir`` its sub-folders are
mirrored under the output folder. Messages go to stderr, one line each; the
exit status is 0 on success, 1 when a file could not be embedded (after the
others are done) or the run could not start, 2 for bad arguments.

A mistake in the input or the environment (a missing file, an output
folder that is a file or cannot be written, a full disk, a bad parameter)
ends with one ``l3-kedro: error: ...`` line and exit status 1, and output
folders are checked before the model loads; ``--debug`` shows the traceback.

The command is split into :func:`parse_args`, :func:`execute` and
:func:`main` so that it can be tested without a subprocess.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from l3_kedro.atomic_files import ensure_writable_folder
from l3_kedro.audio.constants import DEFAULT_HOP_SIZE_S, VALID_INPUT_REPRS
from l3_kedro.errors import L3KedroError, L3KedroWarning
from l3_kedro.models.constants import VALID_EMBEDDING_SIZES

__all__ = ["MEDIA_SUFFIXES", "collect_files", "execute", "main", "parse_args"]

PROG = "l3-kedro"

MEDIA_SUFFIXES = frozenset({".wav", ".flac", ".ogg", ".mp3", ".m4a", ".mp4", ".webm", ".mkv"})
"""Suffixes (lower case) of the files embedded from a folder."""


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line.

    Parameters
    ----------
    argv : sequence of str or None
        Arguments without the program name; None reads ``sys.argv[1:]``.

    Returns
    -------
    argparse.Namespace
        ``command`` (``"embed"``) and that command's options.

    Raises
    ------
    SystemExit
        Status 2 with a one-line message on stderr for bad arguments; 0
        after ``--help``.
    """
    parser = _Parser(
        prog=PROG, description="Learn and use L3-Net deep audio embeddings (l3_kedro)."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    embed = commands.add_parser(
        "embed",
        help="embed audio files and save one .npz per file",
        description="Embed audio and video files with an L3 audio network; write "
        "<stem><suffix>.npz holding 'embedding' (T, D) and 'timestamps' (T,) in seconds.",
    )
    embed.add_argument(
        "paths",
        nargs="+",
        type=Path,
        metavar="PATH",
        help="audio/video files or folders (searched recursively)",
    )
    embed.add_argument(
        "--input-repr", "-i", choices=VALID_INPUT_REPRS, default="mel256",
        help="spectrogram front-end; must match --weights (default: %(default)s)",
    )  # fmt: skip
    embed.add_argument(
        "--embedding-size", "-s", type=int, choices=VALID_EMBEDDING_SIZES, default=6144,
        help="embedding size (default: %(default)s)",
    )  # fmt: skip
    embed.add_argument(
        "--hop-size", "-t", type=_positive_float, default=DEFAULT_HOP_SIZE_S,
        help="seconds between 1 s windows (default: %(default)s)",
    )  # fmt: skip
    embed.add_argument(
        "--no-centering", "-n", action="store_true",
        help="timestamps are window starts, not centres (no half-window padding)",
    )  # fmt: skip
    embed.add_argument(
        "--batch-size", "-b", type=_positive_int, default=32,
        help="windows per model call (default: %(default)s)",
    )  # fmt: skip
    embed.add_argument(
        "--mode", "-m", choices=("exact", "fast"), default="exact",
        help="exact: each window on its own (OpenL3); fast: the network over spans of "
        "windows, about 5x faster at a 0.1 s hop, slightly different numbers",
    )  # fmt: skip
    embed.add_argument(
        "--precision", "-p", choices=("float32", "bfloat16"), default="float32",
        help="bfloat16: the network computes in bfloat16, faster where the CPU has "
        "AVX512_BF16 or AMX (embeddings within about 1 %%) (default: %(default)s)",
    )  # fmt: skip
    embed.add_argument(
        "--weights", "-w", type=Path, default=None,
        help="trained .keras checkpoint; without it the network is randomly initialised",
    )  # fmt: skip
    embed.add_argument(
        "--output-dir", "-o", type=Path, default=None,
        help="folder of the outputs (default: next to each input)",
    )  # fmt: skip
    embed.add_argument("--suffix", "-x", default=None, help="text appended to each output's stem")
    embed.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    embed.add_argument(
        "--quiet", "-q", action="store_true", help="only report errors (no progress bar)"
    )
    embed.add_argument(
        "--debug", action="store_true", help="show the traceback of an error, not one line"
    )
    return parser.parse_args(argv)


def collect_files(
    paths: Sequence[Path], *, output_dir: Path | None = None
) -> list[tuple[Path, Path | None]]:
    """List the files to embed and the output folder of each.

    Parameters
    ----------
    paths : sequence of Path
        Files (taken whatever their suffix) and folders (searched
        recursively for ``MEDIA_SUFFIXES``, in sorted order).
    output_dir : Path or None
        Output root; a file found in ``folder/sub/`` goes to
        ``output_dir/sub/``. None: every output goes next to its input.

    Returns
    -------
    list of (Path, Path or None)
        (input file, output folder or None), without duplicates.

    Raises
    ------
    L3KedroError
        A path does not exist.
    """
    found: dict[Path, tuple[Path, Path | None]] = {}  # resolved -> (file, folder)
    for path in map(Path, paths):
        if path.is_file():
            found.setdefault(path.resolve(), (path, output_dir))
        elif path.is_dir():
            for file in sorted(path.rglob("*")):
                if file.suffix.lower() in MEDIA_SUFFIXES and file.is_file():
                    folder = (
                        None if output_dir is None else output_dir / file.parent.relative_to(path)
                    )
                    found.setdefault(file.resolve(), (file, folder))
        else:
            raise L3KedroError(f"{path}: no such file or folder.")
    return list(found.values())


def execute(args: argparse.Namespace) -> int:
    """Run a parsed command.

    Parameters
    ----------
    args : argparse.Namespace
        From :func:`parse_args`.

    Returns
    -------
    int
        Exit status: 0 success, 1 failure (messages already on stderr).
    """
    handler = _LogToStderr(logging.ERROR if args.quiet else logging.WARNING)
    project_logger = logging.getLogger("l3_kedro")
    project_logger.addHandler(handler)
    try:
        return _COMMANDS[args.command](args)
    except (L3KedroError, OSError) as exc:
        if getattr(args, "debug", False):
            raise
        _say(f"error: {exc}")
        return 1
    except KeyboardInterrupt:
        _say("interrupted; outputs already written are kept.")
        return 130
    finally:
        project_logger.removeHandler(handler)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``l3-kedro``: parse `argv`, run, return the exit status."""
    try:
        args = parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2
    return execute(args)


def _embed(args: argparse.Namespace) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter
    from l3_kedro import api

    files = collect_files(args.paths, output_dir=args.output_dir)
    if not files:
        raise L3KedroError(
            f"no audio or video files ({', '.join(sorted(MEDIA_SUFFIXES))}) found in "
            f"{', '.join(map(str, args.paths))}."
        )
    for folder in dict.fromkeys(folder or file.parent for file, folder in files):
        ensure_writable_folder(folder)
    if args.weights is None and not args.quiet:
        _say("warning: no --weights given: embedding with a randomly initialised network.")
    model = api.load_audio_embedding_model(
        input_repr=args.input_repr, embedding_size=args.embedding_size, weights=args.weights
    )
    groups: dict[Path | None, list[Path]] = {}
    for file, folder in files:
        groups.setdefault(folder, []).append(file)
    written: list[Path] = []
    failed: list[Path] = []
    for folder, group in groups.items():
        outputs = {f: api.get_output_path(f, output_dir=folder, suffix=args.suffix) for f in group}
        existed = {f for f, output in outputs.items() if output.exists() and not args.overwrite}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", L3KedroWarning)
            done = api.process_audio_file(
                group,
                output_dir=folder,
                suffix=args.suffix,
                model=model,
                center=not args.no_centering,
                hop_size=args.hop_size,
                batch_size=args.batch_size,
                mode=args.mode,
                precision=args.precision,
                overwrite=args.overwrite,
                verbose=not args.quiet,
                on_error="skip",
            )
        written += done
        failed += [f for f in group if f not in existed and outputs[f] not in set(done)]
        _report(caught, quiet=args.quiet)
    if not args.quiet:
        kept = len(files) - len(written) - len(failed)
        existing = f"; {kept} already existed (--overwrite replaces them)" if kept else ""
        _say(f"wrote {len(written)} embedding file(s){existing}.")
    if failed:
        _say(f"error: {len(failed)} of {len(files)} file(s) could not be embedded.")
        return 1
    return 0


_COMMANDS = {"embed": _embed}
"""Sub-command name -> function(args) -> exit status."""


def _report(caught: list[warnings.WarningMessage], *, quiet: bool) -> None:
    """Print the project's warnings as one-line messages; re-issue the others."""
    for message in caught:
        text = str(message.message)
        if not issubclass(message.category, L3KedroWarning):
            warnings.warn_explicit(
                message.message, message.category, message.filename, message.lineno
            )
        elif text.startswith("not embedded"):
            _say(f"error: {text}")
        elif not quiet:
            _say(f"warning: {text}")


def _say(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr)


class _LogToStderr(logging.StreamHandler):
    """One ``l3-kedro: message`` line per project log record at `level` or above.

    The embedding stream logs each unreadable file; the command reports
    those itself (as errors), so those records are dropped here.
    """

    def __init__(self, level: int) -> None:
        super().__init__(sys.stderr)
        self.setLevel(level)
        self.setFormatter(logging.Formatter(f"{PROG}: %(message)s"))
        self.addFilter(lambda record: not record.getMessage().startswith("Skipping clip"))


if __name__ == "__main__":
    sys.exit(main())
