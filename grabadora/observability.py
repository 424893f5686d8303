"""Logger, Metrics and Tracer, built once for the whole process (Powertools).

On Lambda, Tracer sends X-Ray segments and Metrics writes CloudWatch embedded-metric logs;
elsewhere Tracer disables itself and Metrics is only flushed by a decorated Lambda handler.
"""

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger(service="grabadora")
metrics = Metrics(namespace="Grabadora", service="grabadora")
tracer = Tracer(service="grabadora")
