"""The project's tools behind build.py: one module per concern (see cli.py for the commands)."""
