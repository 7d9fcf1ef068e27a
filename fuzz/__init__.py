"""Coverage-guided fuzz targets for every dlmskit decoder (not part of the installed package).

``fuzz.targets.TARGETS`` maps a target name to its :class:`~fuzz._target.Target`. Run
one under atheris with ``python -m fuzz.run NAME`` (``make fuzz`` runs them all for
``FUZZ_SECONDS`` each); ``python -m fuzz.seeds`` rewrites the seed corpora under
``fuzz/corpus/``; ``tests/test_fuzz_targets.py`` runs every target over its seeds and
mutations of them without atheris.

This package module imports nothing: ``fuzz.run`` must import the code under test only
inside atheris's instrumentation.
"""
