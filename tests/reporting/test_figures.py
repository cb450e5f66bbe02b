import pandas as pd

from l3_kedro.reporting.figures import plot_accuracy_by_embedding


def test_embedding_figure_draws_the_papers_numbers():

    results = pd.DataFrame(
        {
            "dataset": ["us8k"] * 4,
            "embedding": ["a", "a", "b", "b"],
            "kind": ["l3", "l3", "soundnet", "soundnet"],
            "fold": [1, 2, 1, 2],
            "clip_accuracy": [0.7, 0.72, 0.5, 0.52],
        }
    )
    paper = {"l3": {"us8k": 79.34}, "soundnet": {"us8k": 68.8}, "vggish": {"us8k": 73.43}}
    figure = plot_accuracy_by_embedding(results, title="t", paper=paper)
    levels = sorted(
        line.get_ydata()[0] for line in figure.axes[0].get_lines() if line.get_linestyle() == "--"
    )
    assert levels == [68.8, 79.34]  # kinds without results draw no line
