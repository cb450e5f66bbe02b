"""Build the embedded default datasets under ``data/01_raw`` from ``../shared/data``.

Run once by a maintainer (the result is committed); users never need
``../shared``. Deterministic: the same source gives the same selection.

- ``data/01_raw/urbansound8k``: official layout, folds 1 and 2, the first
  ``--us8k-per-class`` clips of each class and fold, taken from distinct
  source recordings (``fsID``) where possible. The metadata lists official
  ``.wav`` names while the files are the source's FLAC re-encodings, as a
  user of a re-encoded copy would have them.
- ``data/01_raw/fsdd``: every speaker and digit, takes 0-9 (folds 1 and 2
  under the index fold rule).
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import pandas as pd

US8K_ATTRIBUTION = """\
UrbanSound8K subset (embedded default of l3_kedro)

Source: UrbanSound8K, J. Salamon, C. Jacoby and J. P. Bello, "A Dataset and
Taxonomy for Urban Sound Research", 22nd ACM International Conference on
Multimedia, Orlando, USA, Nov. 2014. https://urbansounddataset.weebly.com/

Licence: Creative Commons Attribution-NonCommercial 3.0 (CC BY-NC 3.0),
https://creativecommons.org/licenses/by-nc/3.0/ . The sounds are excerpts of
field recordings uploaded to freesound.org; see the fsID column of the
metadata for each source recording.

This subset: {n_clips} clips ({per_class} per class and fold, folds 1 and 2),
from a public copy re-encoded as 22,050 Hz mono 16-bit (clips shorter than
4 s were filled by repeating themselves), stored as lossless FLAC. The
metadata keeps the official columns and file names (.wav); start, end and
salience are unknown for this copy and left empty.
"""

FSDD_ATTRIBUTION = """\
Free Spoken Digit Dataset subset (embedded default of l3_kedro)

Source: Free Spoken Digit Dataset (FSDD), Z. Jackson, C. Souza, J. Flaks,
Y. Pan, H. Nicolas and A. Thite, https://github.com/Jakobovski/free-spoken-digit-dataset
(DOI 10.5281/zenodo.1342401).

Licence: Creative Commons Attribution-ShareAlike 4.0 International
(CC BY-SA 4.0), https://creativecommons.org/licenses/by-sa/4.0/ . This subset
is shared under the same licence.

This subset: {n_clips} recordings, all 6 speakers and 10 digits, takes
{first}-{last} of each (8 kHz mono WAV, unchanged). Under l3_kedro's default
fold rule (fold = take // 5 + 1) these are folds 1 and 2.
"""

US8K_LICENSE = (
    "Creative Commons Attribution-NonCommercial 3.0 Unported (CC BY-NC 3.0)\n"
    "Full text: https://creativecommons.org/licenses/by-nc/3.0/legalcode\n"
    "Attribution: see ATTRIBUTION.txt beside this file.\n"
)
FSDD_LICENSE = (
    "Creative Commons Attribution-ShareAlike 4.0 International (CC BY-SA 4.0)\n"
    "Full text: https://creativecommons.org/licenses/by-sa/4.0/legalcode\n"
    "Attribution: see ATTRIBUTION.txt beside this file.\n"
)


def make_us8k(source: Path, dest: Path, *, per_class: int) -> int:
    meta = pd.read_csv(source / "metadata" / "UrbanSound8K.csv")
    chosen = []
    for _, group in meta.sort_values("slice_file_name").groupby(["fold", "class"], sort=True):
        distinct = group.drop_duplicates("fsID")
        rest = group[~group.index.isin(distinct.index)]
        chosen.append(pd.concat([distinct, rest]).head(per_class))
    subset = pd.concat(chosen).sort_values(["fold", "slice_file_name"])
    for row in subset.itertuples():
        target = dest / "audio" / f"fold{row.fold}" / row.slice_file_name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / "audio" / f"fold{row.fold}" / row.slice_file_name, target)
    official = subset.assign(slice_file_name=subset["slice_file_name"].str.replace(".flac", ".wav"))
    (dest / "metadata").mkdir(parents=True, exist_ok=True)
    official.to_csv(dest / "metadata" / "UrbanSound8K.csv", index=False)
    (dest / "ATTRIBUTION.txt").write_text(
        US8K_ATTRIBUTION.format(n_clips=len(subset), per_class=per_class)
    )
    (dest / "LICENSE.txt").write_text(US8K_LICENSE)
    return len(subset)


def make_fsdd(source: Path, dest: Path, *, takes: int) -> int:
    files = sorted(
        p for p in (source / "recordings").glob("*.wav") if int(p.stem.split("_")[2]) < takes
    )
    (dest / "recordings").mkdir(parents=True, exist_ok=True)
    for path in files:
        shutil.copyfile(path, dest / "recordings" / path.name)
    (dest / "ATTRIBUTION.txt").write_text(
        FSDD_ATTRIBUTION.format(n_clips=len(files), first=0, last=takes - 1)
    )
    (dest / "LICENSE.txt").write_text(FSDD_LICENSE)
    return len(files)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=Path("../shared/data"))
    parser.add_argument("--dest", type=Path, default=Path("data/01_raw"))
    parser.add_argument("--us8k-per-class", type=int, default=8)
    parser.add_argument("--fsdd-takes", type=int, default=10)
    args = parser.parse_args()
    for name in ("urbansound8k", "fsdd"):
        shutil.rmtree(args.dest / name, ignore_errors=True)
    n_us8k = make_us8k(
        args.shared / "urbansound8k_subset",
        args.dest / "urbansound8k",
        per_class=args.us8k_per_class,
    )
    n_fsdd = make_fsdd(args.shared / "fsdd", args.dest / "fsdd", takes=args.fsdd_takes)
    print(f"urbansound8k: {n_us8k} clips; fsdd: {n_fsdd} recordings -> {args.dest}")


if __name__ == "__main__":
    main()
