"""moto's server without a log line per request: `python -m couponmint_dev.local.moto_server -H host -p port`.

werkzeug logs every request at INFO, and the local stack drains that output: during a bulk job (a dozen SQS
calls and an S3 write a batch) formatting, piping and reading those lines cost moto and the stack more CPU
than some of the calls themselves, on a 2-core machine that DynamoDB Local already keeps busy. Warnings and
errors are still written.
"""

import logging

from moto.server import main

if __name__ == "__main__":
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    main()
