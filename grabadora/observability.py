"""Logger, Metrics and Tracer, built once for the whole process (Powertools)."""

from aws_lambda_powertools import Logger

logger = Logger(service="grabadora")
