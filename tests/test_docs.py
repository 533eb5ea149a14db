"""The documentation keeps up with the package."""

import doctest
import inspect
import re
from pathlib import Path

import pytest
from conftest import ESTIMATORS

import skgan_ad

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_api_page_lists_every_public_detector():
    listed = set(re.findall(r"^   (\w+)$", (DOCS / "api.rst").read_text(), re.MULTILINE))
    detectors = {name for name in skgan_ad.__all__
                 if isinstance(getattr(skgan_ad, name), type)
                 and issubclass(getattr(skgan_ad, name), skgan_ad.BaseGANDetector)}
    assert detectors <= listed, f"missing from docs/api.rst: {detectors - listed}"


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda cls: cls.__name__)
def test_docstring_documents_every_parameter_once_in_signature_order(cls):
    documented = re.findall(r"^    (\w+) : ", cls.__doc__.split("\n    Attributes\n")[0],
                            re.MULTILINE)
    assert documented == list(inspect.signature(cls).parameters)


def test_readme_renders_without_a_docutils_warning():
    # PyPI renders README.rst with docutils and shows raw text on any error, such as a
    # list-table whose rows lost their indentation.
    from docutils.core import publish_doctree

    readme = DOCS.parent / "README.rst"
    doctree = publish_doctree(readme.read_text(), source_path=str(readme),
                              settings_overrides={"report_level": 5, "halt_level": 5})
    messages = [message.astext() for message in
                doctree.findall(lambda node: node.tagname == "system_message")]
    assert not messages, messages
    # The KDD99 summary table (the demo's measured run is in docs/benchmarks.rst).
    assert len(list(doctree.findall(lambda node: node.tagname == "table"))) == 1


@pytest.mark.parametrize("page", ["README.rst", "docs/index.rst", "docs/user_guide.rst"])
def test_quick_start_runs_as_written(page, tmp_path, monkeypatch):
    # The Python examples are doctests (``>>>`` in ``pycon`` blocks), so they run as
    # printed; they train for one pass (epochs=1, min_steps=0) to take seconds. Their
    # saved model file goes to a temporary folder.
    path = DOCS.parent / page
    assert ".. code-block:: python" not in path.read_text(), "use pycon blocks: they are tested"
    monkeypatch.chdir(tmp_path)
    results = doctest.testfile(str(path), module_relative=False, verbose=False,
                               optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert results.attempted >= 5
    assert not results.failed, f"{results.failed} example(s) of {page} failed; see stdout"
