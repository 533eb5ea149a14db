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


#: The benchmark page's source, which places each result file in its suite's section.
BENCHMARKS_PAGE = Path(__file__).with_name("benchmarks.rst")
RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results"
GENERATED = Path(__file__).with_name("_generated")


def _markdown_parts(text):
    """A results file's body, its main table and the rest, for the benchmark page.

    The file's own title (``# ...``) is dropped, as the page gives each file a
    section or a rubric of its own, and its ``## ...`` headings become bold lines, so
    that files sharing a heading ("## AUROC") add no sections of the same name. The
    main table is the file's first table with the paragraph just above it (what the
    table holds), unless that paragraph is the command line.
    """
    lines = text.splitlines()
    if lines and lines[0].startswith("# "):
        lines = lines[1:]
    lines = [f"**{line[3:].strip()}**" if line.startswith("## ") else line
             for line in lines]
    body = "\n".join(lines).strip() + "\n"
    rows = [index for index, line in enumerate(lines) if line.startswith("|")]
    if not rows:
        return body, "", body
    first = last = rows[0]
    while last + 1 < len(lines) and lines[last + 1].startswith("|"):
        last += 1
    caption = first
    while caption > 0 and not lines[caption - 1].strip():
        caption -= 1
    above = caption
    while above > 0 and lines[above - 1].strip():
        above -= 1
    if above < caption and not lines[above].startswith(("Command", "|")):
        first = above
    main = "\n".join(lines[first:last + 1]).strip() + "\n"
    rest = lines[:first] + lines[last + 1:]
    # A heading left without its content (the main table's) goes too.
    blocks = "\n".join(rest).split("\n\n")
    blocks = [block for number, block in enumerate(blocks) if not (
        block.strip().startswith("**") and block.strip().endswith("**")
        and "\n" not in block.strip()
        and (number + 1 == len(blocks) or blocks[number + 1].strip().startswith("**")))]
    return body, main, "\n\n".join(blocks).strip() + "\n"


def _write_benchmark_includes():
    """Prepare every committed benchmark table and chart for the benchmark page.

    For each ``benchmarks/results/NAME.md`` this writes ``_generated/results/NAME.md``
    (the file without its title), ``NAME.table.md`` (its first table, the main one)
    and ``NAME.rest.md`` (all but that table), which ``benchmarks.rst`` includes in
    the section of the suite that wrote it. Result files the page does not name yet
    (a suite's new output, say) are shown under "Other result files" at its end, so
    that no committed result is missing from the documentation.
    """
    target = GENERATED / "results"
    target.mkdir(parents=True, exist_ok=True)
    page = BENCHMARKS_PAGE.read_text(encoding="utf-8")
    unplaced = []
    for table in sorted(RESULTS.glob("*.md")):
        text = table.read_text(encoding="utf-8")
        for suffix, part in zip((".md", ".table.md", ".rest.md"), _markdown_parts(text)):
            (target / (table.stem + suffix)).write_text(part, encoding="utf-8")
        if f"_generated/results/{table.stem}." not in page:
            title = text.splitlines()[0].lstrip("# ").strip() if text else table.name
            unplaced.append(f".. rubric:: ``{table.name}``: {title}\n\n"
                            f".. include:: /_generated/results/{table.stem}.md\n"
                            "   :parser: myst_parser.sphinx_\n\n")
    for other in sorted(RESULTS.glob("*.png")) + sorted(RESULTS.glob("*.txt")):
        if f"/../benchmarks/results/{other.name}" not in page:
            # A leading "/" is the source folder (docs/).
            unplaced.append(f".. rubric:: ``{other.name}``\n\n" + (
                f".. image:: /../benchmarks/results/{other.name}\n\n"
                if other.suffix == ".png" else
                f".. literalinclude:: /../benchmarks/results/{other.name}\n"
                "   :language: text\n\n"))
    (GENERATED / "unplaced_results.rst").write_text(
        "Other result files\n------------------\n\n"
        "Files of ``benchmarks/results/`` that no section above shows yet.\n\n"
        + "".join(unplaced) if unplaced else "", encoding="utf-8")


_write_benchmark_includes()
