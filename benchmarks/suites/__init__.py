"""Suites: the measurements the documentation shows, ours next to PyOD's."""
