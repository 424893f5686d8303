"""Monitoring: one dashboard and the alarms that mean a person should look."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from infra_cdk.api import Api
from infra_cdk.config import DeployConfig
from infra_cdk.data import Data
from grabadora.metrics import SERVICE, SPECS
from infra_cdk.worker import METRICS_NAMESPACE, Worker


def business_metric(name: str, statistic: str, period: cdk.Duration | None = None, label: str | None = None) -> cloudwatch.Metric:
    """One of grabadora/metrics.py's figures as CloudWatch extracts it from the EMF lines
    (no label for an alarm's metric: a labelled one is rendered as metric math)."""
    if name not in SPECS:
        raise KeyError(f"{name} is not in grabadora.metrics.SPECS")
    return cloudwatch.Metric(
        namespace=METRICS_NAMESPACE, metric_name=name, dimensions_map={"service": SERVICE},
        statistic=statistic, period=period or cdk.Duration.minutes(5), label=label,
    )


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        data: Data,
        worker: Worker,
        functions: dict[str, lambda_.IFunction],
        config: DeployConfig,
        api: Api | None = None,
    ) -> None:
        super().__init__(scope, id)
        self.topic = sns.Topic(
            self,
            "AlarmTopic",
            display_name="Grabadora alarms",
            enforce_ssl=True,
            master_key=kms.Alias.from_alias_name(self, "SnsKey", "alias/aws/sns"),
        )
        if config.alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(config.alarm_email))
        action = cw_actions.SnsAction(self.topic)
        self.alarms: dict[str, cloudwatch.Alarm] = {}

        def alarm(name: str, metric: cloudwatch.IMetric, threshold: float, description: str,
                  comparison=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD, evaluation_periods: int = 1):  # noqa: ANN001, ANN202
            a = cloudwatch.Alarm(
                self,
                name,
                metric=metric,
                threshold=threshold,
                evaluation_periods=evaluation_periods,
                comparison_operator=comparison,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                alarm_description=description,
            )
            a.add_alarm_action(action)
            self.alarms[name] = a
            return a

        five = cdk.Duration.minutes(5)

        def dead_letters(queue) -> cloudwatch.MathExpression:  # noqa: ANN001 - an sqs.Queue
            # Waiting + in flight: a dead letter that a worker's sweep holds (while it fails the
            # job, before deleting it) is not visible, and would hide from a visible-only alarm.
            return cloudwatch.MathExpression(
                expression="visible + inflight",
                using_metrics={
                    "visible": queue.metric_approximate_number_of_messages_visible(period=five, statistic="Maximum"),
                    "inflight": queue.metric_approximate_number_of_messages_not_visible(period=five, statistic="Maximum"),
                },
                label="dead letters (waiting + in flight)",
                period=five,
            )

        alarm("JobsDlqDepth", dead_letters(data.jobs_dlq), 1,
              "A transcription job failed every attempt and reached the jobs DLQ (an idle worker fails the job and deletes it).")
        alarm("LiveDlqDepth", dead_letters(data.live_dlq), 1,
              "A live session's message failed every delivery (its worker died each time) and reached the live DLQ.")
        alarm("ExportsDlqDepth", dead_letters(data.exports_dlq), 1,
              "An export (Notion/Trello/webhook) failed every attempt and sits in the exports DLQ.")
        alarm("OldestJobAge", data.jobs.metric_approximate_age_of_oldest_message(period=five, statistic="Maximum"),
              config.oldest_job_alarm_seconds, "Jobs wait too long: no worker capacity (GPU quota? instance start failing?).")
        for name, fn in functions.items():
            alarm(f"{name}Errors", fn.metric_errors(period=five, statistic="Sum"), 1, f"The {name} Lambda raised errors.")
            alarm(f"{name}Throttles", fn.metric_throttles(period=five, statistic="Sum"), 1,
                  f"The {name} Lambda was throttled (reserved or account concurrency exhausted).")
        if api is not None:
            alarm("Api5xx", api.rest_api.metric_server_error(period=five, statistic="Sum"), 5,
                  "API Gateway answered 5xx (Lambda errors, timeouts at 29 s, or throttling by the account).")
        # DynamoDB throttling on any table (on-demand tables throttle too, past their warm
        # throughput or the account's table limits). Ten metrics: the most one alarm may use.
        throttles = {}
        for i, (logical_id, table) in enumerate(data.tables.items()):
            throttles[f"r{i}"] = table.metric("ReadThrottleEvents", period=five, statistic="Sum")
            throttles[f"w{i}"] = table.metric("WriteThrottleEvents", period=five, statistic="Sum")
        alarm("DynamoDbThrottles",
              cloudwatch.MathExpression(expression=" + ".join(throttles), using_metrics=throttles, label="throttled requests, all tables", period=five),
              1, "DynamoDB throttled reads or writes on a Grabadora table.")
        # The business figures (grabadora/metrics.py; EMF from the worker, the relay and the API).
        rtf_p90 = business_metric("RealTimeFactor", "p90")
        first_word_p90 = business_metric("FirstWordLatency", "p90")
        alarm("WorkerRealTimeFactor", rtf_p90, config.rtf_alarm_threshold,
              "Transcription is slower than expected (p90 of processing seconds / audio seconds): GPU not used? wrong profile?",
              comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD, evaluation_periods=2)
        alarm("FirstWordLatency", first_word_p90, config.first_word_alarm_seconds,
              "Users wait too long for a job's first words once a worker starts it (p90): model loading per job? a slow GPU or profile?",
              comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD, evaluation_periods=2)
        alarm("JobsFailed", business_metric("JobsFailed", "Sum", cdk.Duration.minutes(15)), config.failed_jobs_alarm_count,
              "Many jobs or live sessions ended failed in 15 minutes (bad input included: read the transcripts' errors).")

        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name="grabadora")
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(title="Jobs queue", left=[
                data.jobs.metric_approximate_number_of_messages_visible(period=cdk.Duration.minutes(1)),
                data.jobs.metric_approximate_number_of_messages_not_visible(period=cdk.Duration.minutes(1)),
            ], right=[data.jobs.metric_approximate_age_of_oldest_message(period=cdk.Duration.minutes(1))]),
            cloudwatch.GraphWidget(title="Live sessions queue", left=[
                data.live.metric_approximate_number_of_messages_visible(period=cdk.Duration.minutes(1)),
                data.live.metric_approximate_number_of_messages_not_visible(period=cdk.Duration.minutes(1)),
            ], right=[data.live.metric_approximate_age_of_oldest_message(period=cdk.Duration.minutes(1))]),
            cloudwatch.GraphWidget(title="Dead letters", left=[
                data.jobs_dlq.metric_approximate_number_of_messages_visible(),
                data.live_dlq.metric_approximate_number_of_messages_visible(),
                data.exports_dlq.metric_approximate_number_of_messages_visible(),
            ]),
            cloudwatch.GraphWidget(title="Workers", left=[
                worker.service.metric_cpu_utilization(), worker.service.metric_memory_utilization(),
            ]),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(title="Jobs (per 5 min)", left=[
                business_metric(name, "Sum", label=label) for name, label in (
                    ("JobsSubmitted", "submitted"), ("JobsStarted", "started"), ("JobsCompleted", "completed"), ("JobsFailed", "failed"))
            ], right=[business_metric("AudioSeconds", "Sum", label="audio seconds transcribed")]),
            cloudwatch.GraphWidget(title="Real-time factor (processing s / audio s)", left=[
                business_metric("RealTimeFactor", "p50", label="p50"), business_metric("RealTimeFactor", "p90", label="p90"),
            ], left_annotations=[cloudwatch.HorizontalAnnotation(value=config.rtf_alarm_threshold, label="alarm (p90)")]),
            cloudwatch.GraphWidget(title="First words after a job starts (s)", left=[
                business_metric("FirstWordLatency", "p50", label="p50"), business_metric("FirstWordLatency", "p90", label="p90"),
            ], left_annotations=[cloudwatch.HorizontalAnnotation(value=config.first_word_alarm_seconds, label="alarm (p90)")]),
            cloudwatch.GraphWidget(title="Queue wait: submitted to started (s)", left=[
                business_metric("QueueWait", "p50", label="p50"), business_metric("QueueWait", "p90", label="p90"),
                business_metric("QueueWait", "Maximum", label="max"),
            ]),
            cloudwatch.GraphWidget(title="Relay streams", left=[
                business_metric("StreamsOpened", "Sum", label="streams opened"),
                business_metric("EventsRelayed", "Sum", label="events relayed"),
            ], right=[business_metric("StreamSeconds", "p90", label="stream length p90 (s)")]),
        )
        self.dashboard.add_widgets(
            *[cloudwatch.GraphWidget(title=f"{name} Lambda", left=[fn.metric_invocations(), fn.metric_errors(), fn.metric_throttles()],
                                     right=[fn.metric_duration()]) for name, fn in functions.items()],
            cloudwatch.AlarmStatusWidget(title="Alarms", alarms=list(self.alarms.values())),
        )
