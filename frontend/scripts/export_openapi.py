"""Write the API's OpenAPI schema (functions.api.app.create_app().openapi()) to a file.

Run from frontend/: `../.venv/bin/python scripts/export_openapi.py openapi.json` (npm run gen:api).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def schema() -> dict:
    from functions.api.app import create_app

    return create_app().openapi()


def schema_text() -> str:
    return json.dumps(schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "openapi.json")
    target.write_text(schema_text(), encoding="utf-8")
    print(f"wrote {target}")
