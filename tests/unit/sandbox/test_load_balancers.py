"""sandbox/load_balancers.py: a moto load balancer as HAProxy's configuration, and HAProxy's view of a
target as DescribeTargetHealth's state."""

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "sandbox"))
import load_balancers as lbs

GROUP_ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/app/0123456789abcdef"


def group(**overrides):
    values = dict(arn=GROUP_ARN, port=80, health_check_port="traffic-port", health_check_path="/health",
                  health_check_interval_seconds=5, healthy_threshold_count="2", unhealthy_threshold_count="3",
                  health_check_enabled=True, matcher={"HttpCode": "200-202"})
    return SimpleNamespace(**{**values, **overrides})


def listener(port, protocol="HTTP", arn=GROUP_ARN):
    return SimpleNamespace(port=port, protocol=protocol,
                           default_actions=[SimpleNamespace(data={"Type": "forward", "TargetGroupArn": arn})])


def test_the_http_listeners_forward_to_their_group_with_its_health_check():
    balancer = SimpleNamespace(listeners={"a": listener(443, "HTTPS"), "b": listener(80)})
    config = lbs.config(balancer, {GROUP_ARN: group()})
    assert "frontend listener-80\n  bind :80\n  default_backend tg-0123456789abcdef\n" in config
    assert "listener-443" not in config  # HTTPS whose certificate is not in place: not served
    assert "  option httpchk GET /health\n  http-check expect rstatus ^(200|201|202)$\n" in config


def test_an_https_listener_ends_tls_with_its_certificate_once_it_is_in_place():
    balancer = SimpleNamespace(listeners={"a": listener(443, "HTTPS"), "b": listener(80)})
    config = lbs.config(balancer, {GROUP_ARN: group()}, served_certificates={443})
    assert ("frontend listener-443\n  bind :443 ssl crt /run/certs/listener-443.pem\n"
            "  default_backend tg-0123456789abcdef\n") in config


def test_a_new_target_starts_down_and_a_health_check_port_of_its_own_is_kept():
    commands = lbs.add_commands(GROUP_ARN, "i-1", 80, "172.17.0.9", group(health_check_port="8080"))
    assert commands.split("; ") == [
        "add server tg-0123456789abcdef/i-1_80 172.17.0.9:80 check inter 5s fall 3 rise 2 port 8080",
        "enable health tg-0123456789abcdef/i-1_80", "enable server tg-0123456789abcdef/i-1_80",
        "set server tg-0123456789abcdef/i-1_80 health down"]


STAT = "# pxname,svname,status,check_status,check_code\ntg-x,i-1_80,{status},{check},{code}\ntg-x,BACKEND,UP,,\n"


@pytest.mark.parametrize(("stat", "age", "up_before", "expected"), [
    (("DOWN", "INI", ""), 0, False, ("initial", "Elb.RegistrationInProgress")),
    (("DOWN 1/2", "L7OK", "200"), 6, False, ("initial", "Elb.RegistrationInProgress")),
    (("UP", "L7OK", "200"), 11, False, ("healthy", None)),
    (("UP 1/3", "L7STS", "503"), 30, True, ("healthy", None)),  # not yet the unhealthy threshold
    (("DOWN", "L7STS", "503"), 30, True, ("unhealthy", "Target.ResponseCodeMismatch")),
    (("DOWN", "L4TOUT", ""), 30, False, ("unhealthy", "Target.Timeout")),
    (("DOWN", "L4CON", ""), 30, True, ("unhealthy", "Target.FailedHealthChecks")),
    (("DRAIN", "L7OK", "200"), 30, True, ("draining", "Target.DeregistrationInProgress")),
])
def test_haproxy_states_in_elbv2_words(stat, age, up_before, expected):
    status, check, code = stat
    row = lbs.parse_stat(STAT.format(status=status, check=check, code=code))[("tg-x", "i-1_80")]
    found = lbs.target_health(row, age, up_before, group())
    assert found[:2] == expected
    if expected[1] == "Target.ResponseCodeMismatch":
        assert found[2] == "Health checks failed with these codes: [503]"


def test_an_http_listener_that_redirects_answers_as_elbv2_does():
    to_https = SimpleNamespace(port=80, protocol="HTTP", default_actions=[SimpleNamespace(data={
        "Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "Host": "#{host}",
                                               "Path": "/#{path}", "Query": "#{query}", "StatusCode": "HTTP_301"}})])
    balancer = SimpleNamespace(listeners={"a": listener(443, "HTTPS"), "b": to_https})
    config = lbs.config(balancer, {GROUP_ARN: group()})
    assert ("frontend listener-80\n  bind :80\n"
            "  http-request redirect location https://%[req.hdr(host),field(1,:)]:443%[url] code 301\n") in config
    elsewhere = SimpleNamespace(port=8080, protocol="HTTP", default_actions=[SimpleNamespace(data={
        "Type": "redirect", "RedirectConfig": {"Protocol": "HTTP", "Host": "example.com", "Path": "/moved",
                                               "Query": "", "StatusCode": "HTTP_302"}})])
    assert lbs.redirect(elsewhere) == "  http-request redirect location http://example.com:8080/moved code 302"
