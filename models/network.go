package models

import "time"

// Registry is one ecosystem's default package registry: where its
// installers fetch from unless told otherwise.
type Registry struct {
	Ecosystem string
	// Hosts are exact host names; a leading "." matches sub-domains, and
	// an entry with a path ("github.com/rust-lang/crates.io-index") counts
	// for that path only.
	Hosts []string
}

// Registries are the sources each ecosystem installs from by default. The
// rater treats installs from anything else as a package from an unknown
// source; the egress proxy lets sandboxed commands reach these hosts
// without asking. Extend it here for a public registry; a private one
// goes in the user's config.
var Registries = []Registry{
	{"npm", []string{"registry.npmjs.org", "registry.npmjs.com", "registry.yarnpkg.com", "registry.npmmirror.com", "npm.pkg.github.com"}},
	{"pypi", []string{"pypi.org", "pypi.python.org", "files.pythonhosted.org", "test.pypi.org", "download.pytorch.org"}},
	{"go", []string{"proxy.golang.org", "sum.golang.org", "goproxy.io", "goproxy.cn", "sum.golang.google.cn"}},
	{"crates", []string{"crates.io", "static.crates.io", "index.crates.io", "github.com/rust-lang/crates.io-index"}},
	{"rubygems", []string{"rubygems.org", "index.rubygems.org", "gems.ruby-china.com"}},
	{"maven", []string{"repo.maven.apache.org", "repo1.maven.org", "central.sonatype.com", "plugins.gradle.org", "maven.google.com", "dl.google.com"}},
	{"nuget", []string{"api.nuget.org", "www.nuget.org"}},
	{"packagist", []string{"repo.packagist.org", "packagist.org"}},
	{"conda", []string{"conda.anaconda.org", "repo.anaconda.com", "anaconda.org"}},
	{"hex", []string{"hex.pm", "repo.hex.pm"}},
	{"pub", []string{"pub.dev", "pub.dartlang.org"}},
	{"deno", []string{"deno.land", "jsr.io"}},
	{"cocoapods", []string{"cdn.cocoapods.org", "trunk.cocoapods.org"}},
	{"homebrew", []string{"formulae.brew.sh", "ghcr.io"}},
}

// Connection is one network connection a sandboxed command made through
// the egress proxy, as its audit record keeps it.
type Connection struct {
	Time time.Time `json:"time"`
	Host string    `json:"host"`
	Port int       `json:"port"`
	// Method is the HTTP method of a plain request, CONNECT for a tunnel
	// (HTTPS), or SOCKS5.
	Method string `json:"method"`
	// Up and Down are the bytes sent and received through the proxy.
	Up   int64 `json:"up"`
	Down int64 `json:"down"`
	// Allowed says whether the connection was let through.
	Allowed bool `json:"allowed"`
	// By says who decided: ByList (the registries or [network] allow),
	// ByDenyList, ByPerson, ByRemembered (a person's "always" for the
	// project), ByTimeout, ByNoPanel, or ByPolicy (refused by a rule of
	// the proxy itself, e.g. an address on the host's own network).
	By string `json:"by"`
	// Reason is why it was refused, for a person; empty when allowed.
	Reason string `json:"reason,omitempty"`
	// Held is set when the upload was stopped for a person's answer
	// after UploadLimit bytes (a host new in the session).
	Held bool `json:"held,omitempty"`
}

// Who decided about a connection, besides the By* of a verdict.
const (
	ByList     = "list"
	ByDenyList = "deny-list"
	ByPolicy   = "policy"
)
