"""Kedro project settings."""

import os
import sys
import warnings
from pathlib import Path

from kedro.config import OmegaConfigLoader

from l3_kedro.project.hooks import (
    ActiveEnvHook,
    ClusterHook,
    MlflowRunLabelsHook,
    NodeTimingHook,
)
from l3_kedro.project.log_filters import quiet_known_noise

HOOKS = (ActiveEnvHook(), NodeTimingHook(), MlflowRunLabelsHook(), ClusterHook())

# The interpreter's own scripts first on PATH, as activating its venv would:
# `.venv/bin/kedro mlflow ui` starts the `mlflow` command of the same venv.
_scripts = str(Path(sys.executable).parent)
if _scripts not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = os.pathsep.join(filter(None, [_scripts, os.environ.get("PATH")]))

CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # Environments (paper, local) override base key by key, not section by section.
    "merge_strategy": {"parameters": "soft", "catalog": "soft"},
    "config_patterns": {
        "mlflow": ["mlflow*", "mlflow*/**", "**/mlflow*"],
    },
}

# Kedro 1.x calls OmegaConf's deprecated register_new_resolver() itself:
# nothing a user can act on, so keep it off the console.
warnings.filterwarnings("ignore", message=r"register_new_resolver\(\) is deprecated")
quiet_known_noise()  # two library warnings nobody running the project can act on
