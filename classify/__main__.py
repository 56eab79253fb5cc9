"""`python -m classify` is the `classify` command."""

from classify.cli import app

app(prog_name="classify")
