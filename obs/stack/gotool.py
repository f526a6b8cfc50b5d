"""Running the Go toolchain for stack builds, with errors that say what to do next.

Everything is fetched from a module proxy only (never `direct` VCS access), with the
local toolchain only (no silent toolchain downloads), and with Go's default build and
module caches so later builds reuse earlier work.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from obs.errors import StackError
from obs.stack import tools

MIN_GO = (1, 26)


@dataclass(frozen=True)
class SourceTrim:
    """Text deleted (or replaced) from a module's source before a build, because the stack never runs it.

    `old` must occur exactly once, so a new upstream version that moved it fails the build loudly
    instead of building something else than was meant.
    """

    module: str
    path: str
    old: str
    new: str = ""

TAIL_LINES = 20

_NETWORK = re.compile(
    r"dial tcp|no such host|connection refused|i/o timeout|TLS handshake timeout"
    r"|network is unreachable|connection reset|proxyconnect"
)
_MISSING = re.compile(
    r"unknown revision|invalid version|404 Not Found|410 Gone|no matching versions"
    r"|not found: |cannot find module|does not contain package"
    # Some proxies refuse unknown versions with 403 rather than 404.
    r"|403 Forbidden|version is not available"
)
_TOO_OLD = re.compile(r"requires go >= ?(\S+)")


def find_go() -> Path:
    """PATH first, then where Go's official tarball installs; a ToolMissing says how to get it."""
    return tools.system_tool("go")


def tail(text: str, n: int = TAIL_LINES) -> str:
    return "\n".join(text.rstrip().splitlines()[-n:])


