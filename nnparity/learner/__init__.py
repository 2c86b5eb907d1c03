"""``nnparity check``: a learner's own NumPy network against the reference (or PyTorch and Keras), a product of its own.

A class (``FILE.py:ClassName``):

- ``check.py``: the command (its options, its table, its exit status);
- ``load.py``: loading and running the learner's class from the lesson's canonical weights,
  reading each gradient back from its update;
- ``parameters.py``: the learner's ``W1, b1, ...`` found by name, their layouts recovered;
- ``calls.py``: the only door into the learner's class (its prints hidden, every exception
  made a ``LearnerError``);
- ``diagnose.py``: the findings (output and every gradient against each framework) and the usual
  cause of a divergence, read from the numbers; ``verdict.py``: the findings and the report;
- ``data.py``: the lesson's data, kept on disk after its first check.

A script (``FILE.py``, no class), run in a child process until its first update:

- ``script.py``: the file checked, the child started with its time limit, what stops the check;
- ``script_child.py``: what runs in the child (the tracing, the first update, the end);
  ``script_result.py``: the file it hands back; ``slots.py``: which array is which parameter;
- ``script_read.py``: the parameters, learning rate and data read from what the script held;
  ``optimizer_read.py``: its own optimizer; ``regularizers_read.py``: its BatchNorm and dropout;
- ``script_check.py``: the check; ``intermediates.py``: the layer-by-layer walk to the first wrong
  intermediate (classes too).

``grade.py``: ``nnparity.grade``, points and feedback for autograders.
"""
