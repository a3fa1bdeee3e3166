"""Print pip's arguments for everything `make setup` installs, editable and with every extra.

The core with its extras (pdf, server, postgres, test), then each plugin under plugins/
with all the extras its pyproject.toml declares (none: the plugin alone). `make setup`
and `make constraints` both install exactly this list.
"""

import shlex
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def spec(project: Path) -> str:
    data = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    extras = sorted(data["project"].get("optional-dependencies", {}))
    where = "." if project == ROOT else project.relative_to(ROOT).as_posix()
    return f"{where}[{','.join(extras)}]" if extras else where


projects = [ROOT, *sorted(p.parent for p in ROOT.glob("plugins/*/pyproject.toml"))]
print(" ".join(f"-e {shlex.quote(spec(p))}" for p in projects))