class Go:
    """One build's view of the Go toolchain; every command's output goes to `log`."""

    def __init__(self, log: Path):
        self.exe = find_go()
        self.log = log
        log.parent.mkdir(parents=True, exist_ok=True)
        self.env = self._environment()
        self.version = self._check_version()

    def _environment(self) -> dict[str, str]:
        env = dict(os.environ)
        # Go's own builder (the collector's `ocb`) looks `go` up on PATH.
        env["PATH"] = f"{self.exe.parent}{os.pathsep}{env.get('PATH', '')}"
        env["GOTOOLCHAIN"] = "local"
        env["GOFLAGS"] = "-mod=mod"
        # Static binaries that need no C toolchain; prometheus also asks for netgo.
        env["CGO_ENABLED"] = "0"
        env["GOPROXY"] = self._proxy(env)
        return env

    def _proxy(self, env: dict[str, str]) -> str:
        """OBS_GOPROXY, else Go's configured proxy list with `direct` and `off` removed.

        Fetching straight from VCS hosts is not allowed for stack builds, so the
        `,direct` fallback in Go's default is dropped rather than trusted.
        """
        raw = env.get("OBS_GOPROXY")
        if not raw:
            proc = subprocess.run(
                [str(self.exe), "env", "GOPROXY"], capture_output=True, text=True, env=env
            )
            raw = proc.stdout.strip()
        proxies = [p for p in re.split(r"[,|]", raw) if p and p not in ("direct", "off")]
        if not proxies:
            raise StackError(
                f"GOPROXY is {raw!r}, which names no module proxy; stack builds fetch "
                "only from a Go module proxy. Set OBS_GOPROXY (or GOPROXY) to one."
            )
        return ",".join(proxies)

    def _check_version(self) -> str:
        out = self.output(["env", "GOVERSION"], cwd=Path.cwd(), what="go env").strip()
        m = re.match(r"go(\d+)\.(\d+)", out)
        if not m or (int(m[1]), int(m[2])) < MIN_GO:
            raise StackError(
                f"{self.exe} is {out or 'an unknown Go version'}; stack builds need Go >= "
                f"{MIN_GO[0]}.{MIN_GO[1]} (toolchain auto-download is disabled). Install a "
                "newer Go and put it first on PATH."
            )
        return out

    def run(
        self, args: list[str], cwd: Path, what: str,
        exe: Path | None = None, extra_env: dict[str, str] | None = None,
    ) -> None:
        """Run go (or `exe`, a Go-driving tool) with output streamed to the log."""
        argv = [str(exe or self.exe), *args]
        env = {**self.env, **(extra_env or {})}
        with open(self.log, "a") as fh:
            fh.write(f"\n$ (cd {cwd} && {' '.join(argv)})\n")
            fh.flush()
            start = fh.tell()
            rc = subprocess.call(
                argv, cwd=cwd, env=env, stdout=fh, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        if rc != 0:
            with open(self.log) as fh:
                fh.seek(start)
                raise StackError(self._explain(what, fh.read()))

    def output(self, args: list[str], cwd: Path, what: str) -> str:
        """Run go and return its stdout; stderr goes to the log."""
        proc = subprocess.run(
            [str(self.exe), *args], cwd=cwd, env=self.env,
            capture_output=True, text=True, stdin=subprocess.DEVNULL,
        )
        with open(self.log, "a") as fh:
            fh.write(f"\n$ (cd {cwd} && go {' '.join(args)})\n{proc.stderr}")
        if proc.returncode != 0:
            raise StackError(self._explain(what, proc.stderr + proc.stdout))
        return proc.stdout

    def linked_modules(self, binary: Path) -> list[str]:
        """The modules whose packages are compiled into `binary` (its build information, `go version -m`)."""
        out = self.output(["version", "-m", str(binary)], cwd=binary.parent, what=f"go version -m {binary.name}")
        return [cols[1] for cols in (line.split() for line in out.splitlines()) if len(cols) > 1 and cols[0] == "dep"]

    def _explain(self, what: str, output: str) -> str:
        if _NETWORK.search(output):
            hint = (
                f"The Go module proxy ({self.env.get('GOPROXY')}) could not be reached. "
                "Check network access (and HTTPS_PROXY if you need one), or set "
                "OBS_GOPROXY to a reachable module proxy."
            )
        elif m := _TOO_OLD.search(output):
            hint = (
                f"A module needs Go >= {m[1]} but {self.exe} is {getattr(self, 'version', '?')}. "
                "Install a newer Go (toolchain auto-download is disabled)."
            )
        elif _MISSING.search(output):
            hint = (
                "A module or version was not found on (or is not served by) the module proxy. Check the pins "
                "in obs/versions.py (and the gomod lines of the collector manifest)."
            )
        else:
            hint = "The Go build failed; the output below says why."
        return (
            f"{what} failed. {hint}\n--- last {TAIL_LINES} lines of go output ---\n"
            f"{tail(output)}\n--- full log: {self.log}"
        )

    # -- scratch modules ---------------------------------------------------------------

    def module_info(self, module: str, version: str, cwd: Path) -> dict[str, Any]:
        """`go mod download -json` for module@version: its GoMod file and source Dir."""
        out = self.output(
            ["mod", "download", "-json", f"{module}@{version}"], cwd=cwd,
            what=f"downloading {module}@{version}",
        )
        info: dict[str, Any] = json.loads(out)
        if info.get("Error") or not info.get("GoMod") or not info.get("Dir"):
            raise StackError(self._explain(f"downloading {module}@{version}", info.get("Error", "")))
        return info

    def copied_directives(self, gomod: Path, cwd: Path) -> list[str]:
        """`go mod edit` flags that repeat upstream's replace and exclude lines.

        Those lines only apply in the module that declares them, so a module that
        builds upstream's commands as tools must repeat them to get the same build.
        Replaces that point at local directories refer to upstream's own tree and
        cannot be copied.
        """
        data = json.loads(self.output(["mod", "edit", "-json", str(gomod)], cwd=cwd, what="go mod edit"))

        def at(mod: dict[str, Any]) -> str:
            return f"{mod['Path']}@{mod['Version']}" if mod.get("Version") else mod["Path"]

        flags = [f"-exclude={at(e)}" for e in data.get("Exclude") or []]
        for r in data.get("Replace") or []:
            if r["New"].get("Version"):
                flags.append(f"-replace={at(r['Old'])}={at(r['New'])}")
        return flags

    def scratch_module(
        self, directory: Path, name: str, module: str, version: str, tools: list[str],
        placeholders: dict[str, str] | None = None,
        trims: Sequence[SourceTrim] = (),
    ) -> list[str]:
        """A module of our own whose tools are upstream's commands; returns the go.mod edits made.

        `placeholders` (path inside upstream's module -> text) are files that upstream
        generates before building and so are absent from the proxy's zip (e.g. UI
        assets for go:embed). They are added to a writable copy of the proxy's
        source, which then replaces the module.
        `trims` delete source the stack never runs, in upstream's module or one of its
        dependencies (at the version the build resolves), in the same way.
        """
        directory.mkdir(parents=True, exist_ok=True)
        # Fresh go.mod each build so a changed pin never inherits stale requirements.
        (directory / "go.mod").write_text(
            f"module obs.local/stack/{name}\n\ngo {MIN_GO[0]}.{MIN_GO[1]}\n"
        )
        info = self.module_info(module, version, directory)
        directives = self.copied_directives(Path(info["GoMod"]), directory)
        if placeholders:
            local = directory / "upstream"
            _copy_writable(Path(info["Dir"]), local)
            for rel, text in placeholders.items():
                (local / rel).parent.mkdir(parents=True, exist_ok=True)
                (local / rel).write_text(text)
            directives.append(f"-replace={module}=./upstream")
        if directives:
            self.run(["mod", "edit", *directives], directory, f"copying {module} replace/exclude lines")
        self.run(
            ["get", "-tool", *(f"{t}@{version}" for t in tools)],
            directory, f"go get -tool {module}@{version}",
        )
        if trims:
            directives += self._apply_trims(directory, module, trims)
        return directives

    def module_dir(self, directory: Path, module: str) -> Path:
        """Where the module cache holds `module` at the version the module in `directory` resolves."""
        info = json.loads(self.output(["list", "-m", "-json", module], directory, f"go list -m {module}"))
        if not info.get("Dir"):
            self.output(["mod", "download", module], directory, f"downloading {module}")
            info = json.loads(self.output(["list", "-m", "-json", module], directory, f"go list -m {module}"))
        return Path(info["Dir"])

    def _apply_trims(self, directory: Path, module: str, trims: Sequence[SourceTrim]) -> list[str]:
        """Copy each trimmed module beside the scratch module, edit it, and replace the module with it."""
        directives: list[str] = []
        for mod in dict.fromkeys(t.module for t in trims):
            if mod == module and (directory / "upstream").is_dir():
                local = directory / "upstream"  # already replaced by the placeholders' copy
            else:
                local = directory / "trimmed" / mod.replace("/", "_")
                _copy_writable(self.module_dir(directory, mod), local)
                directives.append(f"-replace={mod}=./{local.relative_to(directory)}")
            for t in (t for t in trims if t.module == mod):
                target = local / t.path
                text = target.read_text()
                if text.count(t.old) != 1:
                    raise StackError(
                        f"cannot trim {mod}/{t.path}: expected the text {t.old.strip()!r} exactly once, found it "
                        f"{text.count(t.old)} times. Upstream changed; update the trim in obs/stack/build.py "
                        "(or drop it) together with the pinned version."
                    )
                target.write_text(text.replace(t.old, t.new))
        if directives:
            self.run(["mod", "edit", *directives], directory, "replacing trimmed modules with their trimmed copies")
        return directives


def _copy_writable(src: Path, dst: Path) -> None:
    """Copy a module-cache tree (read-only by design) into a tree we may modify and delete."""
    if dst.exists():
        _make_writable(dst)  # an interrupted copy may have left read-only directories
        shutil.rmtree(dst)
    shutil.copytree(src, dst, copy_function=shutil.copyfile)
    _make_writable(dst)


def _make_writable(tree: Path) -> None:
    os.chmod(tree, 0o755)
    for root, dirs, _files in os.walk(tree):
        for d in dirs:
            os.chmod(os.path.join(root, d), 0o755)
