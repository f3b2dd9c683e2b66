#!/bin/bash
if [[ -z "${HF_MODEL_ID}" ]]; then
  echo "HF_MODEL_ID must be set"; exit 1
fi
export MODEL_ID="${HF_MODEL_ID}"
if [[ -n "${HF_MODEL_PEFT}" ]]; then
  export PEFT="${HF_MODEL_PEFT}"
fi
text-generation-launcher --port 8080
