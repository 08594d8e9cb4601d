"""The roof: the `leadops` command (Typer) and `leadops deploy`. May import every layer."""
