"""``python -m tuner`` runs the ``cachetune`` command line."""

from tuner.cli import main

main()
