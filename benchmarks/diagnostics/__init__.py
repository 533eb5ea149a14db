"""Diagnostics: what explains a result; no default of the package is taken from them."""
