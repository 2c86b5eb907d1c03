"""Does each framework compute what the reference computes? The engine, by role:

- ``lessons.py`` (the catalog), ``datasets.py``, ``optimizer_specs.py``: what is checked;
- ``cases.py``: a case (lesson, framework, dtype) and its inputs, built once; the reference model;
- ``checks/``: the check registry and every check; ``compare.py``: the one comparison helper;
  ``tolerances.py``: the one tolerance table;
- ``known/``: the differences nnparity has measured and names, each with its probe;
- ``divergence.py``: the first-divergence walk; ``magnitudes.py``: the property tests' error bounds;
- ``matrix.py``: the one runner of cases x checks;
- ``tests/``: the pytest suite and its support.
"""
