"""The compatibility report: the JSON document's schema and rules (document.py), the
one-page HTML of a run (page.py), the matrix across machines (matrix.py) and the diff
between two runs (diff.py).  `python -m reports --help` lists the commands.

Generated reports are written beside this code (apu-*.json / *.html) and not committed.
"""
