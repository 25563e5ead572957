"""`python -m couponmint_dev.local run ...`, the same as `couponmint local run ...`."""

import sys

from couponmint_dev.local.stack import main

sys.exit(main())
