"""skgan_ad's benchmark suites, run from the repository root with
``python -m benchmarks run --suite NAME`` (see ``benchmarks/__main__.py``).

Each script also runs on its own, e.g. ``python benchmarks/kdd99.py``.
"""
