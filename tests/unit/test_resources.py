"""Resource definitions shared by CDK and the emulator: keys, TTL, queues and their DLQs."""

from __future__ import annotations

import pytest

from grabadora.resources import KeyAttribute, build_resources
from grabadora.settings import DevSettings


def test_events_table_is_keyed_by_job_and_numeric_seq_with_ttl(settings: DevSettings) -> None:
    # Given the default settings / When building the resources
    events = build_resources(settings).events
    # Then events: PK job_id (S), SK seq (N, so it sorts numerically), TTL on "ttl"
    assert events.name == settings.events_table
    assert events.partition_key == KeyAttribute("job_id", "S")
    assert events.sort_key == KeyAttribute("seq", "N")
    assert events.ttl_attribute == "ttl"


def test_transcripts_table_is_keyed_by_user_and_transcript(settings: DevSettings) -> None:
    transcripts = build_resources(settings).transcripts
    assert transcripts.partition_key == KeyAttribute("user_id", "S")
    assert transcripts.sort_key == KeyAttribute("transcript_id", "S")


def test_users_table_is_keyed_by_email(settings: DevSettings) -> None:
    users = build_resources(settings).users
    assert users.partition_key == KeyAttribute("email", "S")
    assert users.sort_key is None


def test_jobs_queue_dead_letters_after_three_receives(settings: DevSettings) -> None:
    jobs = build_resources(settings).jobs
    assert jobs.name == settings.jobs_queue
    assert jobs.max_receive_count == 3
    assert jobs.dlq_name and jobs.dlq_name != jobs.name
    assert jobs.dlq_name == f"{settings.jobs_queue}-dlq"


def test_exports_queue_has_its_own_dlq(settings: DevSettings) -> None:
    resources = build_resources(settings)
    assert resources.exports.dlq_name not in (resources.exports.name, resources.jobs.dlq_name)


def test_names_come_from_settings(clean_env: None) -> None:
    # Given custom names (a second stage, say) / Then every resource carries them
    settings = DevSettings(
        _env_file=None, events_table="prod-events", jobs_queue="prod-jobs", bucket="prod-data", max_receives=5
    )
    resources = build_resources(settings)
    assert resources.events.name == "prod-events"
    assert resources.jobs.name == "prod-jobs"
    assert resources.jobs.dlq_name == "prod-jobs-dlq"
    assert resources.jobs.max_receive_count == 5
    assert resources.bucket.name == "prod-data"


def test_collections_list_every_table_and_queue(settings: DevSettings) -> None:
    resources = build_resources(settings)
    assert resources.tables == (
        resources.users, resources.transcripts, resources.events, resources.user_state, resources.live_frames,
    )
    assert resources.queues == (resources.jobs, resources.live, resources.exports)
    assert len({t.logical_id for t in resources.tables}) == 5
    assert len({q.logical_id for q in resources.queues}) == 3


def test_live_frames_are_keyed_by_session_and_seq_and_expire(settings: DevSettings) -> None:
    frames = build_resources(settings).live_frames
    assert (frames.partition_key.name, frames.partition_key.type) == ("live_id", "S")
    assert (frames.sort_key.name, frames.sort_key.type) == ("seq", "N")
    assert frames.ttl_attribute == "ttl"


def test_the_development_keys_are_refused_outside_the_dev_stage() -> None:
    from cryptography.fernet import Fernet
    from pydantic import ValidationError

    from grabadora.settings import DevSettings

    # Given the prod stage with the built-in JWT key / Then settings refuse to load, naming it
    with pytest.raises(ValidationError, match="GRABADORA_JWT_SECRET_KEY"):
        DevSettings(stage="prod", secrets_key=Fernet.generate_key().decode())
    with pytest.raises(ValidationError, match="GRABADORA_SECRETS_KEY"):
        DevSettings(stage="prod", jwt_secret_key="a-real-secret-of-enough-length-0123456789")
    # And with both set it loads
    DevSettings(stage="prod", jwt_secret_key="a-real-secret-of-enough-length-0123456789", secrets_key=Fernet.generate_key().decode())


def test_s3_can_point_elsewhere_than_the_other_services(monkeypatch: pytest.MonkeyPatch) -> None:
    from grabadora import aws
    from grabadora.settings import get_settings

    # Given LocalStack for everything and MinIO for S3
    monkeypatch.setenv("GRABADORA_AWS_ENDPOINT_URL", "http://localstack:4566")
    monkeypatch.setenv("GRABADORA_S3_ENDPOINT_URL", "http://minio:9000")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    get_settings.cache_clear()
    aws.reset_clients()
    try:
        # Then S3 goes to MinIO and SQS to LocalStack (building clients makes no request)
        assert aws.client("s3").meta.endpoint_url == "http://minio:9000"
        assert aws.client("sqs").meta.endpoint_url == "http://localstack:4566"
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
        aws.reset_clients()
