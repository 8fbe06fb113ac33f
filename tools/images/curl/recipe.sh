# shellcheck shell=bash disable=SC2034 # build.sh reads CONFIG, PACKAGES and VARIANT
# curl (Debian's curl and ca-certificates) as docker.io/curlimages/curl:<version>: a POSIX shell and
# curl, as user curl_user (100:101) like the upstream image; the API client image of the presets
# whose members talk to the Kubernetes API (lib/database/engines/scripts/kube-api.sh).
PACKAGES=(curl ca-certificates)
CONFIG='{"Cmd":["curl"],"User":"100:101","Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]}'

essential() {
  in_root "$1" sh -c 'echo "curl_group:x:101:" >>/etc/group; echo "curl_user:x:100:101:curl_user:/home/curl_user:/bin/sh" >>/etc/passwd'
  in_root "$1" install -d -o 100 -g 101 -m 0755 /home/curl_user
}
