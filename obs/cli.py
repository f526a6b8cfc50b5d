"""The `obs` command line. Thin: commands live in obs/commands/, errors become exit codes here.

Exit codes: 0 success, 1 a check failed (drift, failed probe or test), 2 bad input,
3 stack unreachable or not buildable, 70 internal error, 130 interrupted.
"""
from __future__ import annotations

import gc
import os
import sys
from importlib import import_module

import click

from obs.batch import batch
from obs.errors import ObsError

COMMANDS = ("init", "validate", "schema", "generate", "test", "lint", "import_", "env", "stack", "up", "down",
            "status", "logs", "verify", "drill", "report", "budget", "explain", "receivers")

EPILOG = """\b
Typical loop:
  obs init                 write a commented starter obs.yaml
  obs validate             check it; every problem is reported at once
  obs generate             write alerts/, dashboards/, deploy/, docker-compose.yml
  obs up && obs verify     run the stack locally and prove data and alerts arrive
  obs env SERVICE          the OTEL_* settings that instrument a service for this stack

Exit codes: 0 ok, 1 check failed, 2 bad input, 3 stack unreachable, 70 internal error.
"""


class _LazyGroup(click.Group):
    """Imports a command's module only when that command is run or listed: `obs generate` then loads neither the
    verifier, the stack runner nor the report, a tenth of its start-up."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_command_name(m) for m in COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = next((m for m in COMMANDS if _command_name(m) == cmd_name), None)
        if module is None:
            return None
        with batch():   # imports make thousands of classes; collecting cycles among them is wasted work
            command: click.Command = import_module(f"obs.commands.{module}").command
        return command


def _command_name(module: str) -> str:
    return module.rstrip("_")   # import_: a Python keyword as a module name


@click.group(cls=_LazyGroup, epilog=EPILOG,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="obs", prog_name="obs")
def cli() -> None:
    """obs: one spec to SLO alerts, pipeline configs, dashboards, and a stack proven to work."""


def main(argv: list[str] | None = None) -> int:
    try:
        cli.main(args=argv, prog_name="obs", standalone_mode=False)
    except ObsError as e:
        if str(e):
            click.echo(str(e), err=True)
        return e.exit_code
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.Abort:
        click.echo("interrupted", err=True)
        return 130
    except click.ClickException as e:
        e.show()
        return 2
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as e:  # the one boundary where an unexpected failure is turned into a message
        if os.environ.get("OBS_DEBUG"):
            raise
        click.echo(f"obs: internal error: {type(e).__name__}: {e}\n"
                   "This is a bug in obs. Re-run with OBS_DEBUG=1 for a traceback and report it.", err=True)
        return 70
    return 0


def run() -> None:
    code = main()
    # The process is ending: the cycle collection at interpreter shutdown would scan every object left (tens of
    # thousands after a large generate) to free memory the exit frees anyway. Frozen objects are not scanned;
    # atexit handlers and stream flushes still run.
    gc.freeze()
    sys.exit(code)
