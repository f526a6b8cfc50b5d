"""The one place obs, its tests and its benchmarks find an external program. No caller spells a bare name.

A program comes from one of three homes, and each kind has exactly one:

- **the project's environment**: Python console scripts installed with obs (`check-jsonschema` from the
  `dev` extra) live beside the running interpreter, whether or not that directory is on PATH;
- **obs's binary cache**: everything built from the Go module proxy at pinned versions (`promtool`,
  `otelcol`, ...), through `obs.stack.build.ensure`;
- **the system**: toolchains and Debian packages that no project file can build (`go`, `node`, `npm`,
  `chromium`, `docker`), looked up on PATH and then where their installers put them.

Why: a test that runs a bare name passes on a machine where someone once installed that tool by hand,
and fails on a fresh one. A missing program is a ToolMissing (exit 3) that names it and how to get it.
"""
from __future__ import annotations

import os
import shutil
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

from obs.errors import StackError


class ToolMissing(StackError):
    """A program obs or its tests need is not installed where it should be."""


@dataclass(frozen=True)
class SystemTool:
    # Where its usual installer puts it, for when that directory is not on PATH.
    fallbacks: tuple[str, ...]
    how: str


SYSTEM: dict[str, SystemTool] = {
    "go": SystemTool(("/usr/local/go/bin/go",),
                     "install Go >= 1.26 from its official tarball into /usr/local/go "
                     "(export PATH=/usr/local/go/bin:$PATH)"),
    "node": SystemTool(("/usr/bin/node", "/usr/local/bin/node"),
                       "install Node.js >= 20 (Debian: apt-get install nodejs npm)"),
    "npm": SystemTool(("/usr/bin/npm", "/usr/local/bin/npm"), "install npm (Debian: apt-get install npm)"),
    "chromium": SystemTool(("/usr/bin/chromium",), "run `make browser` (apt-get install chromium)"),
    # No fallback: Docker is on PATH wherever it is usable, and `auto` must not pick a stray client.
    "docker": SystemTool((), "install Docker, or run the stack as local processes with --runtime native"),
}

# Console scripts of the packages obs (or its `dev` extra) depends on.
PYTHON: dict[str, str] = {
    "check-jsonschema": "dev",
}


def scripts_dir() -> Path:
    """Where this interpreter's environment installs console scripts (a virtualenv's bin/)."""
    return Path(sysconfig.get_path("scripts"))


def python_tool(name: str) -> Path:
    for folder in (scripts_dir(), Path(sys.executable).parent):
        candidate = folder / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    extra = PYTHON.get(name)
    how = (f"it comes with obs's `{extra}` extra: run `make install` (or `pip install -e '.[{extra}]'`)"
           if extra else "it is not a console script obs installs")
    raise ToolMissing(f"`{name}` is not installed in this Python environment ({scripts_dir()}); {how}")


def system_tool(name: str) -> Path:
    known = SYSTEM.get(name)
    found = shutil.which(name)
    if found:
        return Path(found)
    for fallback in known.fallbacks if known else ():
        if os.access(fallback, os.X_OK):
            return Path(fallback)
    how = known.how if known else "install it"
    raise ToolMissing(f"`{name}` is not on PATH ({os.environ.get('PATH', '')}); {how}")


def built_tool(name: str) -> Path:
    from obs.stack.build import ensure  # imported late: building pulls in the Go toolchain wrapper

    return ensure([name], progress=lambda _: None)[name]


def find(name: str) -> Path:
    """The program `name`, from whichever home its kind has; ToolMissing when it cannot be had."""
    if name in PYTHON:
        return python_tool(name)
    if name in SYSTEM:
        return system_tool(name)
    return built_tool(name)
