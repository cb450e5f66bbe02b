"""AudioSet metadata: segment lists, the ontology, subset filters and splits.

Segment lists (``balanced_train_segments.csv`` ...) hold three ``#`` header
lines, the third naming the columns ``YTID, start_seconds, end_seconds,
positive_labels``, then one row per 10 s segment, fields separated by
comma + space and the labels quoted: ``--PJHxphWEs, 30.000, 40.000,
"/m/09x0r,/t/dd00088"``.

Subset filters (``filter_music.csv``, ``filter_environmental.csv``) are the
paper's own (marl/l3embedding, ``data/avc/subsets.py``, ``get_file_list``),
CSVs with columns ``filter_type,accept_reject,include_children,string``.
Their semantics, as that code applies them to a segment:

- a ``label`` rule matches when one of the segment's labels is the class
  named ``string`` (names compared case-insensitively); with
  ``include_children`` true it also matches any class below it (the whole
  subtree through ``child_ids``). A ``ytid`` rule matches the segment's
  YouTube id.
- a segment matched by any ``reject`` rule is left out, whatever else
  matches (rule order does not matter);
- otherwise it is kept when any ``accept`` rule matches, or when the file
  has no ``accept`` rule at all (a pure reject list keeps everything else).

Two departures from that code, both deliberate: (1) its subtree test
compared the filter's class with itself (``get_node_by_name(string)`` where
the label was meant), so ``include_children`` never matched a child; here it
does, as the column says. (2) It crashed on a label id missing from the
ontology; here :meth:`Ontology.unknown_ids` lets the caller skip or stop.

Splits by video: :func:`l3_kedro.layouts.splits.assign_splits`.
"""

from __future__ import annotations

import csv
import difflib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import pandas as pd

from l3_kedro.errors import DatasetLayoutError

SEGMENT_COLUMNS = ("ytid", "start_seconds", "end_seconds", "labels")
"""Columns of a segment table: YouTube id, start and end in seconds, tuple of ontology ids."""

_CSV_FIELDS = ("YTID", "start_seconds", "end_seconds", "positive_labels")
FILTER_COLUMNS = ("filter_type", "accept_reject", "include_children", "string")


def read_segments_csv(path: str | Path) -> pd.DataFrame:
    """Read an AudioSet segment list.

    Parameters
    ----------
    path : str or Path
        A segment CSV in AudioSet's format (see the module docstring).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`SEGMENT_COLUMNS`: ``ytid`` (str), ``start_seconds`` and
        ``end_seconds`` (float, seconds) and ``labels`` (tuple of ontology
        ids), one row per segment in file order.

    Raises
    ------
    DatasetLayoutError
        The file is missing, its header does not name the AudioSet columns,
        or a row is malformed (the message names the file and line).
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetLayoutError(f"AudioSet segment list '{path}' not found. Check the path.")
    with path.open(newline="", encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    n_header = next((i for i, line in enumerate(lines) if not line.startswith("#")), len(lines))
    columns = [c.strip() for c in lines[n_header - 1].lstrip("#").split(",")] if n_header else []
    if tuple(columns) != _CSV_FIELDS:
        raise DatasetLayoutError(
            f"'{path}' is not an AudioSet segment list: its '#' header lines must end with "
            f"'# {', '.join(_CSV_FIELDS)}' (line {max(n_header, 1)} reads {columns or None})."
        )
    rows = [
        _parse_segment(line, path=path, line_number=number)
        for number, line in enumerate(lines[n_header:], start=n_header + 1)
        if line.strip() and not line.startswith("#")
    ]
    return pd.DataFrame(rows, columns=list(SEGMENT_COLUMNS)).astype(
        {"ytid": object, "start_seconds": float, "end_seconds": float}
    )


def _parse_segment(line: str, *, path: Path, line_number: int) -> tuple:
    """One segment row as (ytid, start, end, labels); DatasetLayoutError if malformed."""
    where = f"'{path}' line {line_number}"
    fields = next(csv.reader([line], skipinitialspace=True))
    if len(fields) != 4:
        raise DatasetLayoutError(
            f'{where}: expected 4 fields (YTID, start_seconds, end_seconds, "labels"), '
            f"found {len(fields)}: {line!r}."
        )
    ytid, start_text, end_text, labels_text = (f.strip() for f in fields)
    try:
        start, end = float(start_text), float(end_text)
    except ValueError as err:
        raise DatasetLayoutError(f"{where}: start/end are not numbers: {line!r}.") from err
    if not ytid or not (math.isfinite(start) and math.isfinite(end) and 0 <= start < end):
        raise DatasetLayoutError(
            f"{where}: needs a YouTube id and 0 <= start_seconds < end_seconds: {line!r}."
        )
    labels = tuple(label.strip() for label in labels_text.split(",") if label.strip())
    return ytid, start, end, labels


def write_segments_csv(segments: pd.DataFrame, path: str | Path) -> Path:
    """Write a segment table (columns :data:`SEGMENT_COLUMNS`) in AudioSet's format.

    Times get three decimals, as in AudioSet's files; the folder of ``path``
    is created. Returns ``path``; :func:`read_segments_csv` reads it back.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        f"# Segments written by l3_kedro: {len(segments)} segments",
        f"# num_ytids={segments['ytid'].nunique()}",
        "# " + ", ".join(_CSV_FIELDS),
    ]
    for row in segments.itertuples(index=False):
        labels = ",".join(row.labels)
        lines.append(f'{row.ytid}, {row.start_seconds:.3f}, {row.end_seconds:.3f}, "{labels}"')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@dataclass(frozen=True)
