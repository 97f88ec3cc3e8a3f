package config

import (
	"bytes"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
)

// NetworkConfig is the [network] section: where a sandboxed command may
// connect when [sandbox] network is "proxy" (the default). Every
// connection goes through chaperone's egress proxy; a destination that is
// neither a package registry nor allowed here waits for a person.
type NetworkConfig struct {
	// Allow adds hosts to the built-in registries: "example.org" (that
	// name only), "*.example.org" (its sub-domains, not itself), an IP
	// literal, or any of these with ":PORT" to allow one port only.
	Allow []string `toml:"allow"`
	// Deny refuses hosts, in the same forms; deny wins over allow and over
	// a person's earlier "always".
	Deny []string `toml:"deny"`
	// Hosts pins names to addresses, like curl's --resolve: a connection
	// to the name goes to "IP:PORT" (or "IP", keeping the port asked for).
	// A pinned name is still subject to Allow and Deny.
	Hosts map[string]string `toml:"hosts"`
	// UploadLimit is how many bytes a command may send to a host it has
	// not used before in its session before the upload waits for a
	// person: "64KiB" by default, "0" never holds uploads.
	UploadLimit Size `toml:"upload_limit"`
	// Projects are the hosts a person allowed for one project with `A` on
	// the panel.
	Projects []NetworkProject `toml:"project"`
}

// NetworkProject is hosts a person allowed for one project.
type NetworkProject struct {
	Project string   `toml:"project"`
	Allow   []string `toml:"allow"`
}

// DefaultUploadLimit is the upload size that waits for a person when the
// host is new in the session (see NetworkConfig.UploadLimit).
const DefaultUploadLimit = 64 << 10

// Size is a byte count written as a number or with a unit: 65536, "64KiB",
// "1MiB", "1MB".
type Size struct {
	Bytes int64
	Set   bool
}

// UnmarshalTOML accepts an integer or a string with a unit.
func (s *Size) UnmarshalTOML(v any) error {
	switch v := v.(type) {
	case int64:
		if v < 0 {
			return fmt.Errorf("size %d is negative (write it like 65536 or \"64KiB\")", v)
		}
		s.Bytes, s.Set = v, true
		return nil
	case string:
		n, err := ParseSize(v)
		if err != nil {
			return err
		}
		s.Bytes, s.Set = n, true
		return nil
	}
	return fmt.Errorf("size must be a number or a string like \"64KiB\", not %T", v)
}

