"""CLI command modules. Each module here defines `register(app: typer.Typer) -> None`;
`engine.cli` discovers and registers them all, so adding a command is adding a file."""
