#!/usr/bin/env bash
# Log in, create an API key, upload a flow, run it, then stream a Playground-style build, with
# nothing but curl and jq. Usage:
#   examples/run_flow.sh [flow.json] [message]
# Environment: FLOWACTOR_URL (default http://127.0.0.1:7860), FLOWACTOR_USER, FLOWACTOR_PASSWORD.
set -euo pipefail
URL=${FLOWACTOR_URL:-http://127.0.0.1:7860}
USER_NAME=${FLOWACTOR_USER:-admin}
PASSWORD=${FLOWACTOR_PASSWORD:?set FLOWACTOR_PASSWORD}
FLOW_FILE=${1:-$(dirname "$0")/flows/prompt.json}
MESSAGE=${2:-hello from curl}

TOKEN=$(curl -sf -X POST "$URL/api/v1/login" -H "Content-Type: application/x-www-form-urlencoded" \
  --data-urlencode "username=$USER_NAME" --data-urlencode "password=$PASSWORD" | jq -r .access_token)
KEY=$(curl -sf -X POST "$URL/api/v1/api_key/" -H "Authorization: Bearer $TOKEN" \
  -H "Content-Type: application/json" -d '{"name": "example script"}' | jq -r .api_key)
echo "created an API key: ${KEY:0:8}…"

FLOW_ID=$(curl -sf -X POST "$URL/api/v1/flows/" -H "x-api-key: $KEY" -H "Content-Type: application/json" \
  --data-binary @"$FLOW_FILE" | jq -r .id)
echo "uploaded flow $FLOW_ID"

echo "--- /run"
curl -sf -X POST "$URL/api/v1/run/$FLOW_ID" -H "x-api-key: $KEY" -H "Content-Type: application/json" \
  -d "$(jq -n --arg m "$MESSAGE" '{input_value: $m, input_type: "chat", output_type: "chat"}')" \
  | jq -r '.outputs[0].outputs[0].results.message.text'

echo "--- /run?stream=true"
curl -sfN -X POST "$URL/api/v1/run/$FLOW_ID?stream=true" -H "x-api-key: $KEY" -H "Content-Type: application/json" \
  -d "$(jq -n --arg m "$MESSAGE" '{input_value: $m}')" | grep -v '^$' | jq -c '{event, text: (.data.text // .data.chunk // null)}'

echo "--- /build + events"
JOB=$(curl -sf -X POST "$URL/api/v1/build/$FLOW_ID/flow" -H "x-api-key: $KEY" -H "Content-Type: application/json" \
  -d "$(jq -n --arg m "$MESSAGE" '{inputs: {input_value: $m}}')" | jq -r .job_id)
curl -sfN "$URL/api/v1/build/$JOB/events" -H "x-api-key: $KEY" | grep -v '^$' | jq -c '{event, id: (.data.build_data.id // .data.id // null)}'
