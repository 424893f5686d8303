"""Stage-qualified resource names, independent of the machine that synthesises the stack."""

from __future__ import annotations

import pytest

from grabadora.resources import build_stage_resources


def test_names_derive_from_the_stage_and_ignore_grabadora_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRABADORA_USERS_TABLE", "someones-local-users")
    monkeypatch.setenv("GRABADORA_JOBS_QUEUE", "someones-local-jobs")
    monkeypatch.setenv("GRABADORA_VISIBILITY_TIMEOUT_SECONDS", "7")
    prod = build_stage_resources("prod")
    assert prod.users.name == "grabadora-prod-users"
    assert prod.jobs.name == "grabadora-prod-jobs" and prod.jobs.dlq_name == "grabadora-prod-jobs-dlq"
    assert prod.jobs.visibility_timeout_seconds == 120  # the default, not the machine's 7
    names = {t.name for t in prod.tables} | {q.name for q in prod.queues} | {q.dlq_name for q in prod.queues}
    assert all(n.startswith("grabadora-prod-") for n in names)
    staging = build_stage_resources("staging")
    assert not names & ({t.name for t in staging.tables} | {q.name for q in staging.queues})
