"""Kedro project settings."""

import warnings

from kedro.config import OmegaConfigLoader

from l3_kedro.hooks import ActiveEnvHook, NodeTimingHook

HOOKS = (ActiveEnvHook(), NodeTimingHook())

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
