"""AWS's eventual consistency after a create, which moto lacks: a new id is not known everywhere yet.

On AWS a call that names a VPC, subnet, internet gateway, route table or security group created a
moment before can answer ``Invalid<Type>.NotFound`` (the API reference's "eventual consistency"
page); the modules that create them retry on exactly these codes. This WSGI middleware answers the
same for a short while (``DEFAULT_UNSEEN_SECONDS``; the launcher's ``--unseen-seconds``, env
``SANDBOX_UNSEEN_SECONDS``, 0 turns it off) after the create: any EC2 call but the backer's that
names the new id gets AWS's error, and the same call a moment later succeeds.
"""

import io
import re
import threading
import time
import uuid
from urllib.parse import parse_qsl

DEFAULT_UNSEEN_SECONDS = 1.0
# The create's action -> (the id's element in its answer, AWS's error code, the message's noun).
CREATES = {
    "CreateVpc": ("vpcId", "InvalidVpcID.NotFound", "vpc ID"),
    "CreateSubnet": ("subnetId", "InvalidSubnetID.NotFound", "subnet ID"),
    "CreateInternetGateway": ("internetGatewayId", "InvalidInternetGatewayID.NotFound", "internetGateway ID"),
    "CreateRouteTable": ("routeTableId", "InvalidRouteTableID.NotFound", "routeTable ID"),
    "CreateSecurityGroup": ("groupId", "InvalidGroup.NotFound", "security group"),
}
ACTION = re.compile(r"(?:^|&)Action=([A-Za-z0-9]+)")


class EventualConsistency:
    def __init__(self, app, seconds=DEFAULT_UNSEEN_SECONDS, is_own=lambda environ: False):
        self.app = app
        self.seconds = seconds
        self.is_own = is_own  # the sandbox's own calls (the backer's) see everything at once
        self.lock = threading.Lock()
        self.unseen = {}  # id -> (until, error code, noun)

    def __call__(self, environ, start_response):
        if self.seconds <= 0 or self.is_own(environ) or environ.get("PATH_INFO", "").startswith("/moto-api"):
            return self.app(environ, start_response)
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        params = body.decode("utf-8", "replace")
        named = self.still_unseen({value for _name, value in parse_qsl(params)})
        if named:
            return self.not_found(start_response, *named)
        action = ACTION.search(params)
        create = CREATES.get(action.group(1)) if action else None
        if not create:
            return self.app(environ, start_response)
        answer = b"".join(self.app(environ, start_response))
        created = re.search(rf"<{create[0]}>([a-z]+-[0-9a-f]+)</{create[0]}>".encode(), answer)
        if created:
            with self.lock:
                self.unseen[created.group(1).decode()] = (time.monotonic() + self.seconds, *create[1:])
        return [answer]

    def still_unseen(self, values):
        """(id, code, noun) of the first value that is an id still unseen; forgets those seen by now."""
        now = time.monotonic()
        with self.lock:
            for resource_id, (until, *_error) in list(self.unseen.items()):
                if until <= now:
                    del self.unseen[resource_id]
            for value in values:
                if value in self.unseen:
                    return (value, *self.unseen[value][1:])
        return None

    @staticmethod
    def not_found(start_response, resource_id, code, noun):
        message = f"The {noun} '{resource_id}' does not exist"
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>{code}</Code>'
                f"<Message>{message}</Message></Error></Errors><RequestID>{uuid.uuid4()}</RequestID></Response>")
        start_response("400 Bad Request", [("Content-Type", "text/xml"), ("Content-Length", str(len(body)))])
        return [body.encode()]
