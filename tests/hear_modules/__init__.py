"""HEAR 2021 modules written for the tests (importable as ``tests.hear_modules.<name>``)."""
