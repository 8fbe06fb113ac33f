# shellcheck shell=bash disable=SC2153 # WORK, SCRIPTS, CTR_SOCK: set by tools/images/smoke.sh, which sources this
# busybox, as the custom-engine test uses it: an init container (uid 1000) writes a file into a
# shared volume, `httpd` serves it from there, `wget` fetches it.
www="$(data_dir busybox-www 1000 1000)"
run busybox-init 1000 1000 busybox --foreground --command --mount "$www:/www" -- sh -c 'echo "written by init" >/www/index.html'
run busybox 1000 1000 busybox --command --mount "$www:/www:ro" -- httpd -f -v -p 8080 -h /www
served() { [ "$(inside busybox wget -q -O - http://127.0.0.1:8080/index.html)" = "written by init" ]; }
wait_for 10 served ||
  fail "busybox: httpd does not serve what the init container wrote: '$(inside busybox wget -q -O - http://127.0.0.1:8080/index.html 2>&1)'; log: $(logs busybox)"
