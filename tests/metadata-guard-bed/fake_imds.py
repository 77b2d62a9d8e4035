#!/usr/bin/python3
"""A stand-in for the EC2 instance metadata service, for the metadata guard's test bed.

It answers the IMDSv2 credentials flow the way the real service does (PUT a token, then
GET the instance role's name and its credentials with the token; 401 without one) on TCP
port 80 of both of the service's addresses, and echoes UDP datagrams on port 80 of both.
The kernel answers ICMP echo. It runs in a network namespace of its own, joined to the
"instance" by a veth pair, and prints "ready" once every socket is bound.
"""
import http.server
import json
import secrets
import socket
import socketserver
import sys
import threading

IPV4, IPV6 = sys.argv[1], sys.argv[2]
ROLE = "instance-role"
TOKEN = secrets.token_hex(16)
CREDENTIALS = {"Code": "Success", "Type": "AWS-HMAC", "AccessKeyId": "ASIAFAKEMETADATABED", "SecretAccessKey": "not-a-secret", "Token": "t"}


class Metadata(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave at once, not 40 ms apart (Nagle against delayed ACKs).
    disable_nagle_algorithm = True

    def do_PUT(self):
        if self.path == "/latest/api/token" and self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
            self.reply(200, TOKEN)
        else:
            self.reply(400, "")

    def do_GET(self):
        if self.headers.get("X-aws-ec2-metadata-token") != TOKEN:
            self.reply(401, "")
        elif self.path == "/latest/meta-data/iam/security-credentials/":
            self.reply(200, ROLE)
        elif self.path == f"/latest/meta-data/iam/security-credentials/{ROLE}":
            self.reply(200, json.dumps(CREDENTIALS))
        else:
            self.reply(404, "")

    def reply(self, status, body):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


class Http4(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


class Http6(Http4):
    address_family = socket.AF_INET6


def echo(family, address):
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.bind((address, 80))

    def serve():
        while True:
            data, peer = sock.recvfrom(2048)
            sock.sendto(data, peer)

    threading.Thread(target=serve, daemon=True).start()


servers = [Http4((IPV4, 80), Metadata), Http6((IPV6, 80), Metadata)]
echo(socket.AF_INET, IPV4)
echo(socket.AF_INET6, IPV6)
for server in servers:
    threading.Thread(target=server.serve_forever, daemon=True).start()
print("ready", flush=True)
threading.Event().wait()
