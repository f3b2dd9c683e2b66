#!/bin/bash
if [[ -z "${HF_MODEL_ID}" ]]; then
  echo "HF_MODEL_ID must be set"; exit 1
fi
export MODEL_ID="${HF_MODEL_ID}"
embedding-server-launcher --port 8080
