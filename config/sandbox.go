package config

// SandboxConfig is the [sandbox] table: how commands are confined.
//
// The zero value is the strict default: the image from CHAPERONE_IMAGE (or
// the built-in default), network only through the egress proxy, read-only root, 2 GiB of memory, 2 CPUs,
// 1024 processes, the default OCI runtime, only the built-in environment
// allow-list and no extra mounts.
//
// Every field here is the user's to set: a project's .chaperone.toml can
// only add to Env and choose the Image (see Project), so a project, which an
// agent may be able to edit, can never loosen its own confinement.
type SandboxConfig struct {
	// Image is the container image for docker and podman.
	Image string `toml:"image"`
	// Network is how a command reaches the network. "proxy" (the default,
	// also when empty): only loopback inside, and chaperone's egress proxy
	// as the one way out, with the hosts of the [network] table allowed and
	// the others held for a person. "none": no network at all. The name
	// of a docker/podman network such as "bridge", or "host" for
	// bubblewrap, gives the command that network, unwatched.
	Network string `toml:"network"`
	// Memory is the container memory limit in docker's syntax ("2g").
	Memory string `toml:"memory"`
	// CPUs is the number of CPUs the container may use ("2", "0.5").
	CPUs string `toml:"cpus"`
	// Pids is the limit on processes in the container (0 = 1024).
	Pids int `toml:"pids"`
	// Runtime is the OCI runtime, e.g. "runsc" for gVisor; empty is the
	// engine's default.
	Runtime string `toml:"runtime"`
	// Env lists more environment variable names to pass in, beyond the
	// built-in allow-list. A name ending in "*" is a prefix; a prefix never
	// lets through a name that looks secret (KEY, TOKEN, SECRET, PASSWORD,
	// cloud and registry credentials): those pass only when named exactly.
	// git's configuration variables (GIT_CONFIG*) never pass by this list:
	// only as a set of harmless settings (see sandbox.Policy.Env).
	Env []string `toml:"env"`
	// Mounts are extra host paths shown read-only in the sandbox, at the
	// same path, or "HOST:SANDBOX" to place them elsewhere.
	Mounts []string `toml:"mounts"`
	// Protect lists more paths, relative to the project, that host tools
	// run and that are read-only in the sandbox, like .envrc or .vscode/
	// (see sandbox.HostExec for the built-in list). A project file may add
	// to it.
	Protect []string `toml:"protect"`
	// WritableRoot makes the container's root filesystem writable.
	WritableRoot bool `toml:"writable_root"`
}

// Project returns the user's sandbox settings with what a trusted project
// file may contribute: more Env names, more Protect paths, and its Image
// when the user named none. Everything else in p is ignored.
func (s SandboxConfig) Project(p SandboxConfig) SandboxConfig {
	out := s
	out.Env = append(append([]string{}, s.Env...), p.Env...)
	if out.Image == "" {
		out.Image = p.Image
	}
	out.Mounts = append([]string{}, s.Mounts...)
	out.Protect = append(append([]string{}, s.Protect...), p.Protect...)
	return out
}
