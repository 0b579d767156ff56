#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: tagged_resources_info
short_description: List the AWS resources of one project and environment, found by their tags
version_added: 0.1.0
description:
  - Finds every resource of the types this collection creates (the scaled layout's load balancers,
    target groups, RDS instances and DB subnet groups; instances, NAT gateways, elastic IPs, volumes,
    security groups, route tables, subnets, internet gateways, VPCs, key pairs) that carries all of
    I(tags), with one describe call per type (ELBv2 adds one DescribeTags per 20 resources, RDS
    subnet groups one ListTagsForResource each).
  - Instances that are terminated and NAT gateways that are deleted are not listed.
  - Teardown uses it for its plan and, afterwards, for its proof that nothing is left; provision
    reads the environment with it once and runs an amazon.aws module only for a resource that is
    missing or differs (see P(shipyard.ec2_compose.resource_plan#filter)).
author:
  - Shipyard maintainers (@shipyard)
options:
  tags:
    description: Tags that a resource must all carry, usually the identity tags
      (C(Project), C(Environment), C(ManagedBy)).
    type: dict
    required: true
  types:
    description: Resource types to look for; all of them when omitted.
    type: list
    elements: str
    choices: [load_balancer, target_group, db_instance, db_subnet_group, instance, nat_gateway, elastic_ip,
              volume, security_group, route_table, subnet, internet_gateway, vpc, key_pair]
  vpc_attributes:
    description: Also read each VPC's DNS settings (C(EnableDnsSupport), C(EnableDnsHostnames)),
      one more call each per VPC. Provision's plan compares them.
    type: bool
    default: false
    version_added: 0.5.0
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: What does the dev environment of tasklist own?
  shipyard.ec2_compose.tagged_resources_info:
    region: us-east-1
    tags:
      Project: tasklist
      Environment: dev
      ManagedBy: shipyard.ec2_compose
  register: found

- name: Fail if anything is left
  ansible.builtin.assert:
    that: found.count == 0
"""

RETURN = r"""
resources:
  description: Per type, in deletion order, the resources found.
  returned: always
  type: dict
  sample:
    instance:
      - {type: instance, id: i-0123456789abcdef0, name: tasklist-dev-web, State: running, tags: {}}
    vpc:
      - {type: vpc, id: vpc-0123456789abcdef0, name: tasklist-dev-vpc, CidrBlock: 10.0.0.0/16, tags: {}}
plan:
  description: All resources found as one list, in deletion order.
  returned: always
  type: list
  elements: dict
region:
  description: The region searched, as the AWS modules resolved it (the region option, else
    AWS_REGION, AWS_DEFAULT_REGION or the profile's region).
  returned: always
  type: str
  sample: us-east-1
count:
  description: Number of resources found.
  returned: always
  type: int
  sample: 7
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.shipyard.ec2_compose.plugins.module_utils.resources import (
    EMPTY_TAGS,
    TAGGED_RESOURCES_OPTIONS,
    read_environment,
)

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule


def main():
    module = AnsibleAWSModule(argument_spec=TAGGED_RESOURCES_OPTIONS, supports_check_mode=True)
    if not module.params["tags"]:
        module.fail_json(msg=EMPTY_TAGS)
    try:
        found = read_environment(module.client, module.params)
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
        module.fail_json_aws(error, msg="Could not list the tagged resources")
    module.exit_json(changed=False, region=module.region, **found)


if __name__ == "__main__":
    main()
