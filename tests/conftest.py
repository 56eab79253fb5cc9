"""Shared fixtures: paths to the repo's seeds and, when present, the read-only ../shared data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def seeds_gold() -> dict:
    gold = json.loads((SEEDS / "GOLD.json").read_text(encoding="utf-8"))
    gold.pop("about")
    return gold


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA}: these tests need ../shared/data beside the repo")
    return SHARED_DATA
