"""Realtime: IoT Core permissions: the worker publishes job events, integrators subscribe."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra_cdk.nag import suppress

TOPIC_PREFIX = "grabadora"  # grabadora/{user_id}/jobs/{job_id}/events
# An integrator's session carries the one user it may follow as a session tag; IAM's policy
# variable scopes its topics to that user's: nobody sees another user's live words.
USER_TAG = "grabadora_user"
USER = "${aws:PrincipalTag/" + USER_TAG + "}"
_IOT = "arn:<AWS::Partition>:iot:<AWS::Region>:<AWS::AccountId>"
_NAG_USER = f"<aws:PrincipalTag/{USER_TAG}>"  # how cdk-nag spells the policy variable in a finding
IOT_FINDINGS = [f"{_IOT}:topic/grabadora/*/jobs/*/events", f"{_IOT}:topicfilter/grabadora/{_NAG_USER}/*",
                f"{_IOT}:client/grabadora-integrator-*", f"{_IOT}:topic/grabadora/{_NAG_USER}/jobs/*/events"]


class Realtime(Construct):
    def __init__(self, scope: Construct, id: str, *, publisher: iam.IGrantable, integrator_principal: iam.IPrincipal | None = None) -> None:
        super().__init__(scope, id)
        stack = cdk.Stack.of(self)
        topics = stack.format_arn(service="iot", resource="topic", resource_name=f"{TOPIC_PREFIX}/*/jobs/*/events")
        own_topics = stack.format_arn(service="iot", resource="topic", resource_name=f"{TOPIC_PREFIX}/{USER}/jobs/*/events")
        topic_filters = stack.format_arn(service="iot", resource="topicfilter", resource_name=f"{TOPIC_PREFIX}/{USER}/*")
        clients = stack.format_arn(service="iot", resource="client", resource_name="grabadora-integrator-*")

        iam.Grant.add_to_principal(grantee=publisher, actions=["iot:Publish"], resource_arns=[topics])

        # Integrators assume this role with the session tag grabadora_user=<their user id> (from
        # the account by default: hand it out per integrator with a trust policy of your own)
        # and subscribe over MQTT with SigV4, to that user's topics only. No tag, no session.
        principal = (integrator_principal or iam.AccountRootPrincipal()).with_conditions(
            {"StringLike": {f"aws:RequestTag/{USER_TAG}": "?*"}}
        ).with_session_tags()
        self.integrator_role = iam.Role(
            self,
            "IntegratorRole",
            assumed_by=principal,
            description="Subscribe to Grabadora job events on IoT Core (MQTT over WebSockets, SigV4)",
        )
        self.integrator_role.add_to_policy(iam.PolicyStatement(sid="Connect", actions=["iot:Connect"], resources=[clients]))
        self.integrator_role.add_to_policy(iam.PolicyStatement(sid="Subscribe", actions=["iot:Subscribe"], resources=[topic_filters]))
        self.integrator_role.add_to_policy(iam.PolicyStatement(sid="Receive", actions=["iot:Receive"], resources=[own_topics]))
        why = "IoT topic wildcards: every job's topic of the one user the session is tagged with, and integrator client ids by prefix."
        suppress(self.integrator_role, {f"AwsSolutions-IAM5[Resource::{arn}]": why for arn in IOT_FINDINGS[1:]})
        self.publish_findings = {f"AwsSolutions-IAM5[Resource::{IOT_FINDINGS[0]}]": "The worker publishes on every user's job topics."}
