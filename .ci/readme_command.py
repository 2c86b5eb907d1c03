"""Print a command from README.md: the fenced block right after `<!-- NAME-command -->`.

`.ci/run` runs the `test` command exactly as the README gives it; a test checks
that both README commands exist.
"""

import pathlib
import re
import sys


def readme_command(name: str, readme: pathlib.Path) -> str:
    text = readme.read_text(encoding="utf-8")
    match = re.search(rf"<!-- {re.escape(name)}-command -->\s*```(?:bash|sh)?\n(.*?)```", text, re.S)
    if not match:
        raise SystemExit(f"README.md has no '<!-- {name}-command -->' block")
    lines = [line for line in match.group(1).splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return " && ".join(lines)


if __name__ == "__main__":
    root = pathlib.Path(__file__).resolve().parent.parent
    print(readme_command(sys.argv[1], root / "README.md"))
