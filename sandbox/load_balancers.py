"""An Application Load Balancer as HAProxy sees it: its configuration, its runtime commands, and
target health in ELBv2's words.

The configuration holds the listeners (a frontend each) and the target groups they forward to (a
backend each, with the group's health check); it changes, and HAProxy reloads, only when those do.
Targets come and go through HAProxy's runtime API, as registrations do on an ALB, without a reload:
a new target is added with its health forced down, so it gets no request until it passed the
group's healthy threshold of checks ("initial"); a deregistered one is set to drain (no new
requests, the ones in flight finish) for the group's deregistration delay, then deleted.
Listeners that forward are served, HTTPS ones with their ACM certificate (TLS ends at HAProxy, as at
the ALB), and HTTP ones that redirect, as ELBv2 answers (a 301 or 302 to the URL the redirect's
#{protocol}, #{host}, #{port}, #{path} and #{query} make).
"""

import csv
import io
import re

SOCKET = "/run/haproxy.sock"
CONFIG = "/run/haproxy.cfg"
CERTIFICATES = "/run/certs"  # an HTTPS listener's certificate, chain and key: listener-PORT.pem
# ELBv2's target health, from HAProxy's check status (show stat's check_status).
FAILED_CHECK = {
    "L4TOUT": ("Target.Timeout", "Request timed out"),
    "L7TOUT": ("Target.Timeout", "Request timed out"),
}


def forwards_to(listener):
    """The ARNs of the target groups a moto listener's default actions forward to, in order."""
    found = []
    for action in listener.default_actions:
        data = action.data if action.data.get("Type") == "forward" else {}
        arns = [data["TargetGroupArn"]] if data.get("TargetGroupArn") else []
        arns += [group["TargetGroupArn"] for group in data.get("ForwardConfig", {}).get("TargetGroups", [])]
        found += [arn for arn in arns if arn not in found]
    return found


def target_groups(balancer):
    """The ARNs of the target groups a moto load balancer's listeners forward to, in order."""
    found = []
    for listener in balancer.listeners.values():
        found += [arn for arn in forwards_to(listener) if arn not in found]
    return found


def _redirect_part(wanted, name, default, port):
    """One field of a RedirectConfig, ELBv2's placeholders of the request as HAProxy sample expressions."""
    placeholders = {"#{protocol}": "http", "#{host}": "%[req.hdr(host),field(1,:)]", "#{port}": str(port),
                    "#{path}": "%[path,regsub(^/,)]", "#{query}": "%[query]"}
    value = str(default if wanted.get(name) is None else wanted[name])
    for placeholder, expression in placeholders.items():
        value = value.replace(placeholder, expression)
    return value


def redirect(listener):
    """HAProxy's `http-request redirect` line for a listener whose default action redirects, or None."""
    for action in listener.default_actions:
        if action.data.get("Type") != "redirect":
            continue
        wanted = action.data.get("RedirectConfig", {})
        scheme, host, port, path, query = (_redirect_part(wanted, name, default, listener.port) for name, default in (
            ("Protocol", "#{protocol}"), ("Host", "#{host}"), ("Port", "#{port}"), ("Path", "/#{path}"),
            ("Query", "#{query}")))
        # The request's own path and query, as received: %[url] (an empty query adds no "?").
        rest = "%[url]" if (wanted.get("Path", "/#{path}"), wanted.get("Query", "#{query}")) == \
            ("/#{path}", "#{query}") else path + (f"?{query}" if query else "")
        code = {"HTTP_301": 301, "HTTP_302": 302}.get(wanted.get("StatusCode"), 302)
        return f"  http-request redirect location {scheme.lower()}://{host}:{port}{rest} code {code}"
    return None


def certificate_file(listener):
    return f"{CERTIFICATES}/listener-{listener.port}.pem"


def certificate_arn(listener):
    """The ACM certificate an HTTPS listener serves (its default), or None."""
    if listener.protocol != "HTTPS":
        return None
    return listener.certificate or next(iter(listener.certificates or []), None)


def backend_name(arn):
    return "tg-" + arn.rsplit("/", 1)[-1]


def server_name(target_id, port):
    return f"{target_id}_{port}"


def matcher(codes):
    """ELBv2's matcher ("200", "200,302", "200-299") as a regular expression of status codes."""
    alternatives = []
    for part in str(codes or "200").split(","):
        low, _dash, high = part.strip().partition("-")
        alternatives += [str(code) for code in range(int(low), int(high or low) + 1)]
    return "^(" + "|".join(alternatives) + ")$"


