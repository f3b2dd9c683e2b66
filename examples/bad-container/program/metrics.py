"""Exports Prometheus metrics on the port given by --port."""
import argparse
from http.server import BaseHTTPRequestHandler, HTTPServer


class Metrics(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"up 1\n")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    HTTPServer(("0.0.0.0", parser.parse_args().port), Metrics).serve_forever()
