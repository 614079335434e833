#!/usr/bin/env bash
# Makes a CA and certificates for a test deployment of labrack (mTLS between controller and
# workers, TLS for clients), with openssl:
#
#   deploy/tls.sh OUT_DIR [--controller NAME]... [--worker HOST_ID[=NAME,...]]...
#
# OUT_DIR/ca.pem, ca.key          the deployment's CA (keep ca.key off the hosts)
# OUT_DIR/controller.pem, .key    named labrack-controller, valid for localhost,
#                                 127.0.0.1 and every --controller NAME (DNS name or IP)
# OUT_DIR/worker-HOST_ID.pem, .key  named HOST_ID (the controller accepts a worker's
#                                 registration only for the host id its certificate names),
#                                 valid for HOST_ID, localhost, 127.0.0.1 and each NAME
#                                 (the address the controller reaches the worker at)
#
# Then: labrack-controller --tls-ca ca.pem --tls-cert controller.pem --tls-key controller.key
#       labrack-worker --host-id HOST_ID --tls-ca ca.pem --tls-cert worker-HOST_ID.pem ...
#       labrackctl --tls-ca ca.pem ...   (or LABRACK_TLS_CA=ca.pem)
# Keys are EC P-256, certificates valid for 825 days. Existing files are kept: a second run
# adds what is missing.
set -euo pipefail

usage() {
  sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

[[ $# -ge 1 && $1 != -* ]] || usage
out=$1
shift
controller_names=()
workers=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --controller) [[ $# -ge 2 ]] || usage; controller_names+=("$2"); shift 2 ;;
    --worker) [[ $# -ge 2 ]] || usage; workers+=("$2"); shift 2 ;;
    *) echo "tls.sh: unknown argument $1" >&2; usage ;;
  esac
done

mkdir -p "$out"
umask 077

# "DNS:a,IP:1.2.3.4,..." for names and addresses.
alt_names() {
  local list="DNS:localhost,IP:127.0.0.1" n
  for n in "$@"; do
    [[ -n $n ]] || continue
    if [[ $n =~ ^[0-9.]+$ || $n == *:* ]]; then list+=",IP:$n"; else list+=",DNS:$n"; fi
  done
  echo "$list"
}

# issue NAME CN ALT_NAMES: OUT_DIR/NAME.pem and NAME.key, signed by the CA.
issue() {
  local name=$1 cn=$2 alt=$3
  [[ -s $out/$name.pem ]] && return 0
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$out/$name.key" -subj "/CN=$cn" -out "$out/$name.csr" 2>/dev/null
  openssl x509 -req -in "$out/$name.csr" -CA "$out/ca.pem" -CAkey "$out/ca.key" \
    -CAcreateserial -days 825 -sha256 -out "$out/$name.pem" \
    -extfile <(printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=CA:FALSE\n' "$alt") \
    2>/dev/null
  rm -f "$out/$name.csr"
  echo "tls.sh: $out/$name.pem ($cn; $alt)"
}

if [[ ! -s $out/ca.pem ]]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$out/ca.key" -subj "/CN=labrack deployment CA" -days 3650 -sha256 \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$out/ca.pem" 2>/dev/null
  echo "tls.sh: $out/ca.pem (new CA)"
fi

issue controller labrack-controller "$(alt_names "${controller_names[@]+"${controller_names[@]}"}")"
for w in "${workers[@]+"${workers[@]}"}"; do
  id=${w%%=*}
  names=()
  [[ $w == *=* ]] && IFS=, read -r -a names <<<"${w#*=}"
  if [[ ! $id =~ ^[a-z0-9][a-z0-9-]{0,62}$ ]]; then
    echo "tls.sh: --worker $id: a host id is 1 to 63 of [a-z0-9-], starting with a letter or digit" >&2
    exit 2
  fi
  issue "worker-$id" "$id" "$(alt_names "$id" "${names[@]+"${names[@]}"}")"
done
chmod 0644 "$out"/*.pem
