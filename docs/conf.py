"""Sphinx configuration of the skgan_ad documentation."""

from datetime import date
from pathlib import Path

import skgan_ad

project = "skgan_ad"
author = "the skgan_ad developers"
copyright = f"{date.today().year}, {author}"  # noqa: A001
release = version = skgan_ad.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]

autosummary_generate = True
# Methods are listed once, by autosummary in the class template, not by numpydoc too.
numpydoc_show_class_members = False
numpydoc_xref_param_type = False

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
}

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "_generated", "auto_examples/*.ipynb", "auto_examples/*.py",
                    "auto_examples/*.zip", "auto_examples/*.md5", "sg_execution_times.rst"]
templates_path = ["_templates"]
html_theme = "pydata_sphinx_theme"
html_title = f"skgan_ad {version}"
html_static_path = []
html_theme_options = {
    "navbar_end": ["navbar-icon-links"],
    "secondary_sidebar_items": ["page-toc"],
    "show_prev_next": False,
}


def _write_benchmark_includes():
    """Show every committed benchmark chart and table (``benchmarks/results/``)."""
    results = Path(__file__).resolve().parents[1] / "benchmarks" / "results"
    target = Path(__file__).with_name("_generated") / "benchmarks.rst"
    target.parent.mkdir(exist_ok=True)
    # A leading "/" is the source folder (docs/).
    charts = "".join(f".. image:: /../benchmarks/results/{chart.name}\n\n"
                     for chart in sorted(results.glob("*.png")))
    target.write_text(charts + "".join(
        f".. include:: /../benchmarks/results/{table.name}\n"
        "   :parser: myst_parser.sphinx_\n\n"
        for table in sorted(results.glob("*.md"))))


_write_benchmark_includes()
