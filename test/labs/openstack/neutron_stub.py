#!/usr/bin/python3
"""Stand-in for the Neutron API in Masakari's OpenStack lab.

Nova asks Neutron about ports and networks on every boot, stop, start and evacuation, even for servers
booted with networks "none". A real neutron-server would need ML2, agents and a database; these servers
have no ports, so every collection is empty and every single resource is missing.
Usage: neutron_stub.py ADDRESS PORT
"""
import json
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COLLECTION = re.compile(r"^/v2\.0/([a-z_-]+?)(?:\.json)?$")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def reply(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def not_found(self):
        self.reply(404, {"NeutronError": {"type": "NotFound", "message": "lab stub", "detail": ""}})

    def do_GET(self):
        path = self.path.split("?")[0].rstrip("/")
        if path == "":
            href = "http://%s/v2.0/" % self.headers.get("Host")
            return self.reply(200, {"versions": [{"id": "v2.0", "status": "CURRENT",
                                                  "links": [{"rel": "self", "href": href}]}]})
        m = COLLECTION.match(path)
        if m:
            return self.reply(200, {m.group(1).replace("-", "_"): []})
        return self.not_found()

    def write_method(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.not_found()

    do_POST = do_PUT = do_DELETE = write_method

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.command, self.path))


ThreadingHTTPServer((sys.argv[1], int(sys.argv[2])), Handler).serve_forever()
