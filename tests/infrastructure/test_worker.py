"""Worker: GPU capacity provider, 0..N scaling on queue depth, task protection, exact task-role actions."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Capture, Match

pytestmark = pytest.mark.infrastructure


def test_gpu_instances_come_from_an_asg_capacity_provider_with_managed_scaling(synth, template) -> None:
    template.has_resource_properties(
        "AWS::EC2::LaunchTemplate",
        {"LaunchTemplateData": Match.object_like({
            "InstanceType": "g5.xlarge",
            "MetadataOptions": {"HttpTokens": "required"},
            "ImageId": {"Ref": Match.string_like_regexp("amazonlinux2023gpu")},  # the AL2023 GPU ECS AMI, an SSM parameter
            "BlockDeviceMappings": [Match.object_like({"Ebs": Match.object_like({"Encrypted": True, "VolumeType": "gp3"})})],
        })},
    )
    template.has_resource_properties(
        "AWS::AutoScaling::AutoScalingGroup",
        {"MinSize": "0", "MaxSize": "2", "NewInstancesProtectedFromScaleIn": True},
    )
    template.has_resource_properties(
        "AWS::ECS::CapacityProvider",
        {"AutoScalingGroupProvider": {
            "AutoScalingGroupArn": Match.any_value(),
            "ManagedScaling": Match.object_like({"Status": "ENABLED", "TargetCapacity": 100}),
            "ManagedTerminationProtection": "ENABLED",
        }},
    )
    template.has_resource_properties(
        "AWS::ECS::Service",
        {"DesiredCount": 0, "CapacityProviderStrategy": [{"CapacityProvider": Match.any_value(), "Weight": 1}]},
    )


def test_the_task_asks_for_one_gpu_and_the_image_is_built_from_the_dockerfile(synth, template) -> None:
    template.has_resource_properties(
        "AWS::ECS::TaskDefinition",
        {"ContainerDefinitions": [Match.object_like({
            "ResourceRequirements": [{"Type": "GPU", "Value": "1"}],
            "Environment": Match.array_with([{"Name": "GRABADORA_DEVICE", "Value": "cuda"}]),
            "Secrets": Match.absent(),  # the worker needs no key (tests/infrastructure/test_first_deploy.py)
        })]},
    )
    assets = (synth.outdir / "Grabadora.assets.json").read_text()
    assert '"dockerFile": "gpu_container/Dockerfile"' in assets
    assert '"GRABADORA_WHISPER_MODEL": "base"' in assets
    assert '"GRABADORA_SPEAKERS": "false"' in assets  # no torch in the image unless -c speakers=true


def test_service_scales_from_zero_on_queue_depth(synth, template) -> None:
    template.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalableTarget",
        {"MinCapacity": 0, "MaxCapacity": 2, "ScalableDimension": "ecs:service:DesiredCount"},
    )
    steps = Capture()
    template.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        {"PolicyType": "StepScaling", "StepScalingPolicyConfiguration": {
            "AdjustmentType": "ExactCapacity", "Cooldown": 120,
            "StepAdjustments": steps,
        }},
    )
    # The scaling alarms watch waiting + in-flight messages of the jobs queue (and of the live
    # queue: tests/infrastructure/test_live.py)
    jobs = synth.logical_id(synth.stack.data.jobs)
    for metric_name in ("ApproximateNumberOfMessagesVisible", "ApproximateNumberOfMessagesNotVisible"):
        template.has_resource_properties(
            "AWS::CloudWatch::Alarm",
            {
                "AlarmDescription": Match.string_like_regexp("threshold scaling alarm"),
                "Metrics": Match.array_with([
                    Match.object_like({"Expression": "visible + inflight + liveVisible + liveInflight"}),
                    Match.object_like({"MetricStat": Match.object_like({"Metric": {
                        "Namespace": "AWS/SQS", "MetricName": metric_name,
                        "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [jobs, "QueueName"]}}],
                    }})}),
                ]),
            },
        )
    policies = {
        tuple((s.get("MetricIntervalLowerBound"), s.get("MetricIntervalUpperBound"), s["ScalingAdjustment"])
              for s in p["Properties"]["StepScalingPolicyConfiguration"]["StepAdjustments"])
        for p in synth.resources("AWS::ApplicationAutoScaling::ScalingPolicy").values()
    }
    # Nothing waiting or running → 0 tasks; anything → at least one
    assert ((None, 0, 0),) in policies
    assert any(step[2] == 1 for policy in policies for step in policy)


def test_task_role_gets_exactly_what_the_worker_does(synth, template) -> None:
    role = synth.stack.worker.task_definition.task_role
    assert synth.role_actions(role) == {
        # jobs queue and its DLQ (the idle sweep); sending: a job ending queues its user's next (fair turns)
        "sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueUrl", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
        "sqs:SendMessage",
        # transcripts, events, user_state
        "dynamodb:BatchGetItem", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:Query", "dynamodb:GetItem",
        "dynamodb:Scan", "dynamodb:ConditionCheckItem", "dynamodb:DescribeTable",
        "dynamodb:BatchWriteItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
        # audio/* read, transcripts/* put and delete
        "s3:GetObject*", "s3:GetBucket*", "s3:List*",
        "s3:PutObject", "s3:PutObjectLegalHold", "s3:PutObjectRetention", "s3:PutObjectTagging", "s3:PutObjectVersionTagging", "s3:Abort*",
        "s3:DeleteObject*",
        "ecs:UpdateTaskProtection", "ecs:GetTaskProtection",
        # no cloudwatch:PutMetricData: the worker's metrics are EMF lines in its logs
        "iot:Publish",
    }
    role_id = synth.logical_id(role)
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "Roles": Match.array_with([{"Ref": role_id}]),
            "PolicyDocument": {"Statement": Match.array_with([
                Match.object_like({"Action": ["ecs:UpdateTaskProtection", "ecs:GetTaskProtection"], "Resource": Match.any_value()}),
            ])},
        },
    )
    bucket_arn = str({"Fn::GetAtt": [synth.logical_id(synth.stack.data.bucket), "Arn"]})
    statements = [s for p in synth.resources("AWS::IAM::Policy").values() if {"Ref": role_id} in p["Properties"]["Roles"]
                  for s in p["Properties"]["PolicyDocument"]["Statement"]]
    put = next(s for s in statements if "s3:PutObject" in s["Action"])
    assert bucket_arn in str(put["Resource"]) and "/transcripts/*" in str(put["Resource"])
    publish = next(s for s in statements if s["Action"] == "iot:Publish")
    assert str(publish["Resource"]).endswith(":topic/grabadora/*/jobs/*/events']]}")
    read = next(s for s in statements if "s3:GetObject*" in s["Action"])
    assert "/audio/*" in str(read["Resource"])


def test_integrators_can_subscribe_to_job_topics(synth, template) -> None:
    role_id = synth.logical_id(synth.stack.realtime.integrator_role)
    assert synth.role_actions(synth.stack.realtime.integrator_role) == {"iot:Connect", "iot:Subscribe", "iot:Receive"}
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "Roles": [{"Ref": role_id}],
            "PolicyDocument": {"Statement": Match.array_with([
                Match.object_like({"Action": "iot:Subscribe", "Sid": "Subscribe"}),
                Match.object_like({"Action": "iot:Receive", "Sid": "Receive"}),
            ])},
        },
    )


def test_fair_turns_give_a_user_as_many_queued_jobs_as_there_are_workers(synth, template) -> None:
    # The API (at submit) and the worker (as a job ends) both take turns with the same number;
    # the jobs queue stays a standard queue, made fair by the MessageGroupId the API sends.
    turns = {"Name": "GRABADORA_JOBS_QUEUED_PER_USER", "Value": str(synth.stack.config.worker_max_tasks)}
    template.has_resource_properties(
        "AWS::ECS::TaskDefinition", {"ContainerDefinitions": [Match.object_like({"Environment": Match.array_with([turns])})]},
    )
    api = synth.json["Resources"][synth.logical_id(synth.stack.api.function)]["Properties"]
    assert api["Environment"]["Variables"]["GRABADORA_JOBS_QUEUED_PER_USER"] == turns["Value"]
    jobs = synth.json["Resources"][synth.logical_id(synth.stack.data.jobs)]["Properties"]
    assert "FifoQueue" not in jobs


def test_speakers_in_the_worker_image_is_a_context_switch() -> None:
    import aws_cdk as cdk

    from infra_cdk.config import DeployConfig

    assert not DeployConfig.from_context(cdk.App()).speakers
    assert DeployConfig.from_context(cdk.App(context={"speakers": "true"})).speakers
    assert DeployConfig.from_context(cdk.App(context={"speakers": True})).speakers


def test_the_api_and_the_v1_function_may_start_the_sleeping_worker_service(synth, template) -> None:
    worker = synth.stack.worker
    service = synth.logical_id(worker.service)
    for fn in (synth.stack.api.function, synth.stack.stream.function):
        env = synth.json["Resources"][synth.logical_id(fn)]["Properties"]["Environment"]["Variables"]
        # Where the service is, and the minimum its scaling target goes back to after the hold
        assert env["GRABADORA_WORKER_CLUSTER"] == {"Ref": synth.logical_id(worker.cluster)}
        assert env["GRABADORA_WORKER_SERVICE"] == {"Fn::GetAtt": [service, "Name"]}
        assert env["GRABADORA_WORKER_MIN_TASKS"] == "0"
        statements = [s for p in synth.resources("AWS::IAM::Policy").values()
                      if {"Ref": synth.logical_id(fn.role)} in p["Properties"]["Roles"]
                      for s in p["Properties"]["PolicyDocument"]["Statement"]]
        ecs = next(s for s in statements if s.get("Sid") == "WorkerNudgeService")
        # This service only: no other service's count can be changed
        assert sorted(ecs["Action"]) == ["ecs:DescribeServices", "ecs:UpdateService"] and ecs["Resource"] == {"Ref": service}
        scaling = next(s for s in statements if s.get("Sid") == "WorkerNudgeScaling")
        assert sorted(scaling["Action"]) == ["application-autoscaling:PutScheduledAction", "application-autoscaling:RegisterScalableTarget"]
        assert scaling["Condition"] == {"StringEquals": {
            "application-autoscaling:service-namespace": "ecs",
            "application-autoscaling:scalable-dimension": "ecs:service:DesiredCount",
        }}
    # The worker itself never needs it: it runs when there is work
    assert not synth.role_actions(worker.task_definition.task_role) & {"ecs:UpdateService", "application-autoscaling:RegisterScalableTarget"}
