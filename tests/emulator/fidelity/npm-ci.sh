# Sourced by the fidelity scripts: npm ci in "$work" unless "$work/$1"
# exists and was installed from the same package-lock.json; exits 77 (skip)
# when the registry is unreachable, 1 on failure.
npm_ci_or_skip () {
  [ -d "$work/$1" ] && cmp -s "$work/package-lock.json" \
    "$work/node_modules/.package-lock.json.ci" 2>/dev/null && return 0
  if ! out=$(cd "$work" && npm ci --no-audit --no-fund 2>&1); then
    reason=$(printf '%s\n' "$out" | grep -m1 -E 'ERR|network|ENOTFOUND|ECONN|ETIMEDOUT|E[0-9]{3}' || printf '%s\n' "$out" | tail -n1)
    case "$out" in
      *ENOTFOUND*|*ECONNREFUSED*|*ETIMEDOUT*|*EAI_AGAIN*|*ENETUNREACH*|*network*|*E50[0-9]*|*E403*|*E404*)
        echo "SKIP: npm registry unreachable: $reason"; exit 77 ;;
    esac
    echo "FAIL: npm ci failed: $reason"
    exit 1
  fi
  cp "$work/package-lock.json" "$work/node_modules/.package-lock.json.ci"
}
