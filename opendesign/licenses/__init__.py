"""Licenses: SPDX expressions and the project's registry of license rules."""