def check_options(group):
    """The `add server` options of a target of this moto target group: its health check."""
    options = [f"inter {int(group.health_check_interval_seconds)}s",
               f"fall {int(group.unhealthy_threshold_count)}", f"rise {int(group.healthy_threshold_count)}"]
    if str(group.health_check_port) not in ("traffic-port", "None", str(group.port)):
        options.append(f"port {group.health_check_port}")
    return " ".join(options)


def config(balancer, groups, served_certificates=()):
    """haproxy.cfg for a moto load balancer, given its target groups by ARN and the ports of the HTTPS
    listeners whose certificate is in place (certificate_file)."""
    lines = ["global", f"  stats socket {SOCKET} mode 600 level admin expose-fd listeners", "",
             "defaults", "  mode http", "  option forwardfor", "  timeout connect 5s",
             "  timeout client 60s", "  timeout server 60s", "  timeout http-request 10s", ""]
    for listener in sorted(balancer.listeners.values(), key=lambda listener: int(listener.port)):
        arns = [arn for arn in forwards_to(listener) if arn in groups]
        if listener.protocol == "HTTP" and redirect(listener):
            lines += [f"frontend listener-{listener.port}", f"  bind :{listener.port}", redirect(listener), ""]
            continue
        tls = f" ssl crt {certificate_file(listener)}" if listener.protocol == "HTTPS" else ""
        if not arns or (tls and listener.port not in served_certificates):
            continue  # a fixed response, or HTTPS without its certificate: not served
        lines += [f"frontend listener-{listener.port}", f"  bind :{listener.port}{tls}",
                  f"  default_backend {backend_name(arns[0])}", ""]
    for arn in target_groups(balancer):
        group = groups.get(arn)
        if group is None:
            continue
        lines += [f"backend {backend_name(arn)}", "  balance roundrobin"]
        if group.health_check_enabled:
            lines += [f"  option httpchk GET {group.health_check_path or '/'}",
                      f"  http-check expect rstatus {matcher((group.matcher or {}).get('HttpCode'))}"]
        lines.append("")
    return "\n".join(lines)


def add_commands(arn, target_id, port, address, group):
    """Runtime commands that add a target, health forced down (ELBv2's "initial"), in one line: HAProxy
    runs them one after the other, with no request routed in between."""
    server = f"{backend_name(arn)}/{server_name(target_id, port)}"
    check = f" check {check_options(group)}" if group.health_check_enabled else ""
    commands = [f"add server {server} {address}:{port}{check}"]
    if group.health_check_enabled:
        commands += [f"enable health {server}", f"enable server {server}", f"set server {server} health down"]
    else:
        commands.append(f"enable server {server}")
    return "; ".join(commands)


def drain_command(arn, target_id, port):
    return f"set server {backend_name(arn)}/{server_name(target_id, port)} state drain"


def delete_commands(arn, target_id, port):
    server = f"{backend_name(arn)}/{server_name(target_id, port)}"
    return f"set server {server} state maint; shutdown sessions server {server}; del server {server}"


def parse_stat(text):
    """{(backend, server): row} from the runtime API's `show stat` (CSV, header "# pxname,...")."""
    rows = csv.DictReader(io.StringIO(text.lstrip("# ")))
    return {(row["pxname"], row["svname"]): row for row in rows
            if row.get("svname") not in ("FRONTEND", "BACKEND", None)}


def target_health(row, age_seconds, up_before, group):
    """(state, reason, description) of a target as DescribeTargetHealth says it, from its `show stat` row,
    how long ago it was registered and whether it was healthy since."""
    status = (row or {}).get("status", "")
    if not row:
        return "initial", "Elb.RegistrationInProgress", "Target registration is in progress"
    if status.startswith(("DRAIN", "MAINT", "NOLB")):
        return "draining", "Target.DeregistrationInProgress", "Target deregistration is in progress"
    if status.startswith("UP") or status == "no check":
        return "healthy", None, None
    check = row.get("check_status", "").strip("* ")
    never_up = not up_before  # (show stat's chkdown counts the forced "down" of a new target)
    first_checks = int(group.health_check_interval_seconds) * int(group.unhealthy_threshold_count)
    if never_up and (check in ("INI", "") or age_seconds < first_checks):
        return "initial", "Elb.RegistrationInProgress", "Target registration is in progress"
    if check == "L7STS" and re.fullmatch(r"\d{3}", row.get("check_code", "")):
        return "unhealthy", "Target.ResponseCodeMismatch", \
            f"Health checks failed with these codes: [{row['check_code']}]"
    return ("unhealthy", *FAILED_CHECK.get(check, ("Target.FailedHealthChecks", "Health checks failed")))
