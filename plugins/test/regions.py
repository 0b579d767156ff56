# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Jinja tests for AWS region names."""

from __future__ import annotations

try:
    import botocore.session
except ImportError:  # reported by the test itself, when it is used
    botocore = None


def known_regions():
    """Every region that botocore's endpoint data lists for EC2, in every partition."""
    if botocore is None:
        raise ImportError("the aws_region test needs botocore (pip install botocore)")
    session = botocore.session.Session()
    return sorted(region for partition in session.get_available_partitions()
                  for region in session.get_available_regions("ec2", partition_name=partition))


def aws_region(name):
    """True if name is an AWS region that has EC2 (as far as this botocore knows)."""
    return isinstance(name, str) and name in known_regions()


class TestModule:
    def tests(self):
        return {"aws_region": aws_region}
