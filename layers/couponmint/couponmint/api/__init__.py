"""The REST API as Powertools Routers: one per resource, admission (size, auth, quota), one error map, views.

`functions/api/app.py` builds a `CouponmintResolver`, includes these routers and hands events to it.
"""
