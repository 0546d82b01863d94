"""The unattended dispatch service: APScheduler jobs over a SQLAlchemy database.

Modules: :mod:`~vpp.service.config` (settings), :mod:`~vpp.service.clock` (wall or accelerated
time), :mod:`~vpp.service.db` (tables, engine, schema upgrade), :mod:`~vpp.service.repository`
(idempotent writes and reads), :mod:`~vpp.service.pipeline` (``bid_day``, ``dispatch_period``,
``ingest``, ``settle_day``: the functions the jobs, ``vpp dispatch`` and the simulated day call),
:mod:`~vpp.service.jobs` (thin job functions), :mod:`~vpp.service.scheduler` (APScheduler wiring),
:mod:`~vpp.service.inbox` / :mod:`~vpp.service.outbox` (file hand-off), :mod:`~vpp.service.fallback`
(safe dispatch when the solve fails), :mod:`~vpp.service.simulate` (a trading day on an accelerated
clock) and :mod:`~vpp.service.status` (what ``vpp status`` shows).
"""
