"""Inbound provider webhooks: verify the signature, store the raw event, answer at once,
and leave the processing to an RQ job."""
