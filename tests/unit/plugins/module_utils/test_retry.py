"""The collection's retry policy: throttling of every protocol is retried, other errors are not."""

import pytest
from ansible_collections.amazon.aws.plugins.module_utils import cloud
from botocore.exceptions import ClientError

from ansible_collections.shipyard.ec2_compose.plugins.module_utils.retry import aws_retry


def failing(codes):
    """A call that fails with each of `codes` in turn, then answers; counts its calls."""
    calls = []

    @aws_retry()
    def call():
        calls.append(1)
        if len(calls) <= len(codes):
            raise ClientError({"Error": {"Code": codes[len(calls) - 1], "Message": "x"}}, "Call")
        return "answered"

    return call, calls


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch):
    monkeypatch.setattr(cloud.time, "sleep", lambda seconds: None)


@pytest.mark.parametrize("code", ["RequestLimitExceeded", "Throttling", "ThrottlingException"])
def test_throttling_is_retried(code):
    call, calls = failing([code, code])
    assert call() == "answered"
    assert len(calls) == 3


def test_other_errors_are_not_retried():
    call, calls = failing(["AccessDenied"])
    with pytest.raises(ClientError):
        call()
    assert len(calls) == 1