class OntologyClass:
    """One AudioSet class.

    Attributes
    ----------
    id : str
        Ontology id, e.g. ``"/m/0k4j"``.
    name : str
        Display name, e.g. ``"Car"``.
    child_ids : tuple of str
        Ids of the classes directly below it.
    restrictions : tuple of str
        ``"abstract"`` and/or ``"blacklist"``, or empty.
    """

    id: str
    name: str
    child_ids: tuple[str, ...] = ()
    restrictions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Ontology:
    """The AudioSet ontology: classes by id, lookup by name, subtrees.

    Build it with :meth:`from_json`. Names are looked up case-insensitively,
    as the paper's filter code did.

    Attributes
    ----------
    classes : Mapping[str, OntologyClass]
        Every class, keyed by id (read-only).
    source : str
        Where the ontology was read from, for messages.
    """

    classes: Mapping[str, OntologyClass]
    source: str = "ontology"
    _by_name: Mapping[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "classes", MappingProxyType(dict(self.classes)))
        by_name: dict[str, str] = {}
        for cls in self.classes.values():
            key = cls.name.casefold()
            if key in by_name:
                raise DatasetLayoutError(
                    f"{self.source}: the name {cls.name!r} is used by both {by_name[key]} and "
                    f"{cls.id}; filters name classes, so names must be unique."
                )
            by_name[key] = cls.id
            missing = [c for c in cls.child_ids if c not in self.classes]
            if missing:
                raise DatasetLayoutError(
                    f"{self.source}: class {cls.id} ({cls.name}) lists child ids {missing} "
                    "that are not in the ontology. Use an unmodified ontology.json."
                )
        object.__setattr__(self, "_by_name", MappingProxyType(by_name))

    @classmethod
    def from_json(cls, path: str | Path) -> Ontology:
        """Read ``ontology.json`` (a list of ``{id, name, child_ids, restrictions, ...}``).

        Raises DatasetLayoutError if the file is missing or not JSON, or an
        entry lacks an id or name, repeats an id or names unknown children.
        """
        path = Path(path)
        if not path.is_file():
            raise DatasetLayoutError(f"AudioSet ontology '{path}' not found. Check the path.")
        try:
            entries = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise DatasetLayoutError(f"'{path}' is not valid JSON: {err}.") from err
        if not isinstance(entries, list):
            raise DatasetLayoutError(f"'{path}' must hold a JSON list of classes.")
        classes: dict[str, OntologyClass] = {}
        for index, entry in enumerate(entries):
            if not isinstance(entry, dict) or not {"id", "name"} <= entry.keys():
                raise DatasetLayoutError(
                    f"'{path}' entry {index} is not a class with an 'id' and a 'name'."
                )
            if entry["id"] in classes:
                raise DatasetLayoutError(f"'{path}' lists the id {entry['id']} twice.")
            classes[entry["id"]] = OntologyClass(
                id=str(entry["id"]),
                name=str(entry["name"]),
                child_ids=tuple(entry.get("child_ids", ())),
                restrictions=tuple(entry.get("restrictions", ())),
            )
        return cls(classes=classes, source=f"'{path}'")

    def __contains__(self, class_id: object) -> bool:
        return class_id in self.classes

    def by_id(self, class_id: str) -> OntologyClass:
        """The class with id ``class_id``; DatasetLayoutError if there is none."""
        if class_id not in self.classes:
            raise DatasetLayoutError(f"{self.source} has no class with id {class_id!r}.")
        return self.classes[class_id]

    def by_name(self, name: str) -> OntologyClass:
        """The class named ``name`` (case-insensitive); the error suggests close names."""
        class_id = self._by_name.get(str(name).strip().casefold())
        if class_id is None:
            close = difflib.get_close_matches(
                str(name), [c.name for c in self.classes.values()], n=3
            )
            hint = f" Did you mean {close}?" if close else ""
            raise DatasetLayoutError(f"{self.source} has no class named {name!r}.{hint}")
        return self.classes[class_id]

    def subtree(self, class_id: str) -> frozenset[str]:
        """Ids of ``class_id`` and every class below it through ``child_ids`` (cycle-safe)."""
        seen: set[str] = set()
        pending = [self.by_id(class_id).id]
        while pending:
            current = pending.pop()
            if current not in seen:
                seen.add(current)
                pending.extend(self.classes[current].child_ids)
        return frozenset(seen)

    def unknown_ids(self, labels: Iterable[str]) -> tuple[str, ...]:
        """The labels that are not ids of this ontology, in order."""
        return tuple(label for label in labels if label not in self.classes)


