"""Where independent work runs: this process, or a Dask cluster (local, remote or SLURM).

``embed`` shards and ``downstream_eval`` folds are independent tasks; an
:class:`EngineConfig` (the ``engine`` entry of a pipeline's parameters) says
where they run:

- ``kind: local`` (default): one after the other, in this process;
- ``kind: dask``: mapped over a ``dask.distributed`` cluster, which is

  - a ``LocalCluster`` of ``n_workers`` processes (one thread each) on
    127.0.0.1 when neither ``address`` nor ``jobqueue`` is set;
  - the scheduler at ``address`` (``tcp://host:8786``) of a running cluster;
  - a ``dask_jobqueue`` cluster (``jobqueue: {kind: slurm, jobs: 4, ...}``,
    the rest of the mapping passed to e.g. ``SLURMCluster``).

A cluster is started on first use and shared by every task of the process
until :func:`close_clusters` (a Kedro hook calls it after each run; it also
runs at exit). Tasks run the same functions as the local engine does, so the
two give the same results.
"""

from __future__ import annotations

import atexit
import json
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from l3_kedro.errors import ParameterError

logger = logging.getLogger(__name__)

ENGINE_KINDS = ("local", "dask")


@dataclass(frozen=True)
class EngineConfig:
    """Where a stage's independent tasks run (see the module docstring).

    Attributes
    ----------
    kind : {"local", "dask"}
    n_workers : int >= 1
        Worker processes of a ``LocalCluster`` (ignored with ``address`` or ``jobqueue``).
    address : str or None
        Scheduler of a running cluster.
    jobqueue : dict
        ``kind`` (``slurm``, ``pbs``, ...), ``jobs`` (how many to request) and
        the options of that ``dask_jobqueue`` cluster class.
    memory_limit : str
        Per ``LocalCluster`` worker (``"auto"``: the machine's memory shared out).
    shards_per_worker : int >= 1
        ``embed``: clip-table shards per worker (more shards: smaller pieces
        of work, each with its own store file).
    """

    kind: str = "local"
    n_workers: int = 2
    address: str | None = None
    jobqueue: dict[str, Any] = field(default_factory=dict)
    memory_limit: str = "auto"
    shards_per_worker: int = 1

    @classmethod
    def from_parameters(cls, options: dict[str, Any] | None, *, parameter: str) -> EngineConfig:
        """Build from a pipeline's ``engine`` entry (None: local); ``parameter`` names it in errors."""
        options = dict(options or {})
        known = {f for f in cls.__dataclass_fields__}
        unknown = sorted(set(options) - known)
        if unknown:
            raise ParameterError(
                f"Unknown key(s) {unknown} under {parameter}; known: {sorted(known)}."
            )
        config = cls(**options)
        if config.kind not in ENGINE_KINDS:
            raise ParameterError(f"{parameter}.kind={config.kind!r}; use one of {ENGINE_KINDS}.")
        for name in ("n_workers", "shards_per_worker"):
            value = getattr(config, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ParameterError(f"{parameter}.{name}={value!r}; use an integer >= 1.")
        queue = config.jobqueue.get("kind") if config.jobqueue else None
        if config.jobqueue and queue not in JOBQUEUE_CLASSES:
            raise ParameterError(
                f"{parameter}.jobqueue.kind={queue!r}; use one of {sorted(JOBQUEUE_CLASSES)}."
            )
        if config.jobqueue and config.address:
            raise ParameterError(f"{parameter}: set address or jobqueue, not both.")
        return config

    @property
    def distributed(self) -> bool:
        """Whether tasks go to a Dask cluster."""
        return self.kind == "dask"

    def key(self) -> str:
        """Identity of the cluster this config asks for (one shared cluster per key)."""
        return json.dumps(
            {k: v for k, v in self.__dict__.items() if k != "shards_per_worker"},
            sort_keys=True,
            default=str,
        )


_CLIENTS: dict[str, Any] = {}
_LOCK = threading.Lock()


def _start(config: EngineConfig) -> Any:
    from distributed import Client, LocalCluster

    if config.address:
        logger.info("Dask: connecting to the scheduler at %s", config.address)
        return Client(config.address)
    if config.jobqueue:
        cluster = jobqueue_cluster(config)
        jobs = int(config.jobqueue.get("jobs", 1))
        cluster.scale(jobs=jobs)
        logger.info("Dask: %s asking for %d job(s)", type(cluster).__name__, jobs)
        return Client(cluster)
    import dask

    # Dask starts workers with one BLAS/OpenMP thread and an eager malloc trim,
    # which suit many small numpy tasks. These tasks are a few long model runs:
    # the workers run as a plain process does (every core's threads, glibc's
    # own trimming): as fast (benchmarks/scaling.py) and with the numerics of
    # the single-process path, which depend on the thread count.
    with dask.config.set({"distributed.nanny.pre-spawn-environ": {}}):
        cluster = LocalCluster(
            n_workers=config.n_workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            memory_limit=config.memory_limit,
        )
    logger.info("Dask: a LocalCluster of %d worker processes", config.n_workers)
    return Client(cluster)


JOBQUEUE_CLASSES = {
    "slurm": "SLURMCluster",
    "pbs": "PBSCluster",
    "sge": "SGECluster",
    "lsf": "LSFCluster",
    "htcondor": "HTCondorCluster",
    "moab": "MoabCluster",
    "oar": "OARCluster",
}


def jobqueue_cluster(config: EngineConfig, **overrides: Any) -> Any:
    """The ``dask_jobqueue`` cluster of ``config.jobqueue``, no job asked for yet.

    ``jobqueue`` is ``kind``, ``jobs`` and that class's options (``queue``,
    ``cores``, ``memory``, ``walltime``, ``job_extra_directives``, ...);
    ``overrides`` are added to them. ``cluster.job_script()`` shows what
    would be submitted.
    """
    import dask_jobqueue

    options = {k: v for k, v in config.jobqueue.items() if k not in ("kind", "jobs")}
    cluster_class = getattr(dask_jobqueue, JOBQUEUE_CLASSES[config.jobqueue["kind"]])
    return cluster_class(**options, **overrides)


def dask_client(config: EngineConfig) -> Any:
    """The shared ``distributed.Client`` for ``config`` (started on first use)."""
    with _LOCK:
        client = _CLIENTS.get(config.key())
        if client is None or client.status in ("closed", "closing"):
            client = _CLIENTS[config.key()] = _start(config)
        return client


def close_clusters() -> None:
    """Close every cluster this process started (and its client)."""
    with _LOCK:
        clients = list(_CLIENTS.values())
        _CLIENTS.clear()
    for client in clients:
        cluster = client.cluster
        client.close()
        if cluster is not None:
            cluster.close()


atexit.register(close_clusters)


def map_tasks(
    func: Callable[..., Any], items: Iterable[Any], *, engine: EngineConfig, **shared: Any
) -> list[Any]:
    """``[func(item, **shared) for item in items]``, here or on the engine's cluster.

    Results come back in the order of ``items``; the first task that raises
    re-raises here (its original exception, with its traceback). ``func`` must
    be importable by the workers (a module-level function), ``items`` and
    ``shared`` picklable; ``shared`` is sent to the cluster once.
    """
    items = list(items)
    if not engine.distributed:
        return [func(item, **shared) for item in items]
    client = dask_client(engine)
    scattered = {k: client.scatter(v, broadcast=True) for k, v in shared.items()}
    futures = client.map(func, items, pure=False, **scattered)
    try:
        return client.gather(futures)
    finally:
        client.cancel(futures)
