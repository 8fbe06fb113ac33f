# shellcheck shell=bash disable=SC2153 # WORK, SCRIPTS, CTR_SOCK: set by tools/images/smoke.sh, which sources this
# pause: holds still as 65535, ends at once on SIGTERM, saying so.
run pause 65535 65535 pause --
wait_for 10 is_status pause RUNNING || fail "pause is not running: $(logs pause)"
sleep 1
is_status pause RUNNING || fail "pause stopped by itself: $(logs pause)"
c tasks kill --signal SIGTERM "$RUN_ID-pause"
wait_for 5 is_status pause STOPPED || fail "pause ignored SIGTERM"
grep -q 'shutting down on signal 15' <<<"$(logs pause)" || fail "pause said nothing on SIGTERM: $(logs pause)"
