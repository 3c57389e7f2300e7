"""Report formats over the results tables: the run's files (CSV tables, ``run.json``) and the HTML page.

The terminal's tables are the CLI's (``tuner/cli/printers.py``); nothing here imports rich.
"""
