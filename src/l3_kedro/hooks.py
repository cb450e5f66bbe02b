"""Project hooks."""

from __future__ import annotations

from kedro.framework.context import KedroContext
from kedro.framework.hooks import hook_impl

from l3_kedro.project_config import set_active_env


class ActiveEnvHook:
    """Record the run's configuration so pipeline shapes follow ``--env`` and ``--params``."""

    @hook_impl
    def after_context_created(self, context: KedroContext) -> None:
        set_active_env(context.env, context.config_loader.conf_source, loader=context.config_loader)
