"""The local stack: storage services, template-derived resources, HTTP → event, SQS poller, schedules.

Run it with `couponmint local run` (or `python -m couponmint_dev.local run`); see `stack.py`.
"""
