"""The Kedro project's own machinery, apart from its pipelines.

- :mod:`~l3_kedro.project.config`: the session's parameters, read while
  pipelines are registered (environment, runtime ``--params``);
- :mod:`~l3_kedro.project.plan`: the :class:`~l3_kedro.project.plan.RunPlan`
  every pipeline builds its branches from, and the catalog names the
  pipelines agree on;
- :mod:`~l3_kedro.project.hooks`: the environment recorder, the MLflow run
  labels and the node timer;
- :mod:`~l3_kedro.project.log_filters`: known noise dropped from the logs.
"""
