"""`python -m couponmint.local run ...`, the same as `couponmint local run ...`."""

import sys

from couponmint.local.stack import main

sys.exit(main())
