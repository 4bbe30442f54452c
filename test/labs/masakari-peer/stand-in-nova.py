#!/usr/bin/python3
"""Keystone v3 and Nova v2.1, just enough for the real masakari-api and masakari-engine of the peer lab.

masakari-api asks Nova whether a host exists before it creates it (os-services); masakari-engine's recovery flows
disable services, list a host's servers, evacuate, stop, start and reset them. A real Nova is the OpenStack lab's
job (test/labs/openstack/); this one answers on 127.0.0.1 only, keeps its state in memory and appends every
request it gets to a log, so a recording shows which Nova calls a flow made.

  stand-in-nova.py --port PORT --log FILE [--servers FILE] [--pid-file FILE] [--unknown-prefix PREFIX]

--servers: JSON {"<host>": [{"id": ..., "metadata": {...}, ...}, ...]}: the servers on each host (missing fields
get an ACTIVE server's defaults). Every host has a nova-compute service, except names starting with
--unknown-prefix ("nocompute"), for which masakari-api answers "Compute service ... could not be found".
"""
import argparse
import json
import os
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

SERVER_DEFAULTS = {
    "status": "ACTIVE",
    "OS-EXT-STS:vm_state": "active",
    "OS-EXT-STS:task_state": None,
    "OS-EXT-STS:power_state": 1,
    "metadata": {},
    "locked": False,
    "tenant_id": "demo",
    "user_id": "demo",
}


class Cloud:
    """The in-memory state: compute services by host, servers by id."""

    def __init__(self, servers_by_host, unknown_prefix):
        self.lock = threading.Lock()
        self.unknown_prefix = unknown_prefix
        self.services = {}
        self.servers = {}
        for host, servers in servers_by_host.items():
            for s in servers:
                server = {**SERVER_DEFAULTS, "metadata": {}, "name": s["id"][:8], **s}
                server.setdefault("OS-EXT-SRV-ATTR:host", host)
                server.setdefault("OS-EXT-SRV-ATTR:hypervisor_hostname", host)
                self.servers[server["id"]] = server

    def service(self, host):
        with self.lock:
            if host not in self.services:
                self.services[host] = {
                    "id": str(uuid.uuid5(uuid.NAMESPACE_DNS, host)),
                    "binary": "nova-compute",
                    "host": host,
                    "zone": "nova",
                    "status": "enabled",
                    "state": "up",
                    "updated_at": "2024-01-01T00:00:00.000000",
                    "disabled_reason": None,
                    "forced_down": False,
                }
            return self.services[host]

    def act(self, server, action, body):
        if action == "evacuate":
            target = body["evacuate"].get("host") or "some-other-host"
            server["OS-EXT-SRV-ATTR:host"] = target
            server["OS-EXT-SRV-ATTR:hypervisor_hostname"] = target
        elif action == "os-stop":
            server.update({"OS-EXT-STS:vm_state": "stopped", "status": "SHUTOFF"})
        elif action == "os-start":
            server.update({"OS-EXT-STS:vm_state": "active", "status": "ACTIVE"})
        elif action == "os-resetState":
            state = body["os-resetState"]["state"]
            server.update({"OS-EXT-STS:vm_state": state, "status": "ERROR" if state == "error" else "ACTIVE"})
        elif action in ("lock", "unlock"):
            server["locked"] = action == "lock"


def token(base):
    endpoints = [
        {"id": "compute-" + i, "interface": i, "region": "RegionOne", "region_id": "RegionOne", "url": base + "/compute/v2.1"}
        for i in ("public", "internal", "admin")
    ]
    domain = {"id": "default", "name": "Default"}
    return {
        "token": {
            "methods": ["password"],
            "issued_at": "2024-01-01T00:00:00.000000Z",
            "expires_at": "2099-01-01T00:00:00.000000Z",
            "user": {"id": "masakari", "name": "masakari", "domain": domain},
            "project": {"id": "service", "name": "service", "domain": domain},
            "roles": [{"id": "admin", "name": "admin"}],
            "catalog": [{"type": "compute", "name": "nova", "id": "nova", "endpoints": endpoints}],
        }
    }


