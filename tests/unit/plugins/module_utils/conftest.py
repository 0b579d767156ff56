"""moto in process (its EC2/ELBv2 logic, no server) for the readers' tests."""

import sys
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "sandbox"))
from moto_launcher import copy_response_transformers


@pytest.fixture
def ec2(monkeypatch):
    copy_response_transformers()  # the readers call in parallel, as the emulator's fix allows
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "unit")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "unit")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield boto3.client("ec2", region_name="us-east-1")
