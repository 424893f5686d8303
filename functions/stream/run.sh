#!/bin/sh
# Entry point of the SSE relay Lambda under the Lambda Web Adapter (AWS_LWA_INVOKE_MODE=response_stream):
# the adapter forwards the Function URL's requests to this uvicorn and streams the response back.
#
# The adapter starts this script as a plain process, not through the managed Python runtime, so
# nothing has put the dependency layer on the path: Lambda's PYTHONPATH is only the runtime's own
# directory (/var/runtime). uvicorn and every other dependency live in the layer at /opt/python and
# the code in the task root, so both go first, ahead of whatever PYTHONPATH already holds.
# tests/infrastructure/test_lambda_start.py starts this script the way Lambda does.
PYTHONPATH="${LAMBDA_TASK_ROOT:-/var/task}:/opt/python${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONPATH
# Listen where the adapter sends traffic: AWS_LWA_PORT, falling back to PORT, then 8080.
exec python -m uvicorn functions.stream.app:served_app --factory --host 127.0.0.1 --port "${AWS_LWA_PORT:-${PORT:-8080}}"
