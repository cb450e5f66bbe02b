"""The project's Kedro commands: ``kedro embed`` and a ``kedro run`` with one-line errors.

Kedro loads the click group ``cli`` from ``<package>.cli`` and adds its
commands to ``kedro`` (overriding Kedro's own of the same name):

- ``kedro embed ...`` is ``l3-kedro embed ...`` (:mod:`l3_kedro.commands`);
- ``kedro run`` is Kedro's own ``run``, same options, except that an error
  of the project (:class:`~l3_kedro.errors.L3KedroError`: a bad parameter,
  a missing or unreadable file, an output that cannot be written) ends with
  one ``Error: ...`` line and exit status 1 instead of a long traceback;
  ``kedro run --debug`` keeps the traceback. Other errors keep Kedro's.
"""

from __future__ import annotations

import click
from kedro.framework.cli.project import run as kedro_run

from l3_kedro.commands import main
from l3_kedro.errors import L3KedroError

__all__ = ["cli", "project_error", "run"]


@click.group(name="l3_kedro")
def cli() -> None:
    """l3_kedro commands."""


@cli.command(
    name="embed",
    context_settings={"ignore_unknown_options": True, "help_option_names": []},
    add_help_option=False,
)
@click.argument("arguments", nargs=-1, type=click.UNPROCESSED)
def embed(arguments: tuple[str, ...]) -> None:
    """Embed audio files with an L3 model (see `l3-kedro embed --help`)."""
    raise SystemExit(main(["embed", *arguments]))


@cli.command(
    name="run",
    params=[
        *kedro_run.params,
        click.Option(["--debug"], is_flag=True, help="Show the traceback of a project error."),
    ],
    help=kedro_run.help,
)
@click.pass_context
def run(ctx: click.Context, debug: bool, **options: object) -> object:
    """Kedro's ``run``; a project error ends with one line and exit status 1."""
    try:
        return ctx.invoke(kedro_run.callback, **options)
    except Exception as exc:
        error = project_error(exc)
        if error is None or debug:
            raise
        click.secho(f"Error: {error}", fg="red", err=True)
        click.echo("(kedro run --debug shows the traceback.)", err=True)
        raise SystemExit(1) from None


def project_error(exc: BaseException) -> L3KedroError | None:
    """The project error that caused `exc` (itself, its cause or context), if any."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, L3KedroError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None
