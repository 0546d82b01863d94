"""CLI commands, one module each; ``vpp.cli`` registers them on the typer app."""
