"""pydantic models: the contract (requests, responses, queue messages, stored records)."""
