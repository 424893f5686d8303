"""API Gateway → Lambda entry point."""

from mangum import Mangum

from functions.api.app import create_app

handler = Mangum(create_app(), lifespan="off")
