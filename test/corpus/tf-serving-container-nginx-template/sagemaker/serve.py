import os
import re

class Manager:
    def __init__(self):
        self.http_port = os.environ.get("SAGEMAKER_BIND_TO_PORT", "8080")
        self.level = os.environ.get("SAGEMAKER_TFS_NGINX_LOGLEVEL", "error")

    def write_nginx_config(self):
        with open("/sagemaker/nginx.conf.template") as f:
            template = f.read()
        placeholder = re.compile(r"%(\w+)%")
        values = {
            "LISTEN_PORT": self.http_port,
            "LOG_LEVEL": self.level,
        }
        conf = placeholder.sub(lambda m: values[m.group(1)], template)
        with open("/sagemaker/nginx.conf", "w") as f:
            f.write(conf)
