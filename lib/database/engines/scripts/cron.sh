# shellcheck shell=bash
# The cron matcher of the backup sidecars (PostgreSQL's postgres-backup.sh, Redis's
# redis-backup.sh): whether a schedule checked at synth (lib/database/backup.ts, checkCronSchedule)
# fires at a given UTC minute. Sourced, never executed.

# cron_field_matches FIELD VALUE MIN MAX: whether VALUE is in the cron FIELD (checked at synth:
# numbers, '*', ranges a-b, steps /n, comma lists)
cron_field_matches() {
  local value=$((10#$2)) min="$3" max="$4" part range step lo hi
  local -a parts
  # split on commas into an array: a bare `for` over the field would expand `*` as a glob
  IFS=, read -r -a parts <<<"$1"
  for part in "${parts[@]}"; do
    step=1 range="$part"
    if [[ "$part" == */* ]]; then step="${part#*/}" range="${part%/*}"; fi
    if [ "$range" = '*' ]; then lo="$min" hi="$max"
    elif [[ "$range" == *-* ]]; then lo="${range%-*}" hi="${range#*-}"
    elif [[ "$part" == */* ]]; then lo="$range" hi="$max"
    else lo="$range" hi="$range"; fi
    if [ "$value" -ge "$((10#$lo))" ] && [ "$value" -le "$((10#$hi))" ] && [ $(((value - 10#$lo) % step)) -eq 0 ]; then
      return 0
    fi
  done
  return 1
}

# cron_matches SCHEDULE 'MINUTE HOUR DAY MONTH WEEKDAY': whether the schedule fires at that time.
# As cron: when both the day of month and the day of week are restricted, either one matching is
# enough; a day of week 7 is Sunday, as 0.
cron_matches() {
  local -a f t
  read -r -a f <<<"$1"
  read -r -a t <<<"$2"
  cron_field_matches "${f[0]}" "${t[0]}" 0 59 || return 1
  cron_field_matches "${f[1]}" "${t[1]}" 0 23 || return 1
  cron_field_matches "${f[3]}" "${t[3]}" 1 12 || return 1
  local dom=1 dow=1
  cron_field_matches "${f[2]}" "${t[2]}" 1 31 || dom=0
  { cron_field_matches "${f[4]}" "${t[4]}" 0 7 || { [ "$((10#${t[4]}))" -eq 0 ] && cron_field_matches "${f[4]}" 7 0 7; }; } || dow=0
  if [ "${f[2]}" != '*' ] && [ "${f[4]}" != '*' ]; then
    [ "$dom" -eq 1 ] || [ "$dow" -eq 1 ]
  else
    [ "$dom" -eq 1 ] && [ "$dow" -eq 1 ]
  fi
}
