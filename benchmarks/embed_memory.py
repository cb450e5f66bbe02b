"""Peak memory of embedding a dataset: it should grow with the batch, not the dataset.

Embeds the first N embedded UrbanSound8K clips into an HDF5 store (through
the same stream and store as the ``embed`` pipeline) in a fresh process per
setting, and prints the peak resident set size of each:

    python benchmarks/embed_memory.py --clips 16 160 --batch-sizes 16 128
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = textwrap.dedent(
    """
    import json, os, resource, sys, tempfile
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from l3_kedro.datasets.embedding_store import EmbeddingRun, write_store
    from l3_kedro.embedding.stream import ClipEmbeddingStream
    from l3_kedro.embedding.embedders import build_embedder
    from l3_kedro.layouts.urbansound8k import read_urbansound8k

    clips_n, batch, width, hop = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
    clips = read_urbansound8k(root=sys.argv[5]).head(clips_n)
    embedder = build_embedder("m", {"kind": "l3_random", "input_repr": "mel256", "width": width})
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    stream = ClipEmbeddingStream(clips, embedder, hop_size=hop, batch_size=batch, progress=False)
    with tempfile.TemporaryDirectory() as tmp:
        write_store(f"{tmp}/s.h5", EmbeddingRun(stream, {}, dtype="float16"))
        size = os.path.getsize(f"{tmp}/s.h5") / 2**20
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"after_model_build_mb": base, "peak_mb": peak, "store_mb": size}))
    """
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, nargs="+", default=[16, 160])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[16, 128])
    parser.add_argument("--width", type=float, default=0.25)
    parser.add_argument("--hop-size", type=float, default=0.1)
    args = parser.parse_args()
    root = ROOT / "data" / "01_raw" / "urbansound8k"
    print(f"L3 mel256 width {args.width}, hop {args.hop_size} s, store float16")
    print(f"{'clips':>6} {'batch':>6} {'after build MB':>15} {'peak MB':>9} {'store MB':>9}")
    for batch in args.batch_sizes:
        for n_clips in args.clips:
            out = subprocess.run(
                [sys.executable, "-c", CHILD, str(n_clips), str(batch), str(args.width),
                 str(args.hop_size), str(root)],
                check=True, capture_output=True, text=True, cwd=ROOT,
            ).stdout  # fmt: skip
            row = json.loads(out.strip().splitlines()[-1])
            print(
                f"{n_clips:6d} {batch:6d} {row['after_model_build_mb']:15.0f} "
                f"{row['peak_mb']:9.0f} {row['store_mb']:9.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
