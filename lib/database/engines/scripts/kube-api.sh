# shellcheck shell=sh
# The Kubernetes API from a member's pod: a few POSIX sh functions over curl, for the containers
# that run the set's API client image (a shell and curl, no jq). Sourced, never executed.
#
# They authenticate with the pod's ServiceAccount token, which StatefulDatabase mounts only into
# the pods of an engine that asks for API access, and act in the pod's own namespace. What they may
# do is the Role the engine declares: nothing else.
#   SA_DIR     the mounted token, CA and namespace (the kubelet's default path)
#   KUBE_API   the API server's URL (from the kubelet's KUBERNETES_SERVICE_* variables)
#   KUBE_BODY  the file that receives each response body (/tmp must be writable)
SA_DIR="${SA_DIR:-/var/run/secrets/kubernetes.io/serviceaccount}"
KUBE_API="${KUBE_API:-https://${KUBERNETES_SERVICE_HOST:-kubernetes.default.svc}:${KUBERNETES_SERVICE_PORT:-443}}"
KUBE_BODY="${KUBE_BODY:-${TMPDIR:-/tmp}/kube-api.body}"

# kube_namespace: the pod's namespace.
kube_namespace() {
  cat "$SA_DIR/namespace"
}

# kube_request METHOD PATH [BODY [CONTENT_TYPE]]: sends one request; the body of the answer goes to
# $KUBE_BODY, its HTTP status to stdout (000 when the API server did not answer within
# KUBE_TIMEOUT seconds, 10 by default). Never retries: the caller decides what a failure means.
kube_request() {
  kube_method="$1" kube_path="$2"
  if [ $# -ge 3 ]; then
    set -- -H "Content-Type: ${4:-application/json}" --data-binary "$3"
  else
    set --
  fi
  curl -sS --max-time "${KUBE_TIMEOUT:-10}" --cacert "$SA_DIR/ca.crt" \
    -H "Authorization: Bearer $(cat "$SA_DIR/token")" -H 'Accept: application/json' "$@" \
    -X "$kube_method" -o "$KUBE_BODY" -w '%{http_code}' "$KUBE_API$kube_path" || :
}

# kube_field KEY: the string value of the first "KEY":"..." in the last answer (the API server
# answers JSON; enough for metadata such as resourceVersion or a Lease's holderIdentity).
kube_field() {
  tr -d '\n' <"$KUBE_BODY" | grep -o "\"$1\" *: *\"[^\"]*\"" | head -n 1 | sed 's/^[^:]*: *"//; s/"$//'
}

# kube_label_pod POD KEY VALUE: sets a label on POD (a merge patch); prints the HTTP status.
kube_label_pod() {
  kube_request PATCH "/api/v1/namespaces/$(kube_namespace)/pods/$1" \
    "{\"metadata\":{\"labels\":{\"$2\":\"$3\"}}}" application/merge-patch+json
}

# kube_lease_path NAME: the API path of Lease NAME in the pod's namespace.
kube_lease_path() {
  echo "/apis/coordination.k8s.io/v1/namespaces/$(kube_namespace)/leases${1:+/$1}"
}

# kube_lease_create NAME HOLDER: creates Lease NAME held by HOLDER. The API server arbitrates:
# of any number of members calling it, exactly one gets 201; the others get 409 (it exists).
kube_lease_create() {
  kube_request POST "$(kube_lease_path)" \
    "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\",\"metadata\":{\"name\":\"$1\"},\"spec\":{\"holderIdentity\":\"$2\"}}"
}

# kube_lease_take NAME HOLDER RESOURCE_VERSION: gives Lease NAME to HOLDER only if it is still at
# RESOURCE_VERSION (what a kube_request GET of it read): 200, or 409 when someone changed it first.
kube_lease_take() {
  kube_request PUT "$(kube_lease_path "$1")" \
    "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\",\"metadata\":{\"name\":\"$1\",\"resourceVersion\":\"$3\"},\"spec\":{\"holderIdentity\":\"$2\"}}"
}

# log MESSAGE...: a line on stderr, stamped as every engine script stamps its lines.
log() {
  printf '%s [cdk8s-stateful] %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2
}

# put FILE VALUE: replaces FILE's content in one step (a reader never sees half of it).
put() {
  printf '%s\n' "$2" >"$1.tmp" && mv -f "$1.tmp" "$1"
}
