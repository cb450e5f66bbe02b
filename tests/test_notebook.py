"""The notebook's code runs against a catalog holding the results it expects."""

import json

import matplotlib
import pandas as pd
from kedro.io import DataCatalog, MemoryDataset
from matplotlib.figure import Figure

from l3_kedro.project.config import load_parameters
from tests.conftest import REPO_ROOT

NOTEBOOK = REPO_ROOT / "notebooks" / "reproduce_figure.ipynb"


def _code_cells() -> list[str]:
    notebook = json.loads(NOTEBOOK.read_text())
    cells = ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code"]
    # IPython magics (%load_ext, %reload_kedro) set up `catalog`; the test provides it.
    return ["\n".join(x for x in c.splitlines() if not x.startswith("%")) for c in cells]


def _results() -> pd.DataFrame:
    rows = []
    for repr_ in ("linear", "mel128", "mel256"):
        for subset in ("music", "environmental"):
            for fold in (1, 2):
                rows.append(
                    {
                        "embedding": f"l3_{repr_}_{subset}",
                        "kind": "l3",
                        "input_repr": repr_,
                        "subset": subset,
                        "selection": "best_validation",
                        "samples_seen": 3072,
                        "dataset": "us8k",
                        "fold": fold,
                        "clip_accuracy": 0.5 + 0.1 * fold,
                    }
                )
    return pd.DataFrame(rows)


def test_notebook_reproduces_fig2_and_table1(monkeypatch):
    matplotlib.use("Agg")
    monkeypatch.chdir(REPO_ROOT)
    params = load_parameters(env="base")
    avc = pd.DataFrame(
        [
            {
                "variant": "l3_mel256_music",
                "input_repr": "mel256",
                "train_subset": "music",
                "test_subset": "music",
                "accuracy": 0.8,
                "n_pairs": 256,
                "samples_seen": 3072,
            }
        ]
    )
    catalog = DataCatalog(
        {
            "downstream_results": MemoryDataset(_results()),
            "avc_test_accuracy@optional": MemoryDataset(avc),
            "params:reporting": MemoryDataset(params["reporting"]),
        }
    )
    namespace = {"catalog": catalog}
    for code in _code_cells():
        exec(compile(code, str(NOTEBOOK), "exec"), namespace)
    assert isinstance(namespace["figure"], Figure)
    assert len(namespace["figure"].axes) >= 1
    table1 = namespace["avc_accuracy_table"](avc, paper=namespace["paper"])
    assert table1["paper_accuracy"].iloc[0] == 77.04
