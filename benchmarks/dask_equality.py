"""How equal the Dask engines' outputs are to the single-process run's, on a real ``kedro run``.

Makes the toy project of the test suite (tests/toy_project.py: real
UrbanSound8K clips, a tiny synthetic corpus, two trained variants), runs
``kedro run`` once as is and once more with ``embed`` and ``downstream_eval``
on a 2-worker Dask LocalCluster (``embed.reuse=false``, so every store is
embedded again, in shards). Prints, per embedding store, how many stored
values differ between the two latest versions (and by how much), and
whether ``downstream_results`` is identical:

    python benchmarks/dask_equality.py
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DASK = "embed.engine.kind=dask,downstream_eval.engine.kind=dask,embed.reuse=false"


def _versions(dataset: Path) -> tuple[Path, Path]:
    """The two latest versions' files of a versioned dataset folder."""
    *_, before, after = sorted(p for p in dataset.iterdir() if p.is_dir())
    return before / dataset.name, after / dataset.name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    from tests.toy_project import kedro_run, make_toy_project

    with tempfile.TemporaryDirectory() as tmp:
        project = make_toy_project(Path(tmp) / "toy")
        started = time.perf_counter()
        kedro_run(project)
        print(f"single-process run: {time.perf_counter() - started:.0f} s")
        started = time.perf_counter()
        kedro_run(project, "--params", f"{DASK},embed.engine.n_workers={args.workers}")
        print(f"Dask run ({args.workers} workers): {time.perf_counter() - started:.0f} s")
        total = 0
        for store in sorted((project / "data" / "04_feature").glob("*/*.h5")):
            before, after = _versions(store)
            with h5py.File(before) as one, h5py.File(after) as sharded:
                a, b = one["embeddings"][:], sharded["embeddings"][:]
                same_times = np.array_equal(one["timestamps"][:], sharded["timestamps"][:])
                same_index = np.array_equal(one["window_clip"][:], sharded["window_clip"][:])
                virtual = sharded["embeddings"].is_virtual
            differing = int((a != b).sum())
            total += a.size
            print(
                f"{store.parent.name}/{store.name}: sharded={virtual}, {differing} of {a.size} "
                f"values differ (largest {float(np.abs(a.astype('f4') - b.astype('f4')).max()):g}); "
                f"timestamps equal {same_times}, window index equal {same_index}"
            )
        results = project / "data" / "07_model_output" / "downstream_results.parquet"
        before, after = (pd.read_parquet(p) for p in _versions(results))
        identical = before.equals(after)
        print(f"{total} stored values in all; downstream_results identical: {identical}")


if __name__ == "__main__":
    main()
