"""The sandbox's IAM enforcement as AWS's: every request authorized resource by resource, with conditions.

moto's own check (``moto/iam/access_control.py``) matches actions and resource "*" and evaluates only
StringEquals on the keys a request happens to carry, so no tag condition of a policy was ever tested.
This replaces it for every service but S3: iam_requests.py says what AWS authorizes for the request,
iam_evaluation.py evaluates the caller's policies for each, and the first resource not allowed refuses
the request with AWS's AccessDenied message, naming the action and the resource. Each decision, with
the statements that allowed it, goes to the request log: a statement that alone allowed a call of a run
is one that run needs.

What the emulator cannot know, the context leaves out (so a condition on it fails as on AWS when the
key is absent): the caller's source IP and VPC endpoint, MFA, principal and session tags, the time.
"""

import threading

from iam_evaluation import ALLOW, EXPLICIT_DENY, evaluate
from iam_requests import Request, authorizations

# The decisions of the request this thread serves, for the request log: [{action, resource, allowed_by}].
_decisions = threading.local()


def start_request():
    _decisions.log = []


def decisions():
    """The current request's decisions, one per resource authorized (empty when IAM is not enforced)."""
    return getattr(_decisions, "log", [])


class MotoState:
    """The resources' tags (and images' owners) as the emulator holds them, for the context's
    aws:ResourceTag/* and ec2:Owner / ec2:Public keys."""

    def __init__(self, account, region):
        self.account, self.region = account, region

    def _ec2(self):
        from moto.ec2.models import ec2_backends

        return ec2_backends[self.account][self.region]

    def ec2_tags(self, resource_type, resource_id):
        backend = self._ec2()
        if resource_type == "key-pair" and resource_id in backend.key_pairs:
            resource_id = backend.key_pairs[resource_id].id  # named by KeyName; tagged by its id
        return dict(backend.tags.get(resource_id, {}))

    def image(self, image_id):
        backend = self._ec2()
        image = backend.amis.get(image_id)
        if image is None:
            return {}
        owner = image.owner_alias if image.owner_alias == "amazon" else image.owner_id
        return {"ec2:Owner": owner, "ec2:Public": "true" if image.is_public else "false"}

    def route_table_association(self, association_id):
        """(route table id, subnet id or None) of a route table association."""
        for table in self._ec2().route_tables.values():
            if association_id in table._associations:
                target = table._associations[association_id]
                return table.id, target if target.startswith("subnet-") else None
        return "unknown", None

    def arn_tags(self, arn):
        """The tags of an ELBv2, RDS or ACM resource by its ARN ({} when it has none or does not exist)."""
        service = arn.split(":")[2] if arn.count(":") >= 5 else ""
        try:
            if service == "elasticloadbalancing":
                from moto.elbv2.models import elbv2_backends

                return dict(elbv2_backends[self.account][self.region].tagging_service.get_tag_dict_for_resource(arn))
            if service == "rds":
                from moto.rds.models import rds_backends

                tags = rds_backends[self.account][self.region].list_tags_for_resource(arn)
                return {tag["Key"]: tag["Value"] for tag in tags}
            if service == "acm":
                from moto.acm.models import acm_backends

                bundle = acm_backends[self.account][self.region]._certificates.get(arn)  # no status check
                return {k: v or "" for k, v in bundle.tags.items()} if bundle else {}
        except Exception:
            return {}
        return {}


def refusal(user_arn, authorization, decision):
    why = "with an explicit deny in an identity-based policy" if decision == EXPLICIT_DENY else \
        f"because no identity-based policy allows the {authorization.action} action"
    return (f"User: {user_arn} is not authorized to perform: {authorization.action} "
            f"on resource: {authorization.resource} {why}")


def install():
    """Replace moto's permission check of every non-S3 request with the evaluation above."""
    from moto.core.exceptions import JsonRESTError, _RESTError
    from moto.iam.access_control import IAMPolicy, IAMRequest

    class AccessDenied(_RESTError):  # AWS's AccessDenied, with the resource in its message
        code = 403

        def __init__(self, message):
            super().__init__("AccessDenied", message)

    class AccessDeniedException(JsonRESTError):  # the same, for the JSON protocol's services (Budgets)
        code = 403

        def __init__(self, message):
            super().__init__("AccessDeniedException", message)

    def check_action_permitted(self, resource):
        if self._action == "sts:GetCallerIdentity":  # needs no permission on AWS either
            return
        policies = [IAMPolicy(policy)._policy_json for policy in self._access_key.collect_policies()]
        service, action = self._action.split(":", 1)
        state = MotoState(self.account_id, self._region)
        request = Request(service, action, self._data, self._body, self._region, self.account_id, self._path)
        for authorization in authorizations(request, state):
            decision, sids = evaluate(policies, authorization.action, authorization.resource,
                                      authorization.context)
            if hasattr(_decisions, "log"):
                _decisions.log.append({"action": authorization.action, "resource": authorization.resource,
                                       "allowed_by": sids if decision == ALLOW else []})
            if decision != ALLOW:
                json_protocol = bool(self._headers.get("X-Amz-Target"))
                error = AccessDeniedException if json_protocol else AccessDenied
                raise error(refusal(self._access_key.arn, authorization, decision))

    IAMRequest.check_action_permitted = check_action_permitted
