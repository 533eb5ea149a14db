"""Defaults: the validation runs that chose package defaults, on training data only."""
