"""`cdk synth` entry point (`cdk.json`: `python -m infra_cdk`). Offline: no lookups, no Docker."""

from __future__ import annotations

from infra_cdk.app import build_app


def main() -> None:
    build_app().synth()


if __name__ == "__main__":
    main()
