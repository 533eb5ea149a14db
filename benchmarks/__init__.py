"""skgan_ad's benchmarks, run from the repository root with ``python -m benchmarks``.

``python -m benchmarks run --suite NAME`` runs a suite and ``python -m benchmarks
SCRIPT`` any one script (see ``benchmarks/__main__.py``). The scripts are grouped by
purpose in ``suites/``, ``defaults/`` and ``diagnostics/``; what they share is in
``common.py``, ``_runner.py`` and ``_plots.py``, which import no script.
"""
