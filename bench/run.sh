#!/usr/bin/env bash
# Reproduces the load figures of BENCHMARKS.md on this machine: builds idgate,
# bench/nullauthz and bench/opaauthz, then runs each scenario RUNS times, each time against
# a freshly started server, alternating with the null server, and prints the
# medians and ratios (bench/summary). Loopback only. Needs redis-server for
# the new-user scenario.
#
#   RUNS=3 DURATION=10s ./bench/run.sh            # everything
#   SCENARIOS="null warm" ./bench/run.sh          # a subset
#
# Growth scenarios: warm-routes (ROUTES routes with host and method
# filters, the request's route last), warm-issuers (ISSUERS issuers),
# warm-strip (STRIP extra strip headers), memory-big (CACHED_BIG cached
# identities, tokens.cache_size raised to match; first run only). nullbytes
# is the null server answering with an idgate-shaped allow of idgate's size
# (measured once from a warm idgate: allow_bytes).
#
# OPA-Envoy, side by side: opa is bench/opaauthz (OPA's Go library with
# opa-envoy-plugin's input and evaluation, the canonical JWT policy with
# io.jwt.decode_verify against the load IdP's JWKS) given cold's COLD
# distinct tokens; opa-warm repeats one token, like warm (OPA keeps no
# verified-token cache, so it should cost the same). decode_verify parses
# the whole JWKS on every Check (the plugin gives the evaluation no
# inter-query value cache), and the load's IdP publishes nine keys where a
# production IdP publishes one to three: opa-rs256 keeps only the RS256 key
# (a one-key JWKS), opa-keycache gives OPA its value cache (parsed keys
# kept: the floor of OPA's cost).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3} DURATION=${DURATION:-10s} CONC=${CONC:-16} CONNS=${CONNS:-1}
COLD=${COLD:-30000} USERS=${USERS:-5000} CACHED=${CACHED:-10000} CACHED_BIG=${CACHED_BIG:-100000}
ROUTES=${ROUTES:-1000} ISSUERS=${ISSUERS:-20} STRIP=${STRIP:-50}
SCENARIOS=${SCENARIOS:-"null nullbytes warm warm-routes warm-issuers warm-strip cold opa newuser memory memory-big"}
OUT=${OUT:-$(mktemp -d /tmp/idgate-bench.XXXXXX)}
mkdir -p "$OUT/bin"
# The servers are built as the container image builds idgate (Dockerfile):
# static, stripped; that is the binary whose memory and CPU matter.
build_flags=(-trimpath -ldflags="-s -w")
CGO_ENABLED=0 go build "${build_flags[@]}" -o "$OUT/bin/idgate" ./cmd/idgate
CGO_ENABLED=0 go build "${build_flags[@]}" -o "$OUT/bin/nullauthz" ./bench/nullauthz
go build -o "$OUT/bin/summary" ./bench/summary
(cd bench/opaauthz && CGO_ENABLED=0 go build "${build_flags[@]}" -o "$OUT/bin/opaauthz" .)
IDGATE=$OUT/bin/idgate
# Loopback ports; override to run beside another bench on the same machine.
GRPC=${GRPC:-127.0.0.1:19001} HTTP=${HTTP:-127.0.0.1:19080} IDP=${IDP:-127.0.0.1:19555} REDIS_PORT=${REDIS_PORT:-19379}
RESULTS=$OUT/results.jsonl
: >"$RESULTS"
pid=""

stop() { if [[ -n $pid ]]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=""; fi; }
trap 'stop; [[ -n ${redis_pid:-} ]] && kill $redis_pid 2>/dev/null || true' EXIT

issuers() { echo "[{\"issuer\":\"http://$IDP\",\"audiences\":[\"idgate-load\"],\"userinfo\":$1}${2:-}]"; }

# more_issuers N: N-1 more issuers (unreachable: only their count matters).
more_issuers() {
	local i
	for ((i = 1; i < $1; i++)); do printf ',{"issuer":"http://127.0.0.1:1/issuer%d","audiences":["idgate-load"],"userinfo":false}' "$i"; done
}

