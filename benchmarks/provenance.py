"""What every results file names: the commit of the checkout that produced it."""

from __future__ import annotations

import subprocess
from pathlib import Path


def git_commit() -> str:
    """The checkout's short commit, which each results row names."""
    here = Path(__file__).resolve().parent
    return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=here).stdout.strip()
