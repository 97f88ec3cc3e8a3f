// Package sandbox runs a command string with real bash in a backend: the
// host, a per-project docker or podman container, or a bubblewrap jail.
//
// The shim picks a backend once per command with Choose (cheap: no program
// is run) and hands it a Job:
//
//	b, err := sandbox.Choose(cfg.Backend, cfg.Sandbox, os.Environ())
//	code, err := b.Run(ctx, &sandbox.Job{Script: cmd, Dir: cwd, Env: env,
//		Shell: absArgv0, StdinFile: os.Stdin, StdoutFile: os.Stdout, StderrFile: os.Stderr})
//
// Every sandboxed backend (Engine for docker and podman, Bwrap) keeps the
// same promises: the working tree read-write at its own path with
// .git/hooks, .git/config and .chaperone.toml read-only over it, the rest
// read-only or absent, home an empty tmpfs, no network, no capabilities,
// only allow-listed environment variables (Policy.Env), stdio, terminal and
// exit status passed through, and the command ended when chaperone is
// killed, even by SIGKILL. Agent wrapper files (Claude Code's cwd file,
// Gemini CLI's background-jobs file) land on the host; their snapshot
// folders are shown read-only.
//
// Inside a sandbox, chaperone must behave as plain bash: Inside tells, and
// ExecBash does it.
package sandbox
