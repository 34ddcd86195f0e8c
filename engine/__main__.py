"""`python -m engine` is the `move37` command."""

from engine.cli import main

main()
