"""Sweeps: a suite expanded into run configs (``runner``), run by ``worker`` on an executor
(serial, process, Dask, Slurm: ``executors``), each result stored once in the SQLite ``store``
with its ``provenance``; results written as JSON files on a cluster come back through
``ingest``. Nothing here imports ``noprune.report``: storage never depends on presentation."""
