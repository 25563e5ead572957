"""couponmint's developer tools: the local stack, the command-line tool and its HTTP client.

Installed by `make` beside the Lambda layer's `couponmint` package, never shipped in the layer: Lambda runs
only what `layers/couponmint` holds.
"""
