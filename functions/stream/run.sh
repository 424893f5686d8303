#!/bin/sh
# Entry point of the SSE relay Lambda under the Lambda Web Adapter (AWS_LWA_INVOKE_MODE=response_stream):
# the adapter forwards the Function URL's requests to this uvicorn and streams the response back.
exec python -m uvicorn functions.stream.app:create_app --factory --host 127.0.0.1 --port "${PORT:-8080}"
