"""A loopback HTTP receiver for the notification tests: answers every
POST with 200 (or 500 to the first N requests of a path given with
--fail PATH:N) and appends each request, as a JSON line (path, headers,
body), to the file named on the command line. Prints its port."""
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

out = sys.argv[1]
fail = {}
for arg in sys.argv[2:]:
    path, n = arg.rsplit(":", 1)
    fail[path] = int(n)


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(out, "a") as f:
            f.write(json.dumps({"path": self.path,
                                "headers": {k.lower(): v for k, v in self.headers.items()},
                                "body": body.decode()}) + "\n")
        status = 200
        for prefix, n in fail.items():
            if self.path.startswith(prefix) and n > 0:
                fail[prefix] = n - 1
                status = 500
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
