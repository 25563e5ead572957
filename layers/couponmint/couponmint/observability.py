"""The one place that builds Powertools' logger, tracer and metrics (service name from the environment)."""

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics()
