"""A tiny model server: GET /ping for health, POST /invocations for predictions."""
from flask import Flask, Response, request

app = Flask(__name__)


@app.route("/ping", methods=["GET"])
def ping():
    return Response(status=200)


@app.route("/invocations", methods=["POST"])
def invocations():
    rows = request.get_data(as_text=True).strip().splitlines()
    return Response("\n".join(str(len(r.split(","))) for r in rows), mimetype="text/csv")
