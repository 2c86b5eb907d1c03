"""``nnparity export MODEL.py -o FILE.safetensors``: a trained model (and its optimizer) written without pickle.

``MODEL.py`` is run as a script and must define ``model`` (a torch ``nn.Sequential`` or a Keras chain) and
may define ``optimizer`` (torch.optim.SGD/Adam/AdamW on its parameters, or the Keras optimizer that
trained it). The file is written by ``nnparity.export_weights`` (``nnparity/weights/``) and read back, in
either framework, by ``nnparity.load_weights(path, model, optimizer)``. The manifest is printed.
Exit status 0, or 2 for a file that cannot be run, lacks ``model``, or names a pickle output.
"""

from __future__ import annotations

import importlib.util
import json

from .common import EXIT_OK, UsageError, output_file
from .compare import run_user_file


def add_arguments(p) -> None:
    """``nnparity export``'s options (nnparity/cli.py lists the command and its help line)."""
    p.add_argument("model", metavar="MODEL.py", help="a Python file defining model (and optionally optimizer)")
    p.add_argument("-o", "--output", required=True, metavar="FILE.safetensors", help="where to write")
    p.set_defaults(func=cmd_export)


def cmd_export(args) -> int:
    output_file(args.output, "-o")
    if importlib.util.find_spec("safetensors") is None:
        raise UsageError("export needs safetensors: pip install 'nnparity[export]'")
    from .weights import WeightsError, export_weights

    names = run_user_file(args.model, ("model",))
    try:
        manifest = export_weights(names["model"], args.output, optimizer=names.get("optimizer"))
    except (WeightsError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    print(json.dumps(manifest, indent=2))
    return EXIT_OK
