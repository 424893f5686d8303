"""API Gateway → Lambda entry point: Mangum around the FastAPI app, with Powertools."""

import warnings

from aws_lambda_powertools.logging import correlation_paths
from mangum import Mangum

from functions.api.app import served_app
from grabadora.observability import logger, metrics, tracer

_app = Mangum(served_app(), lifespan="off")  # ApiSettings, read from the environment on first use
# Most requests add no metric of their own; that is expected, not worth a warning each time.
warnings.filterwarnings("ignore", "No application metrics to publish")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict, context: object) -> dict:
    return _app(event, context)
