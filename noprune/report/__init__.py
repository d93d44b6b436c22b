"""Presentation: leaderboards (``leaderboard``), the combined report across suites
(``combined``), what ``noprune run`` writes under results/SUITE/ (``results``), the shared
plotting helpers (``plots``) and the figures experiments register (``information_plot``,
``memorization_plot``, ``trace_plot``, ``calibration_report``), published reference numbers
(``references``) and the dense-equivalent count (``dense_equivalent``).

This package imports nothing on import, so an experiment can import a figure from it without
loading the rest.
"""
