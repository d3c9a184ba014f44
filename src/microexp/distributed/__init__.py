"""Independent jobs (LOSO folds, exports of many bags, sweep trials) on one executor.

:mod:`.jobs` holds what the core's planners need and nothing else (no Ray import): a
:class:`~.jobs.Job`, the :class:`~.jobs.Executor` protocol and the in-process reference executor.
:mod:`.cluster` starts an embedded Ray instance bound to 127.0.0.1 or connects to a cluster, and
:mod:`.ray_executor` runs jobs there.
"""
