"""Use cases: what the API and CLI do, written once against the adapters."""
