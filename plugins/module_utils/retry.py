"""One retry policy for every AWS call that this collection's own modules make."""

from __future__ import annotations

from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

# AWSRetry retries EC2's throttling codes (RequestLimitExceeded, Throttling) but not the
# ThrottlingException that the JSON-protocol APIs (Budgets, Pricing) answer with.
EXTRA_THROTTLING_CODES = ["ThrottlingException"]


def aws_retry():
    """The decorator for module.client(retry_decorator=...) and for functions that call AWS."""
    return AWSRetry.jittered_backoff(catch_extra_error_codes=EXTRA_THROTTLING_CODES)
