"""Helpers that test modules import: ``from support.wait import wait_until``.

pytest puts tests/ on sys.path (``pythonpath`` in pyproject.toml), so this package imports the ordinary way
under --import-mode=importlib and in every pytest-xdist worker. It is ``support``, not ``tests.support``:
a dependency (smdebug-rulesconfig) installs a top-level ``tests`` package that would shadow ours.
"""
