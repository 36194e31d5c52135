# tls.bash - certificates and openssl s_server for the TLS suites; loaded
# after helper.bash:
#	load helper
#	load tools/tls
#
# shellcheck disable=SC2034  # PKI, SRV_PID, SRV_PORT are for the callers

# make_certs DIR - a throw-away PKI in DIR, exported as PKI:
#   ca.pem            the CA everything below is signed by
#   other-ca.pem      a CA that signed nothing here ("unknown CA")
#   server.pem/.key   CN=localhost, SAN DNS:localhost IP:127.0.0.1 IP:::1
#   expired.pem       the same key and names, valid until yesterday
#   client.pem/.key   CN=vrelay-test-client, for client authentication
make_certs() {
	local d=$1
	mkdir -p "$d"
	(
		cd "$d" || exit 1
		# a config of our own: the test guest has no openssl.cnf, and the
		# host's must not decide what the certificates contain
		printf '[req]\ndistinguished_name=dn\n[dn]\n' >req.cnf
		export OPENSSL_CONF=$PWD/req.cnf
		ec() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
		ec ca.key && ec other-ca.key && ec server.key && ec client.key
		ca() { # ca KEY OUT CN
			openssl req -x509 -new -key "$1" -out "$2" -days 30 -subj "/CN=$3" \
				-addext basicConstraints=critical,CA:TRUE -addext keyUsage=keyCertSign,cRLSign
		}
		ca ca.key ca.pem vrelay-test-ca
		ca other-ca.key other-ca.pem vrelay-other-ca
		printf 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nextendedKeyUsage=serverAuth\n' >server.ext
		printf 'extendedKeyUsage=clientAuth\n' >client.ext
		openssl req -new -key server.key -subj /CN=localhost -out server.csr
		openssl req -new -key client.key -subj /CN=vrelay-test-client -out client.csr
		sign() { # sign CSR OUT DAYS EXT
			openssl x509 -req -in "$1" -CA ca.pem -CAkey ca.key -CAcreateserial \
				-out "$2" -days "$3" -extfile "$4" 2>/dev/null
		}
		sign server.csr server.pem 30 server.ext
		# -days -1: not after is a day before not before, i.e. expired now
		sign server.csr expired.pem -1 server.ext
		sign client.csr client.pem 30 client.ext
	) || return 1
	PKI=$d
	export PKI
}

# s_server NAME ARGS... - "openssl s_server -quiet ARGS" for one connection
# on a free port of 127.0.0.1; sets SRV_PID and SRV_PORT once it listens.
# -quiet also turns off s_server's one-letter commands, which a chunk of
# data that happens to start with Q or q would trigger.  Its stdout is
# $BATS_TEST_TMPDIR/NAME.out, stderr NAME.err.
s_server() {
	s_server_in /dev/null "$@"
}

# s_server_in INFILE NAME ARGS... - s_server with stdin from INFILE (what it
# sends to the client; its EOF ends the connection)
s_server_in() {
	local in=$1 name=$2
	shift 2
	SRV_PORT=$(python3 "$BATS_TEST_DIRNAME/tools/vnet.py" freeport)
	openssl s_server -quiet -naccept 1 -accept 127.0.0.1:"$SRV_PORT" "$@" <"$in" \
		>"$BATS_TEST_TMPDIR/$name.out" 2>"$BATS_TEST_TMPDIR/$name.err" &
	BG_PIDS+=("$!")
	SRV_PID=$!
	if ! wait_until 10 tcp_listening "$SRV_PORT"; then
		cat "$BATS_TEST_TMPDIR/$name.err" >&2
		return 1
	fi
}

# tcp_listening PORT - something listens on TCP PORT (asks the kernel, so
# the one connection s_server takes is not spent on a probe)
tcp_listening() {
	[ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]
}
