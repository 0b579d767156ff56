"""The sandbox's fault-injecting HTTP proxy, between the playbooks and the emulator: it answers a set share of
AWS API requests with the throttling error of the request's protocol (never forwarding them) and
delays another share, so retries are exercised for real."""

from __future__ import annotations

import http.client
import random
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

# EC2 (query protocol, its own error shape), the JSON protocol (Budgets, Pricing), other query APIs (STS, ELB).
EC2_THROTTLE = (503, "text/xml", b"<?xml version='1.0' encoding='UTF-8'?><Response><Errors><Error>"
                b"<Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors>"
                b"<RequestID>fault-proxy</RequestID></Response>")
JSON_THROTTLE = (400, "application/x-amz-json-1.1", b'{"__type": "ThrottlingException", "message": "Rate exceeded"}')
QUERY_THROTTLE = (400, "text/xml", b"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>"
                  b"<Message>Rate exceeded</Message></Error><RequestId>fault-proxy</RequestId></ErrorResponse>")


class FaultProxy:
    def __init__(self, upstream, throttle_share, slow_share=0.1, delay=0.5, seed=7):
        target = urlparse(upstream)
        self.upstream = (target.hostname, target.port)
        self.throttle_share, self.slow_share, self.delay = throttle_share, slow_share, delay
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.counts = {"requests": 0, "throttled": 0, "slowed": 0}
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def _draw(self):
        with self.lock:
            self.counts["requests"] += 1
            roll = self.random.random()
            if roll < self.throttle_share:
                self.counts["throttled"] += 1
                return "throttle"
            if roll < self.throttle_share + self.slow_share:
                self.counts["slowed"] += 1
                return "slow"
            return "forward"

    def _handler(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _any(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fate = proxy._draw()
                if fate == "throttle":
                    return self._answer(*self._throttle_error(body))
                if fate == "slow":
                    time.sleep(proxy.delay)
                upstream = http.client.HTTPConnection(*proxy.upstream, timeout=120)
                try:
                    upstream.request(self.command, self.path, body=body, headers=dict(self.headers))
                    response = upstream.getresponse()
                    self._answer(response.status, response.getheader("Content-Type", ""), response.read())
                finally:
                    upstream.close()

            def _throttle_error(self, body):
                if self.headers.get("X-Amz-Target"):
                    return JSON_THROTTLE
                if "/ec2/" in self.headers.get("Authorization", ""):
                    return EC2_THROTTLE
                return QUERY_THROTTLE

            def _answer(self, status, content_type, payload):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _any

        return Handler
