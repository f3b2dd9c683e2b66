from flask import Flask, jsonify, request

app = Flask(__name__)

@app.route("/ping", methods=["GET"])
def ping():
    return "OK", 200

@app.route("/invocations", methods=["POST"])
def invoke():
    return jsonify(request.get_json())