@dataclass(frozen=True)
class LabelFilter:
    """A subset filter resolved against the ontology (semantics in the module docstring).

    Attributes
    ----------
    accept_ids, reject_ids : frozenset of str
        Ontology ids whose presence accepts / rejects a segment (subtrees
        already expanded where ``include_children`` was true).
    accept_ytids, reject_ytids : frozenset of str
        YouTube ids named by ``ytid`` rules.
    has_accept_rule : bool
        Whether the file had any accept rule; without one, every segment
        not rejected is accepted.
    source : str
        The filter file, for messages.
    """

    accept_ids: frozenset[str] = frozenset()
    reject_ids: frozenset[str] = frozenset()
    accept_ytids: frozenset[str] = frozenset()
    reject_ytids: frozenset[str] = frozenset()
    has_accept_rule: bool = True
    source: str = "filter"

    def accepts(self, labels: Iterable[str], *, ytid: str | None = None) -> bool:
        """Whether a segment with these ontology ids (and YouTube id) is in the subset."""
        present = set(labels)
        if present & self.reject_ids or (ytid is not None and ytid in self.reject_ytids):
            return False
        if not self.has_accept_rule:
            return True
        return bool(present & self.accept_ids) or (ytid is not None and ytid in self.accept_ytids)


def load_label_filter(path: str | Path, ontology: Ontology) -> LabelFilter:
    """Read a subset filter CSV and resolve its class names through ``ontology``.

    Parameters
    ----------
    path : str or Path
        CSV with columns :data:`FILTER_COLUMNS`; ``include_children`` may be
        absent (the paper's first filter file had none), meaning false.
    ontology : Ontology
        Resolves names to ids and ``include_children`` to subtrees.

    Returns
    -------
    LabelFilter

    Raises
    ------
    DatasetLayoutError
        The file is missing or lacks a column, or a row has an unknown
        filter type, accept/reject or true/false value, or names a class
        the ontology does not have (the message names file and line).
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetLayoutError(f"AudioSet subset filter '{path}' not found. Check the path.")
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        fields = [f.strip() for f in reader.fieldnames or []]
        missing = [c for c in FILTER_COLUMNS if c not in fields and c != "include_children"]
        if missing:
            raise DatasetLayoutError(
                f"Filter '{path}' lacks the column(s) {missing}; expected {list(FILTER_COLUMNS)}."
            )
        reader.fieldnames = fields
        sets: dict[str, set[str]] = {"accept": set(), "reject": set()}
        ytids: dict[str, set[str]] = {"accept": set(), "reject": set()}
        for line_number, row in enumerate(reader, start=2):
            where = f"Filter '{path}' line {line_number}"
            verdict = _choice(row["accept_reject"], ("accept", "reject"), where, "accept_reject")
            children = _choice(
                row.get("include_children") or "false", ("true", "false"), where, "include_children"
            )
            kind = _choice(row["filter_type"], ("label", "ytid"), where, "filter_type")
            string = (row["string"] or "").strip()
            if kind == "ytid":
                ytids[verdict].add(string)
                continue
            try:
                class_id = ontology.by_name(string).id
            except DatasetLayoutError as err:
                raise DatasetLayoutError(f"{where}: {err}") from err
            sets[verdict] |= ontology.subtree(class_id) if children == "true" else {class_id}
    return LabelFilter(
        accept_ids=frozenset(sets["accept"]),
        reject_ids=frozenset(sets["reject"]),
        accept_ytids=frozenset(ytids["accept"]),
        reject_ytids=frozenset(ytids["reject"]),
        has_accept_rule=bool(sets["accept"] or ytids["accept"]),
        source=str(path),
    )


def _choice(value: str | None, allowed: tuple[str, ...], where: str, column: str) -> str:
    """``value`` lower-cased if it is one of ``allowed``, else DatasetLayoutError."""
    cleaned = (value or "").strip().lower()
    if cleaned not in allowed:
        raise DatasetLayoutError(f"{where}: {column} must be one of {allowed}, not {value!r}.")
    return cleaned
