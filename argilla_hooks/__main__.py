"""`python -m argilla_hooks` runs the `hooks` CLI."""

from argilla_hooks.cli.app import main

main()
