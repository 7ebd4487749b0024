#!/usr/bin/env bash
# Static checks of the deployment kit, for CI and for anyone editing deploy/.
#
#   deploy/ci-checks.sh            run every check whose tool is installed, say what was skipped
#   deploy/ci-checks.sh --strict   a missing tool is a failure too (CI, once the tools are installed)
#
# Tools: promtool (Debian: `apt-get install -y prometheus`), systemd-analyze (Debian:
# `apt-get install -y systemd`), python3 (always). Exit status: 0 if every check that ran
# passed (and, with --strict, none was skipped), 1 otherwise.
#
# Environment:
#   FIXROUTER_BIN      executable put in ExecStart= for `systemd-analyze verify`, which insists
#                      that it exists (default: `fixrouter` on PATH, else the repository's
#                      .venv, else /bin/true; the unit's real path is /opt/fixrouter/venv/...)
#   SECURITY_THRESHOLD highest acceptable `systemd-analyze security` exposure, in tenths as
#                      --threshold takes it (default 20, i.e. 2.0; the unit scores 1.2)

set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
strict=0
if [[ ${1:-} == --strict ]]; then strict=1; elif [[ $# -gt 0 ]]; then
    echo "usage: $0 [--strict]" >&2
    exit 2
fi

failed=()
skipped=()
passed=()

run() { # NAME COMMAND...: run a check, show its output, record the verdict
    local name=$1
    shift
    echo "==> $name: $*"
    if "$@"; then
        passed+=("$name")
    else
        echo "FAILED: $name" >&2
        failed+=("$name")
    fi
}

skip() { # NAME REASON
    echo "==> $1: SKIPPED ($2)"
    skipped+=("$1 ($2)")
}

# --- Prometheus -----------------------------------------------------------------------------
if command -v promtool >/dev/null 2>&1; then
    echo "promtool: $(promtool --version 2>&1 | head -n1)"
    run "promtool check config" promtool check config "$here/prometheus/prometheus.yml"
    run "promtool check rules" promtool check rules "$here/prometheus/alerts.yml"
    # Relative rule_files in the test file resolve against its directory.
    run "promtool test rules" promtool test rules "$here/prometheus/alerts.test.yml"
else
    for c in "promtool check config" "promtool check rules" "promtool test rules"; do
        skip "$c" "promtool not installed: apt-get install -y prometheus"
    done
fi

# --- systemd --------------------------------------------------------------------------------
unit="$here/systemd/fixrouter.service"
if command -v systemd-analyze >/dev/null 2>&1; then
    echo "systemd-analyze: $(systemd-analyze --version 2>&1 | head -n1)"
    bin=${FIXROUTER_BIN:-}
    if [[ -z $bin ]]; then
        if command -v fixrouter >/dev/null 2>&1; then bin=$(command -v fixrouter)
        elif [[ -x $repo/.venv/bin/fixrouter ]]; then bin=$repo/.venv/bin/fixrouter
        else bin=/bin/true; fi
    fi
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    # verify refuses an ExecStart binary that does not exist on this machine; only that path
    # is substituted, everything else is checked as shipped.
    sed "s#^ExecStart=/opt/fixrouter/venv/bin/fixrouter #ExecStart=$bin #" "$unit" \
        >"$tmp/fixrouter.service"
    if ! grep -q "^ExecStart=$bin " "$tmp/fixrouter.service"; then
        echo "ExecStart= of $unit is not /opt/fixrouter/venv/bin/fixrouter ..." >&2
        failed+=("unit ExecStart path")
    fi
    # shellcheck disable=SC2317  # verify and security are called through run()
    verify() { # systemd-analyze verify exits 0 on warnings: treat any output as failure
        local out
        out=$(systemd-analyze verify "$tmp/fixrouter.service" 2>&1)
        local rc=$?
        [[ -n $out ]] && echo "$out"
        [[ $rc -eq 0 && -z $out ]]
    }
    run "systemd-analyze verify" verify
    # shellcheck disable=SC2317
    security() {
        systemd-analyze security --offline=true --threshold="${SECURITY_THRESHOLD:-20}" \
            "$tmp/fixrouter.service" | tail -n 3
        [[ ${PIPESTATUS[0]} -eq 0 ]]
    }
    if systemd-analyze security --help 2>/dev/null | grep -q -- --offline; then
        run "systemd-analyze security" security
    else
        skip "systemd-analyze security" "this systemd has no --offline (needs systemd >= 250)"
    fi
else
    skip "systemd-analyze verify" "systemd-analyze not installed: apt-get install -y systemd"
    skip "systemd-analyze security" "systemd-analyze not installed: apt-get install -y systemd"
fi

# --- Grafana --------------------------------------------------------------------------------
run "dashboard is JSON" python3 -m json.tool "$here/grafana/fixrouter-dashboard.json" /dev/null

# --- Summary --------------------------------------------------------------------------------
echo
echo "passed:  ${#passed[@]}"
for s in "${skipped[@]+"${skipped[@]}"}"; do echo "skipped: $s"; done
for f in "${failed[@]+"${failed[@]}"}"; do echo "FAILED:  $f"; done
if [[ ${#failed[@]} -gt 0 ]]; then exit 1; fi
if [[ $strict -eq 1 && ${#skipped[@]} -gt 0 ]]; then
    echo "--strict: checks were skipped" >&2
    exit 1
fi
exit 0
