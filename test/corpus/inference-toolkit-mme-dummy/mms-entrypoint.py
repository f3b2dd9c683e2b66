import shlex
import subprocess
import sys

from sagemaker_inference import model_server

if sys.argv[1] == "serve":
    model_server.start_model_server()
else:
    subprocess.check_call(shlex.split(" ".join(sys.argv[1:])))