// ParseSize reads "65536", "64KiB", "64K", "1MiB", "1MB", "1GiB".
func ParseSize(v string) (int64, error) {
	t := strings.TrimSpace(v)
	units := []struct {
		suffix string
		mul    int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1000}, {"MB", 1000 * 1000}, {"GB", 1000 * 1000 * 1000},
		{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1}}
	mul := int64(1)
	for _, u := range units {
		if strings.HasSuffix(t, u.suffix) {
			t, mul = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mul
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mul {
		return 0, fmt.Errorf("%q is not a size (write it like 65536 or \"64KiB\")", v)
	}
	return n * mul, nil
}

// Limit is the upload limit in bytes: the configured one, else
// DefaultUploadLimit; 0 means uploads are never held.
func (n NetworkConfig) Limit() int64 {
	if n.UploadLimit.Set {
		return n.UploadLimit.Bytes
	}
	return DefaultUploadLimit
}

// EntryError is a malformed entry of the [network] table.
type EntryError struct {
	Key   string // "allow", "hosts", …
	Value string // the entry as written
	Err   error
}

func (e *EntryError) Error() string { return "[network] " + e.Key + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *EntryError) Unwrap() error { return e.Err }

// Check reports the first malformed entry of n (an *EntryError).
func (n NetworkConfig) Check() error {
	for _, list := range []struct {
		key string
		v   []string
	}{{"allow", n.Allow}, {"deny", n.Deny}} {
		for _, p := range list.v {
			if err := CheckHostPattern(p); err != nil {
				return &EntryError{Key: list.key, Value: p, Err: err}
			}
		}
	}
	for name, addr := range n.Hosts {
		if err := CheckHostPattern(name); err != nil || strings.ContainsAny(name, "*:") {
			return &EntryError{Key: "hosts", Value: name, Err: fmt.Errorf("%q is not a host name (write hosts = { \"name.example\" = \"127.0.0.1:8080\" })", name)}
		}
		if _, err := PinAddr(addr, 443); err != nil {
			return &EntryError{Key: "hosts", Value: addr, Err: fmt.Errorf("%q: %w", name, err)}
		}
	}
	for _, p := range n.Projects {
		for _, h := range p.Allow {
			if err := CheckHostPattern(h); err != nil {
				return &EntryError{Key: "project.allow", Value: h, Err: err}
			}
		}
	}
	return nil
}

// CheckHostPattern reports whether p is a host pattern of NetworkConfig:
// a name, "*." and a name, or an IP literal, each with an optional ":PORT".
func CheckHostPattern(p string) error {
	if strings.ContainsAny(p, "/@?#") || strings.Contains(p, "://") {
		return fmt.Errorf("%q is not a host (write \"example.org\", \"*.example.org\", \"10.0.0.5\" or \"example.org:8443\", without a scheme or path)", p)
	}
	host, port := p, ""
	if h, pt, err := net.SplitHostPort(p); err == nil {
		host, port = h, pt
	}
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
			return fmt.Errorf("%q: the port must be a number from 1 to 65535", p)
		}
	}
	if net.ParseIP(host) != nil {
		return nil
	}
	name := strings.TrimPrefix(host, "*.")
	if name == "" || strings.Contains(name, "*") || strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") ||
		strings.ContainsAny(name, " /@?#[]\\") {
		return fmt.Errorf("%q is not a host (write \"example.org\", \"*.example.org\", \"10.0.0.5\" or \"example.org:8443\")", p)
	}
	return nil
}

// PinAddr parses a [network] hosts address: "IP:PORT", or "IP" with the
// port asked for (port).
func PinAddr(addr string, port int) (string, error) {
	if ip := net.ParseIP(strings.Trim(addr, "[]")); ip != nil {
		return net.JoinHostPort(ip.String(), strconv.Itoa(port)), nil
	}
	h, p, err := net.SplitHostPort(addr)
	if err != nil || net.ParseIP(h) == nil {
		return "", fmt.Errorf("%q is not an address (write \"127.0.0.1:8080\" or \"127.0.0.1\")", addr)
	}
	if n, err := strconv.Atoi(p); err != nil || n <= 0 || n > 65535 {
		return "", fmt.Errorf("%q: the port must be a number from 1 to 65535", addr)
	}
	return addr, nil
}

// AllowHost adds host (as "host:port") to the hosts the person allowed for
// project in the config file at path ([[network.project]]), with a comment
// saying when and why; nothing changes when it is there already. The file
// must still load afterwards, or it is left as it was.
func AllowHost(path, project, hostPort, why string) error {
	if err := CheckHostPattern(hostPort); err != nil {
		return err
	}
	return Append(path, "allowed host", func(cur *Config) bool {
		for _, p := range cur.Network.Projects {
			if p.Project == project && slices.Contains(p.Allow, hostPort) {
				return true
			}
		}
		return false
	}, func(b *bytes.Buffer) error {
		fmt.Fprintf(b, "# Allowed with A on the chaperone panel, %s: %s\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"),
			strings.ReplaceAll(why, "\n", " "))
		// The array's header alone: a [network] table may be in the file
		// already, and may not be written twice.
		fmt.Fprintf(b, "[[network.project]]\nproject = %s\nallow = [%s]\n", tomlString(project), tomlString(hostPort))
		return nil
	})
}

// tomlString is s as a TOML basic string.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, "\\u%04X", r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
