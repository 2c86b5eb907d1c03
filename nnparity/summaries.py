"""What ``nnparity run`` prints besides the pass/fail table: the trained networks and the vanishing gradient."""

from __future__ import annotations


def training_table(results):
    """A rich Table of every ``training`` result (None if there is none)."""
    from rich import box
    from rich.table import Table

    rows = [r for r in results if r.check == "training" and not r.skipped]
    if not rows:
        return None
    table = Table(title="trained to the end: framework vs reference", box=box.SIMPLE_HEAD)
    for col in ("lesson", "framework", "dtype", "epochs", "loss", "ref loss", "correct", "ref",
                "max |dparam|", "s"):
        table.add_column(col, no_wrap=True, justify="left" if col in ("lesson", "framework", "dtype") else "right")
    for r in rows:
        fw, info = r.case.framework, r.info
        table.add_row(
            r.case.lesson, fw, r.case.dtype, str(info["epochs"]),
            _loss(info[fw]["final loss"]), _loss(info["reference"]["final loss"]),
            f"{info[fw]['correct']}/{info['test points']}", str(info["reference"]["correct"]),
            f"{info['greatest parameter difference']:.1e}", f"{info[fw]['seconds']:.2f}",
        )
    return table


def _loss(value) -> str:
    return "-" if value is None else f"{value:.4f}"


def vanishing_lines(results) -> list[str]:
    """One line per lesson: the reference's first-layer gradient norm over its last layer's.

    (Each framework's own ratio is one of the ``gradient_norms`` items compared to it.)
    """
    ratios: dict[str, tuple[str, float]] = {}
    for r in results:
        if r.check == "gradient_norms" and not r.skipped and (r.case.lesson not in ratios or r.case.dtype == "float64"):
            ratios[r.case.lesson] = (r.info["ratio"], r.info["reference"])
    width = max((len(name) for name in ratios), default=0)
    return [f"{lesson:<{width}}  {ratio} = {value:.2e}" for lesson, (ratio, value) in ratios.items()]
