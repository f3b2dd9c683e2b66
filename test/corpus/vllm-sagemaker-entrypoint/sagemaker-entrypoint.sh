#!/bin/bash
# every SM_VLLM_* variable becomes a --flag
ARGS=(--port 8080)
while IFS="=" read -r key value; do
  name=$(echo "${key#SM_VLLM_}" | tr "[:upper:]_" "[:lower:]-")
  ARGS+=("--${name}" "$value")
done < <(env | grep "^SM_VLLM_")
exec python3 -m vllm.entrypoints.openai.api_server "${ARGS[@]}"
