"""The documentation keeps up with the package."""

import re
from pathlib import Path

import skgan_ad

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_api_page_lists_every_public_detector():
    listed = set(re.findall(r"^   (\w+)$", (DOCS / "api.rst").read_text(), re.MULTILINE))
    detectors = {name for name in skgan_ad.__all__
                 if isinstance(getattr(skgan_ad, name), type)
                 and issubclass(getattr(skgan_ad, name), skgan_ad.BaseGANDetector)}
    assert detectors <= listed, f"missing from docs/api.rst: {detectors - listed}"
