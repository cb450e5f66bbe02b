"""Kedro project settings."""

from kedro.config import OmegaConfigLoader

from l3_kedro.hooks import ActiveEnvHook

HOOKS = (ActiveEnvHook(),)

CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    "config_patterns": {
        "mlflow": ["mlflow*", "mlflow*/**", "**/mlflow*"],
    },
}
