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


def test_many_embeddings_fit_the_report_page_and_points_are_drawn_once():
    from l3_kedro.reporting.figures import MAX_WIDTH_IN

    rows = [
        {"dataset": d, "embedding": f"e{e}", "kind": "l3", "fold": f, "clip_accuracy": acc}
        for d in ("us8k", "fsdd")
        for e in range(12)
        for f, acc in enumerate([0.5, 0.52, 0.51, 0.53, 0.95])  # 0.95: a box-plot outlier
    ]
    figure = plot_accuracy_by_embedding(pd.DataFrame(rows), title="t")
    width, height = figure.get_size_inches()
    assert width <= MAX_WIDTH_IN and height > width / 2  # datasets stacked, not side by side
    assert len(figure.axes) == 2  # one panel per dataset
    for ax in figure.axes:
        fliers = [line for line in ax.get_lines() if line.get_marker() not in ("None", "", None)]
        assert all(len(line.get_xdata()) == 0 for line in fliers)
        assert sum(len(c.get_offsets()) for c in ax.collections) == 12 * 5  # each fold once


def test_samples_seen_figure_names_its_variant():
    from l3_kedro.pipelines.reporting.nodes import ReportingConfig, plot_samples_seen
    from l3_kedro.project.config import load_parameters

    results = pd.DataFrame(
        {
            "dataset": "us8k",
            "embedding": ["l3_mel256_music_s2560", "l3_mel256_music"],
            "kind": "l3",
            "input_repr": "mel256",
            "subset": "music",
            "selection": ["checkpoint", "best"],
            "samples_seen": [2560, 5120],
            "fold": 1,
            "clip_accuracy": [0.4, 0.5],
        }
    )
    config = ReportingConfig.from_parameters(load_parameters(env="base")["reporting"])
    figure = plot_samples_seen(results, config)
    assert figure._suptitle.get_text().endswith(": L3 mel256 music")
