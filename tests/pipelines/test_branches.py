"""Section parameters and kedro-viz groups shared by every pipeline."""

from __future__ import annotations

import pytest
from kedro.pipeline import Node, Pipeline

from l3_kedro.errors import ParameterError
from l3_kedro.pipelines.branches import from_section, grouped, parsed_section, pick


def _train(manifest, variant, epochs, *, name):
    """Stand-in node function: what it was handed."""
    return {"manifest": manifest, "variant": variant, "epochs": epochs, "name": name}


def test_from_section_hands_the_node_its_keys_of_the_section():
    section = {"variants": {"v1": {"repr": "mel128"}}, "training": {"epochs": 3}}
    func = from_section(_train, "avc_training", "variants.v1", "training.epochs", name="v1")
    assert func("m", section) == {
        "manifest": "m",
        "variant": {"repr": "mel128"},
        "epochs": 3,
        "name": "v1",
    }
    assert func.__name__ == "_train" and func.__doc__ == _train.__doc__
    assert from_section(lambda whole: whole, "embed", "")({"a": 1}) == {"a": 1}


def test_a_missing_key_names_the_parameter_and_the_file():
    func = from_section(_train, "avc_training", "variants.v2", "training.epochs", name="v2")
    with pytest.raises(ParameterError, match=r"avc_training\.variants\.v2.*parameters_avc"):
        func("m", {"variants": {"v1": {}}, "training": {"epochs": 3}})
    with pytest.raises(ParameterError, match=r"embed\.trained"):
        pick(None, "trained", name="embed")


def test_parsed_section_hands_the_node_its_parsed_config():
    def accuracy(results, config):
        """Stand-in node: the data, then the config object."""
        return results, config

    func = parsed_section(accuracy, lambda section: tuple(sorted(section.items())))
    assert func([1], {"b": 2, "a": 1}) == ([1], (("a", 1), ("b", 2)))
    assert func.__name__ == "accuracy"
    Node(func, inputs=["results", "params:reporting"], outputs="table")  # signature checks


def test_kedro_leaves_a_parsed_section_to_its_parser():
    """Kedro 1.x builds a dataclass from params itself when a node's hints name one;
    the reporting nodes' section must reach ``ReportingConfig.from_parameters`` raw."""
    from kedro.validation.type_extractor import TypeExtractor

    from l3_kedro.pipelines.reporting.pipeline import create_pipeline
    from l3_kedro.project.config import load_parameters
    from l3_kedro.project.plan import RunPlan

    pipeline = create_pipeline(RunPlan.from_parameters(load_parameters(env="base")))
    assert "reporting" not in TypeExtractor({"reporting": pipeline}).extract_types_from_pipelines()


def test_grouped_nests_namespaces_and_keeps_dataset_names():
    branch = Pipeline(
        [Node(lambda x: x, "clips", "embeddings", name="embed")],
        namespace="us8k.soundnet",
        inputs={"clips": "us8k.clips"},
    )
    group = grouped(branch, "downstream")
    (node,) = group.nodes
    assert node.namespace == "downstream.us8k.soundnet"
    assert node.name == "downstream.us8k.soundnet.embed"
    assert group.inputs() == {"us8k.clips"}
    assert group.outputs() == {"us8k.soundnet.embeddings"}
