#!/usr/bin/env bash
# Builds the Ollama server (CPU only) that the model integration tests run:
# rater's TestRealOllama starts it on 127.0.0.1 and gives it tiny generated
# models, so no weights are ever downloaded. The build takes about 8 minutes
# on 2 cores; it is skipped when the binary of this version is already there.
set -euo pipefail

version=v0.6.5
bin="$(go env GOPATH)/bin/ollama"

if [ -x "$bin" ] && go version -m "$bin" 2>/dev/null | grep -q "mod[[:space:]]*github.com/ollama/ollama[[:space:]]*$version[[:space:]]"; then
	echo "ollama $version already built at $bin"
	exit 0
fi

# The C++ parts of llama.cpp need a compiler and these Debian headers.
need=()
command -v g++ >/dev/null || need+=(g++)
for pkg in nlohmann-json3-dev libstb-dev libcpp-httplib-dev; do
	dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
	apt-get install -y --no-install-recommends "${need[@]}"
fi

echo "building ollama $version into $bin (about 8 minutes on 2 cores)"
cd "$(mktemp -d)"
GOFLAGS= CGO_ENABLED=1 go install "github.com/ollama/ollama@$version"
go version -m "$bin" | grep -q "$version"
echo "ollama $version built"
