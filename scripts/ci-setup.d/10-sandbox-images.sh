#!/usr/bin/env bash
# Builds the local sandbox test image chaperone-test:latest for docker and
# podman, with no registry: FROM scratch plus Debian's static busybox (every
# applet linked into /bin) and static bash as /bin/bash.
# (glibc's C.UTF-8 locale is copied in too.)
# Needs: docker (daemon running) and/or podman; busybox-static; bash-static.
set -euo pipefail

tag=${CHAPERONE_TEST_IMAGE:-chaperone-test:latest}
busybox=$(command -v busybox)
bash_static=/bin/bash-static
[ -x "$bash_static" ] || { echo "10-sandbox-images: $bash_static missing (apt-get install bash-static)" >&2; exit 1; }
file "$busybox" 2>/dev/null | grep -q static || busybox=/bin/busybox

ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
cp "$busybox" "$ctx/busybox"
cp "$bash_static" "$ctx/bash"
# glibc's C.UTF-8 locale, so static bash does not warn under LC_ALL=C.UTF-8.
mkdir -p "$ctx/locale"
if [ -d /usr/lib/locale/C.utf8 ]; then cp -r /usr/lib/locale/C.utf8 "$ctx/locale/"; fi
printf 'root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$ctx/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$ctx/group"
cat >"$ctx/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY busybox /bin/busybox
COPY bash /bin/bash
COPY passwd group /etc/
COPY locale /usr/lib/locale/
RUN ["/bin/busybox", "--install", "-s", "/bin"]
RUN ["/bin/busybox", "mkdir", "-p", "/usr/bin", "/usr/local/bin", "/tmp", "/root", "/run", "/home"]
RUN ["/bin/busybox", "ln", "-s", "/bin/env", "/usr/bin/env"]
RUN ["/bin/busybox", "ln", "-s", "/bin/bash", "/usr/bin/bash"]
ENV PATH=/usr/local/bin:/usr/bin:/bin
CMD ["/bin/bash"]
DOCKERFILE

if docker info >/dev/null 2>&1; then
	echo "10-sandbox-images: docker build $tag" >&2
	docker build -q -t "$tag" "$ctx" >/dev/null
	if command -v podman >/dev/null 2>&1; then
		echo "10-sandbox-images: podman load $tag" >&2
		docker save "$tag" | podman load -q >/dev/null
	fi
elif command -v podman >/dev/null 2>&1; then
	echo "10-sandbox-images: podman build $tag" >&2
	podman build -q -t "$tag" "$ctx" >/dev/null
else
	echo "10-sandbox-images: neither docker nor podman works; skipping" >&2
fi
