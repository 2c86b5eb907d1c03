"""``nnparity check``: a learner's own NumPy network against PyTorch and Keras, a product of its own.

- ``check.py``: the command (its options, its table, its exit status);
- ``load.py``: loading and running the learner's class from the lesson's canonical weights,
  reading each gradient back from its update;
- ``parameters.py``: the learner's ``W1, b1, ...`` found by name, their layouts recovered;
- ``calls.py``: the only door into the learner's code (its prints hidden, every exception
  made a ``LearnerError``);
- ``diagnose.py``: the findings (output and every gradient against each framework) and the usual
  cause of a divergence, read from the numbers.
"""