def make_handler(cloud, base, log_path):
    not_found = lambda what: (404, {"itemNotFound": {"code": 404, "message": what}})

    def compute(method, path, query, body):
        if path in ("", "/v2.1") and method == "GET":
            return 200, {"version": {"id": "v2.1", "status": "CURRENT", "version": "2.95", "min_version": "2.1",
                                     "updated": "2013-07-23T11:33:21Z",
                                     "links": [{"rel": "self", "href": base + "/compute/v2.1/"}]}}
        path = path[len("/v2.1"):]
        parts = path.split("/")
        if path == "/os-services" and method == "GET":
            host = query.get("host")
            if host is None:
                return 200, {"services": list(cloud.services.values())}
            return 200, {"services": [] if host.startswith(cloud.unknown_prefix) else [cloud.service(host)]}
        if path.startswith("/os-services/") and method == "PUT":
            for s in cloud.services.values():
                if s["id"] == parts[-1]:
                    s.update({k: v for k, v in (body or {}).items() if k in ("status", "disabled_reason", "forced_down")})
                    return 200, {"service": s}
            return not_found("no service " + parts[-1])
        if path == "/servers/detail" and method == "GET":
            host = query.get("host")
            return 200, {"servers": [s for s in cloud.servers.values() if host is None or s["OS-EXT-SRV-ATTR:host"] == host]}
        if path.startswith("/servers/"):
            server = cloud.servers.get(parts[2])
            if server is None:
                return not_found("Instance %s could not be found." % parts[2])
            if path.endswith("/action"):
                if body:
                    cloud.act(server, next(iter(body)), body)
                return 202, None
            if method == "GET":
                return 200, {"server": server}
        if path == "/os-aggregates" and method == "GET":
            return 200, {"aggregates": []}
        if path.startswith("/os-aggregates/") and path.endswith("/action"):
            return 200, {"aggregate": {}}
        if path == "/extensions" and method == "GET":
            return 200, {"extensions": []}
        return not_found("stand-in Nova has no " + path)

    def route(method, path, query, body):
        if path in ("", "/v3") and method == "GET":
            return 200, {"version": {"id": "v3.14", "status": "stable", "updated": "2020-04-07T00:00:00Z",
                                     "links": [{"rel": "self", "href": base + "/v3/"}],
                                     "media-types": [{"base": "application/json",
                                                      "type": "application/vnd.openstack.identity-v3+json"}]}}
        if path == "/v3/auth/tokens" and method == "POST":
            return 201, token(base)
        if path.startswith("/compute"):
            return compute(method, path[len("/compute"):], query, body)
        return 404, {"error": "not found"}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass  # every request goes to log_path instead

        def handle_any(self):
            body = None
            if self.command in ("POST", "PUT"):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = None
            with cloud.lock, open(log_path, "a") as log:
                log.write("%s %s %s %s\n" % (time.strftime("%H:%M:%S"), self.command, self.path, json.dumps(body) if body else ""))
            url = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            status, reply = route(self.command, url.path.rstrip("/"), query, body)
            data = b"" if reply is None else json.dumps(reply).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if status == 201 and url.path.rstrip("/") == "/v3/auth/tokens":
                self.send_header("X-Subject-Token", "stand-in-token")
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = handle_any

    return Handler


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--servers")
    p.add_argument("--pid-file")
    p.add_argument("--unknown-prefix", default="nocompute")
    args = p.parse_args()
    servers = {}
    if args.servers:
        with open(args.servers) as f:
            servers = json.load(f)
    base = "http://127.0.0.1:%d" % args.port
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(Cloud(servers, args.unknown_prefix), base, args.log))
    if args.pid_file:
        with open(args.pid_file, "w") as f:
            f.write(str(os.getpid()))
    server.serve_forever()


if __name__ == "__main__":
    main()
