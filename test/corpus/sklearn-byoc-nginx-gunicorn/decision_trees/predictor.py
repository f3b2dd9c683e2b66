import flask
app = flask.Flask(__name__)

@app.route("/ping", methods=["GET"])
def ping():
    return flask.Response(status=200)

@app.route("/invocations", methods=["POST"])
def invoke():
    return flask.Response(status=200)