# routes_json N: N routes, alternately host- and method-filtered; the load's
# request (GET localhost /api/v1/runs) meets the last one.
routes_json() {
	local i
	printf '['
	for ((i = 0; i < $1 - 1; i++)); do
		if ((i % 2 == 0)); then
			printf '{"path_prefix":"/svc%d","hosts":["h%d.example.com","localhost"]},' "$i" "$i"
		else
			printf '{"path_prefix":"/svc%d","methods":["GET","POST"]},' "$i"
		fi
	done
	printf '{"path_prefix":"/api","hosts":["localhost"],"methods":["GET"]}]'
}

strip_list() { seq -f 'x-extra-identity-%g' -s, 1 "$1"; }

start_null() {
	"$OUT/bin/nullauthz" --addr "$GRPC" --metrics-addr "$HTTP" "$@" 2>>"$OUT/null.log" &
	pid=$!
}

# start_opa [flags...]: opaauthz trusting the load's IdP. The IdP lives in
# the load process and starts after this: opaauthz fetches its JWKS when it
# answers (Checks fail with Unavailable until then, and the load's probe
# waits), before the measured run.
start_opa() {
	"$OUT/bin/opaauthz" --addr "$GRPC" --metrics-addr "$HTTP" --jwks-url "http://$IDP/jwks" \
		--issuer "http://$IDP" --audience idgate-load --jwks-wait 2m "$@" 2>>"$OUT/opa.log" &
	pid=$!
}

# allow_bytes: the size of idgate's warm allow, measured once.
allow_bytes() {
	if [[ -z ${ALLOW_BYTES:-} ]]; then
		start_idgate false
		sleep 0.3
		ALLOW_BYTES=$("$IDGATE" load --addr "$GRPC" --idp-addr "$IDP" --tokens 1 --requests 100 --json 2>>"$OUT/load.log" |
			sed -n 's/.*"allow_bytes":\([0-9]*\).*/\1/p')
		stop
	fi
	echo "$ALLOW_BYTES"
}

# start_idgate USERINFO [extra env...]: idgate logging one JSON line per
# decision to a file, as in production.
start_idgate() {
	local userinfo=$1
	shift
	env IDGATE_SERVER_GRPC_ADDR=$GRPC IDGATE_SERVER_HTTP_ADDR=$HTTP IDGATE_ISSUERS="$(issuers "$userinfo")" "$@" \
		"$IDGATE" serve >>"$OUT/idgate.log" 2>&1 &
	pid=$!
}

# load LABEL ARGS...: one measured run, its JSON line tagged with LABEL.
load() {
	local label=$1
	shift
	sleep 0.3
	"$IDGATE" load --addr "$GRPC" --idp-addr "$IDP" --concurrency "$CONC" --conns "$CONNS" \
		--metrics-url "http://$HTTP/metrics" --json "$@" 2>>"$OUT/load.log" |
		sed "s/^{/{\"scenario\":\"$label\",\"load\":\"$(cut -d' ' -f1 /proc/loadavg)\",/" | tee -a "$RESULTS"
}

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
# rss_parts PID: "anon,file" kB: heap and stacks, and the binary's mapped pages.
rss_parts() { awk '/^RssAnon/ {a=$2} /^RssFile/ {f=$2} END {print "\"rss_anon_kb\":" a ",\"rss_file_kb\":" f}' "/proc/$1/status"; }
heap() { curl -s "http://$HTTP/metrics" | awk '/^go_memstats_heap_inuse_bytes/ {print $2}'; }

