"""The one place that builds Powertools' logger, tracer and metrics.

The service name and namespace are fixed here rather than read from POWERTOOLS_* variables, so that the
metrics work the same whether the module is imported before or after the environment is set (tests, CLI).
"""

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = "couponmint"

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace=SERVICE, service=SERVICE)
