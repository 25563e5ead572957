"""Use cases: each combines adapters (passed in) with pure logic."""