for i in $(seq "$RUNS"); do
	for s in $SCENARIOS; do
		case $s in
		null)
			start_null
			load null --tokens 1 --warmup 1000 --duration "$DURATION"
			;;
		nullbytes)
			ALLOW_BYTES=$(allow_bytes)
			start_null --allow-bytes "$ALLOW_BYTES"
			load nullbytes --tokens 1 --warmup 1000 --duration "$DURATION"
			;;
		warm)
			start_idgate false
			load warm --tokens 1 --warmup 1000 --duration "$DURATION"
			;;
		warm-routes)
			start_idgate false IDGATE_ROUTES="$(routes_json "$ROUTES")"
			load "warm-routes-$ROUTES" --tokens 1 --warmup 1000 --duration "$DURATION"
			;;
		warm-issuers)
			env_issuers=$(issuers false "$(more_issuers "$ISSUERS")")
			start_idgate false IDGATE_ISSUERS="$env_issuers"
			load "warm-issuers-$ISSUERS" --tokens 1 --warmup 1000 --duration "$DURATION"
			;;
		warm-strip)
			start_idgate false IDGATE_OUTPUTS_STRIP_HEADERS="$(strip_list "$STRIP")"
			load "warm-strip-$STRIP" --tokens 1 --warmup 1000 --duration "$DURATION"
			;;
		cold)
			start_idgate false
			load cold --tokens "$COLD" --requests "$COLD"
			;;
		opa)
			start_opa
			load opa --tokens "$COLD" --requests "$COLD"
			;;
		opa-keycache)
			start_opa --key-cache
			load opa-keycache --tokens "$COLD" --requests "$COLD"
			;;
		opa-rs256)
			start_opa --jwks-alg RS256
			load opa-rs256 --tokens "$COLD" --requests "$COLD"
			;;
		opa-warm)
			start_opa
			load opa-warm --tokens 1 --warmup 1000 --duration "$DURATION"
			;;
		newuser)
			if [[ -z ${redis_pid:-} ]]; then
				redis-server --port $REDIS_PORT --bind 127.0.0.1 --save "" --appendonly no >"$OUT/redis.log" 2>&1 &
				redis_pid=$!
			fi
			[[ -f $OUT/cache-key ]] || head -c 32 /dev/urandom | base64 >"$OUT/cache-key"
			start_idgate true IDGATE_REDIS_ADDRS=127.0.0.1:$REDIS_PORT IDGATE_REDIS_KEY_FILE="$OUT/cache-key" IDGATE_CACHE_LOCAL_SIZE=0
			load newuser --tokens "$USERS" --users "$USERS" --warmup "$USERS" --duration "$DURATION"
			;;
		memory)
			start_idgate false
			load memory-fill-1 --tokens 1 --requests 1000 >/dev/null
			rss0=$(rss_kb $pid) heap0=$(heap)
			load memory-fill --tokens "$CACHED" --users "$CACHED" --requests "$CACHED" >/dev/null
			rss1=$(rss_kb $pid) heap1=$(heap) parts=$(rss_parts $pid)
			echo "{\"scenario\":\"memory\",\"cached\":$CACHED,\"rss_kb_before\":$rss0,\"rss_kb\":$rss1,$parts,\"heap_before\":$heap0,\"heap\":$heap1}" | tee -a "$RESULTS"
			;;
		memory-big)
			[[ $i == 1 ]] || continue
			start_idgate false IDGATE_TOKENS_CACHE_SIZE="$CACHED_BIG"
			load memory-fill-1 --tokens 1 --requests 1000 >/dev/null
			rss0=$(rss_kb $pid) heap0=$(heap)
			load memory-fill --tokens "$CACHED_BIG" --users "$CACHED_BIG" --requests "$CACHED_BIG" >/dev/null
			rss1=$(rss_kb $pid) heap1=$(heap) parts=$(rss_parts $pid)
			echo "{\"scenario\":\"memory\",\"cached\":$CACHED_BIG,\"rss_kb_before\":$rss0,\"rss_kb\":$rss1,$parts,\"heap_before\":$heap0,\"heap\":$heap1}" | tee -a "$RESULTS"
			;;
		esac
		stop
	done
done
"$OUT/bin/summary" <"$RESULTS"
echo "raw results: $RESULTS"
