"""Signed, realistic test deliveries for `hooks trigger`: Argilla 2.8's payloads, signed and sent as it does."""
