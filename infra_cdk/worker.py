"""Worker: ECS on GPU EC2 instances through a capacity provider, scaled 0..N on the jobs and live queues."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra_cdk.common import Shared
from infra_cdk.config import ASSET_EXCLUDE, REPO_ROOT, DeployConfig
from infra_cdk.data import Data
from infra_cdk.nag import ANY_RESOURCE, S3_READ_ACTIONS, ref, s3_grant_findings, suppress

# The business metrics' namespace (grabadora/metrics.py writes them as EMF lines on stdout, which
# the awslogs driver ships: the task needs no cloudwatch:PutMetricData).
METRICS_NAMESPACE = "Grabadora"


class Worker(Construct):
    def __init__(self, scope: Construct, id: str, *, data: Data, shared: Shared, config: DeployConfig, environment: dict[str, str]) -> None:
        super().__init__(scope, id)
        self._min_tasks = config.worker_min_tasks
        # Public subnets, no NAT gateway (about 32 USD a month each): instances take public IPs,
        # accept no inbound traffic, and reach S3/DynamoDB through free gateway endpoints.
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            max_azs=2,
            nat_gateways=0,
            subnet_configuration=[ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24)],
            gateway_endpoints={
                "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3),
                "DynamoDB": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.DYNAMODB),
            },
        )
        self.vpc.add_flow_log("FlowLog", traffic_type=ec2.FlowLogTrafficType.REJECT)
        security_group = ec2.SecurityGroup(self, "InstanceSg", vpc=self.vpc, allow_all_outbound=True, description="GPU workers: no inbound")

        self.cluster = ecs.Cluster(
            self, "Cluster", vpc=self.vpc, container_insights_v2=ecs.ContainerInsights.ENABLED
        )
        # The Amazon Linux 2023 GPU-optimised ECS AMI (NVIDIA driver, container toolkit, ECS agent)
        # comes from its public SSM parameter at deploy time (a CloudFormation parameter, not a
        # synth-time lookup). Amazon Linux 2's (the one before) ends its support on 2026-06-30.
        launch_template = ec2.LaunchTemplate(
            self,
            "LaunchTemplate",
            instance_type=ec2.InstanceType(config.worker_instance_type),
            machine_image=ecs.EcsOptimizedImage.amazon_linux2023(ecs.AmiHardwareType.GPU),
            security_group=security_group,
            associate_public_ip_address=True,
            require_imdsv2=True,
            role=iam.Role(self, "InstanceRole", assumed_by=iam.ServicePrincipal("ec2.amazonaws.com")),
            user_data=ec2.UserData.for_linux(),
            block_devices=[
                ec2.BlockDevice(
                    device_name="/dev/xvda",
                    volume=ec2.BlockDeviceVolume.ebs(100, volume_type=ec2.EbsDeviceVolumeType.GP3, encrypted=True),
                )
            ],
        )
        self.asg = autoscaling.AutoScalingGroup(
            self,
            "Asg",
            vpc=self.vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC),
            launch_template=launch_template,
            min_capacity=0,
            max_capacity=config.worker_max_instances,
            new_instances_protected_from_scale_in=True,  # managed termination protection
        )
        self.capacity_provider = ecs.AsgCapacityProvider(
            self,
            "CapacityProvider",
            auto_scaling_group=self.asg,
            enable_managed_scaling=True,
            enable_managed_termination_protection=True,
            target_capacity_percent=100,
            machine_image_type=ecs.MachineImageType.AMAZON_LINUX_2,
        )
        self.cluster.add_asg_capacity_provider(self.capacity_provider)

        self.task_definition = ecs.Ec2TaskDefinition(
            # Bridge mode: the task reaches AWS through its instance's public IP (awsvpc tasks on
            # EC2 get no public IP, and there is no NAT gateway).
            self, "TaskDefinition", network_mode=ecs.NetworkMode.BRIDGE
        )
        log_group = logs.LogGroup(self, "Logs", retention=logs.RetentionDays.ONE_MONTH, removal_policy=cdk.RemovalPolicy.DESTROY)
        self.container = self.task_definition.add_container(
            "worker",
            # Built by `cdk deploy` (not by synth) from the repository root.
            image=ecs.ContainerImage.from_asset(
                str(REPO_ROOT),
                file="gpu_container/Dockerfile",
                build_args={"GRABADORA_WHISPER_MODEL": config.whisper_model, "GRABADORA_SPEAKERS": str(config.speakers).lower()},
                exclude=ASSET_EXCLUDE,
                # g5/g6 are x86_64: built on an arm64 laptop without this the image would not
                # start there ("exec format error"). Docker builds it with emulation if needed.
                platform=ecr_assets.Platform.LINUX_AMD64,
            ),
            gpu_count=1,
            memory_reservation_mib=12 * 1024,
            logging=ecs.LogDrivers.aws_logs(stream_prefix="worker", log_group=log_group),
            environment={
                **environment,
                "GRABADORA_DEVICE": "cuda",
                # Live events go to IoT once its data endpoint is known (context iotEndpoint).
                "GRABADORA_IOT_PUBLISH": "true" if config.iot_endpoint else "false",
                **({"GRABADORA_IOT_ENDPOINT": config.iot_endpoint} if config.iot_endpoint else {}),
            },
            stop_timeout=cdk.Duration.seconds(120),
        )

        self.service = ecs.Ec2Service(
            self,
            "Service",
            cluster=self.cluster,
            task_definition=self.task_definition,
            desired_count=config.worker_min_tasks,
            min_healthy_percent=0,
            max_healthy_percent=100,
            capacity_provider_strategies=[ecs.CapacityProviderStrategy(capacity_provider=self.capacity_provider.capacity_provider_name, weight=1)],
            circuit_breaker=ecs.DeploymentCircuitBreaker(rollback=True),
        )

        # workerMinTasks..N on queue depth: waiting + in-flight messages of the jobs queue and of
        # the live queue (a live session holds its message in flight until it ends), so the
        # service only goes to its minimum when nothing is queued and nothing is running, and a
        # live session waiting starts a worker. A running task also holds ECS task scale-in
        # protection, so scaling in never stops a job or a session midway.
        minute = cdk.Duration.minutes(1)
        self.queue_depth = cloudwatch.MathExpression(
            expression="visible + inflight + liveVisible + liveInflight",
            using_metrics={
                "visible": data.jobs.metric_approximate_number_of_messages_visible(period=minute, statistic="Maximum"),
                "inflight": data.jobs.metric_approximate_number_of_messages_not_visible(period=minute, statistic="Maximum"),
                "liveVisible": data.live.metric_approximate_number_of_messages_visible(period=minute, statistic="Maximum"),
                "liveInflight": data.live.metric_approximate_number_of_messages_not_visible(period=minute, statistic="Maximum"),
            },
            label="jobs and live sessions waiting + running",
            period=minute,
        )
        low = config.worker_min_tasks
        self.scaling = scaling = self.service.auto_scale_task_count(min_capacity=low, max_capacity=config.worker_max_tasks)
        scaling.scale_on_metric(
            "QueueDepth",
            metric=self.queue_depth,
            adjustment_type=appscaling.AdjustmentType.EXACT_CAPACITY,
            scaling_steps=[
                appscaling.ScalingInterval(upper=0.5, change=low),  # nothing queued or running: the minimum (0 by default)
                appscaling.ScalingInterval(lower=0.5, upper=4, change=max(1, low)),
                appscaling.ScalingInterval(lower=4, change=config.worker_max_tasks),
            ],
            cooldown=cdk.Duration.minutes(2),
            evaluation_periods=1,
        )

        role = self.task_definition.task_role
        data.jobs.grant_consume_messages(role)
        data.jobs.grant_send_messages(role)  # fair turns: a job ending queues its user's next held job
        data.jobs_dlq.grant_consume_messages(role)  # the idle sweep fails jobs whose messages died
        data.live.grant_consume_messages(role)  # live sessions, polled beside the jobs queue
        data.live_dlq.grant_consume_messages(role)  # the same sweep for sessions whose messages died
        data.live_frames.grant_read_write_data(role)  # Query the frames in seq order, BatchWriteItem-delete them
        data.transcripts.grant_read_write_data(role)
        data.events.grant_read_write_data(role)
        data.user_state.grant_read_write_data(role)  # monthly usage counter
        data.bucket.grant_read(role, "audio/*")
        data.bucket.grant_put(role, "transcripts/*")
        data.bucket.grant_put(role, "audio/*")  # a live session's recording, stored when it stops
        data.bucket.grant_delete(role, "transcripts/*")  # a job deleted meanwhile: remove what it stored
        # A long job's checkpoints: written after each piece, read back by a retry, deleted at the end.
        data.bucket.grant_read(role, "checkpoints/*")
        data.bucket.grant_put(role, "checkpoints/*")
        data.bucket.grant_delete(role, "checkpoints/*")
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="TaskScaleInProtection",
                actions=["ecs:UpdateTaskProtection", "ecs:GetTaskProtection"],
                resources=[cdk.Stack.of(self).format_arn(service="ecs", resource="task", resource_name=f"{self.cluster.cluster_name}/*")],
            )
        )
        scoped = "Scoped wildcards: object prefixes of any user's jobs, this cluster's tasks."
        suppress(role, {
            **s3_grant_findings(data.bucket, ["audio/*", "transcripts/*", "checkpoints/*"], [*S3_READ_ACTIONS, "s3:DeleteObject*", "s3:Abort*"], scoped),
            f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:task/{ref(self.cluster, 'Ref')[:-5]}>/*]": scoped,
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iot:<AWS::Region>:<AWS::AccountId>:topic/grabadora/*/jobs/*/events]":
            "The worker publishes on every user's job topics (grabadora/{user}/jobs/{job}/events).",
        })
        suppress(self.task_definition.obtain_execution_role(), {ANY_RESOURCE: "ecr:GetAuthorizationToken has no resource type (image pull)."})
        suppress(self.node.find_child("InstanceRole"), {
            ANY_RESOURCE: "CDK's ECS instance policy: ecs:DiscoverPollEndpoint and friends have no resource type.",
            "AwsSolutions-IAM5[Action::ecs:Submit*]": "CDK's ECS instance policy, scoped to this cluster.",
        })

        suppress(
            self.asg,
            {"AwsSolutions-AS3": "Scaling is driven by the ECS capacity provider; its events are visible in ECS and CloudTrail."},
        )
        suppress(
            self,
            {
                "AwsSolutions-ECS2": "Environment variables carry only resource names and tuning; the worker needs no secret.",
            },
        )

    def allow_nudge(self, fn: lambda_.Function) -> None:
        """Let `fn` start this service when it enqueues work onto it at zero tasks.

        The SQS metrics behind the queue-depth alarm arrive a minute or more late, so the API does
        not wait for them (grabadora/adapters/worker_service.py): UpdateService for a task now,
        and the scalable target's minimum held at one, released by a scheduled action, so the
        alarm's scale-in step cannot undo it before the metrics show the job.
        """
        fn.add_environment("GRABADORA_WORKER_CLUSTER", self.cluster.cluster_name)
        fn.add_environment("GRABADORA_WORKER_SERVICE", self.service.service_name)
        fn.add_environment("GRABADORA_WORKER_MIN_TASKS", str(self._min_tasks))
        fn.add_to_role_policy(iam.PolicyStatement(
            sid="WorkerNudgeService", actions=["ecs:DescribeServices", "ecs:UpdateService"], resources=[self.service.service_arn],
        ))
        # Application Auto Scaling names a target by a generated id: scoped instead by its
        # condition keys to ECS services' desired counts.
        fn.add_to_role_policy(iam.PolicyStatement(
            sid="WorkerNudgeScaling",
            actions=["application-autoscaling:RegisterScalableTarget", "application-autoscaling:PutScheduledAction"],
            resources=["*"],
            conditions={"StringEquals": {
                "application-autoscaling:service-namespace": "ecs",
                "application-autoscaling:scalable-dimension": "ecs:service:DesiredCount",
            }},
        ))
