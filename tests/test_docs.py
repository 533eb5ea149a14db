"""The documentation keeps up with the package."""

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
    assert len(list(doctree.findall(lambda node: node.tagname == "table"))) >= 3
