// Package netproxy is the sandbox's one way out to the network: an HTTP
// and SOCKS5 proxy that runs on the host, outside every sandbox, and lets
// a connection through only to a host the policy allows. A connection to
// any other host is held for a person, like a high command, through the
// approval panel; with no panel it is refused at once.
//
// A sandboxed command has only loopback. Inside, a forwarder (Forward,
// run by the reaper that every sandboxed command runs under) listens on
// 127.0.0.1 and carries each connection to a unix socket that chaperone
// binds into the sandbox; the proxy serves that socket on the host. The
// proxy variables (HTTP_PROXY and the others, see Env) point programs at
// the forwarder. A program that ignores them reaches nothing: there is no
// route out and DNS answers nothing.
//
// The proxy resolves names itself: first the [network] hosts pins, then
// the host's resolver. A name that resolves to an address of this
// machine's own networks (loopback, private, link-local) is refused unless
// it is pinned, so that the sandbox cannot reach services on the host or
// its network through an allowed name. The proxy never terminates TLS: a
// CONNECT is a tunnel to the host it names.
//
// Every connection is recorded (Proxy.Connections) for the command's
// audit record: host, port, method, bytes each way, and who decided.
package netproxy
