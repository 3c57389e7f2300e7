"""``cachetune policies``: what each policy is, its parameters, and when it wins."""

import typer
from rich.table import Table

from tuner.cli.console import stdout
from tuner.policies import POLICIES


def policies_command() -> None:
    """List every policy with its parameters (default and search range) and when it wins."""
    view = Table(title="Eviction policies", title_justify="left")
    view.add_column("policy")
    view.add_column("parameters (default, search range)")
    view.add_column("when it wins")
    for policy in POLICIES.values():
        params = "\n".join(
            f"{param.name}={param.default} [{param.low} … {param.high}{', log' if param.log else ''}]: {param.help}"
            for param in policy.params
        )
        view.add_row(policy.name, params or "—", policy.summary)
    stdout.print(view)


def register(app: typer.Typer) -> None:
    app.command("policies")(policies_command)
