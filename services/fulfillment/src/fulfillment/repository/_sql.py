"""Helpers of the repository modules (not for use outside the repository)."""

from __future__ import annotations

import json
from typing import Any


def dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def model_json(model: Any) -> str:
    return str(model.model_dump_json())
