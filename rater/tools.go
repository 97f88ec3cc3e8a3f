package rater

import (
	"strings"

	"github.com/chaperone-dev/chaperone/internal/lazyre"
	"github.com/chaperone-dev/chaperone/models"
	"github.com/chaperone-dev/chaperone/parser"
)

// subs classifies subcommands: low are known quiet, each other set maps to
// the rule it triggers. Unlisted subcommands are unknown (undecided).
type subs struct {
	low  map[string]bool
	rule map[string]Rule
}

func (s subs) judge(k *check, c *cmd, sub string) bool {
	if s.low[sub] {
		return true
	}
	if r, ok := s.rule[sub]; ok {
		k.hit(r, c.span())
		return true
	}
	k.hit(ruleUnknown, c.span())
	return false
}

func ruleFor(r Rule, names ...string) map[string]Rule {
	m := make(map[string]Rule, len(names))
	for _, n := range names {
		m[n] = r
	}
	return m
}

func merge(ms ...map[string]Rule) map[string]Rule {
	out := map[string]Rule{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

var gitLow = set("status", "diff", "log", "show", "add", "commit", "branch", "blame", "grep", "ls-files", "ls-tree", "rev-parse",
	"describe", "shortlog", "reflog", "tag", "stash", "merge", "switch", "cherry-pick", "bisect", "worktree", "remote", "config",
	"init", "mv", "rm", "notes", "whatchanged", "cat-file", "show-ref", "for-each-ref", "merge-base", "name-rev", "rev-list",
	"count-objects", "fsck", "help", "version", "var", "check-ignore", "check-attr", "diff-tree", "diff-index", "diff-files",
	"range-diff", "format-patch", "apply", "am", "mergetool", "difftool", "sparse-checkout", "lfs", "gc", "prune", "maintenance",
	"verify-commit", "verify-tag", "archive", "bundle", "checkout", "restore", "reset", "revert", "rebase", "clean", "citool", "gui", "instaweb",
	"annotate", "show-branch", "submodule", "update-index", "write-tree", "read-tree", "commit-tree", "hash-object", "symbolic-ref", "update-ref", "stage", "bugreport")

func gitCmd(k *check, c *cmd) bool {
	// Global options before the subcommand.
	args := c.args
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		a := args[0]
		switch {
		case a == "-c" && len(args) > 1:
			// The parser reads the program such a key runs as a command
			// of its own; a shell line or a program outside the project
			// is a way to run anything.
			// The value is judged by the table of git's settings
			// (settings.go); a run key it does not know, as before.
			if key, val, ok := strings.Cut(args[1], "="); ok && !k.gitSetting(c, key, models.Word{Lit: val}, false) && parser.GitRunKey(key) {
				if v := strings.TrimPrefix(val, "!"); runsSomething(v, &k.where) || looksLikeExec(v) {
					k.hit(ruleExecIndirect, c.span())
				}
			}
			args = args[2:]
			continue
		case a == "-C" || a == "--git-dir" || a == "--work-tree" || a == "--namespace" || a == "--exec-path" && len(args) > 1:
			if a == "--exec-path" {
				k.hit(ruleExecIndirect, c.span())
			}
			if len(args) > 1 {
				args = args[2:]
				continue
			}
		case strings.HasPrefix(a, "--exec-path="), strings.HasPrefix(a, "--config-env"):
			k.hit(ruleExecIndirect, c.span())
		}
		args = args[1:]
	}
	if len(args) == 0 {
		return true
	}
	sub, rest := args[0], args[1:]
	has := func(opts ...string) bool { return hasOption(rest, opts...) }
	switch sub {
	case "push":
		gitPush(k, c, rest) // remotes.go
	case "clone", "fetch", "pull", "ls-remote":
		if sub == "clone" && localClone(rest) {
			return true
		}
		k.hit(ruleNetFetch, c.span())
		for i, a := range rest {
			if a == "-c" || a == "--config" {
				if key, val, ok := strings.Cut(valueOf(rest[i:], a), "="); ok {
					// Written into the new repository's config.
					k.gitSetting(c, key, models.Word{Lit: val}, true)
				}
			}
			if a == "--template" || strings.HasPrefix(a, "--template=") {
				// The template's hooks are copied into the clone.
				k.gitSetting(c, "init.templatedir", models.Word{Lit: valueOf(rest[i:], "--template")}, true)
				if i+1 < len(rest) && strings.Contains(rest[i+1], "=") && parser.GitRunKey(rest[i+1][:strings.IndexByte(rest[i+1], '=')]) {
					// git clone -c core.sshCommand=… is common with deploy keys.
					k.hit(ruleWriteConfig, c.span())
				}
			}
			if strings.HasPrefix(a, "--upload-pack") || strings.HasPrefix(a, "-u") && sub == "clone" {
				k.hit(ruleExecIndirect, c.span())
			}
			if strings.HasPrefix(a, "ext::") {
				k.hit(ruleExecIndirect, c.span())
			}
		}
		if sub == "pull" && has("--rebase", "-r") {
			k.hit(ruleGitRewrite, c.span())
		}
	case "submodule":
		if len(rest) > 0 && (rest[0] == "add" || rest[0] == "update" || rest[0] == "sync" || rest[0] == "deinit" || rest[0] == "foreach") {
			k.hit(ruleNetFetch, c.span())
		}
	case "config":
		gitRemoteConfig(k, c, rest) // remotes.go
		return gitConfig(k, c, rest)
	case "reset":
		if has("--hard", "--merge", "--keep") {
			k.hit(ruleGitRewrite, c.span())
		}
	case "checkout", "restore":
		pathspec := false
		for _, a := range rest {
			if a == "." || a == "--" || a == ":/" || a == "-f" || a == "--force" || a == "--worktree" || a == "-W" || a == "--theirs" || a == "--ours" || a == "-p" || a == "--patch" {
				pathspec = true
			}
		}
		if sub == "restore" {
			pathspec = !has("--staged", "-S") || has("--worktree", "-W")
		}
		if sub == "checkout" && !pathspec {
			pos := 0
			for _, a := range rest {
				if !strings.HasPrefix(a, "-") {
					pos++
				}
			}
			// `git checkout main.py` restores a file; `git checkout dev`
			// switches branch: a dot in the name suggests a file.
			for _, a := range rest {
				if !strings.HasPrefix(a, "-") && strings.Contains(a, ".") && !strings.Contains(a, "/") && pos == 1 && !has("-b", "-B", "--track", "-t") {
					pathspec = true
				}
			}
		}
		if pathspec {
			k.hit(ruleGitRewrite, c.span())
		}
	case "clean":
		if has("-n", "--dry-run") {
			return true
		}
		k.hit(ruleGitRewrite, c.span())
	case "rebase":
		if has("--abort", "--continue", "--skip", "--quit", "--edit-todo", "--show-current-patch") {
			return true
		}
		if v := valueOf(rest, "--exec", "-x"); v != "" {
			k.hit(ruleExecIndirect, c.span())
		}
		k.hit(ruleGitRewrite, c.span())
	case "commit":
		if has("--amend") {
			k.hit(ruleGitRewrite, c.span())
		}
	case "stash":
		if len(rest) > 0 && (rest[0] == "drop" || rest[0] == "clear") {
			k.hit(ruleGitRewrite, c.span())
		}
	case "branch":
		if has("-D", "--delete", "-d") && has("-r", "--remotes") || has("-D") || has("-f", "--force") {
			k.hit(ruleGitRewrite, c.span())
		}
	case "tag":
		if has("-d", "--delete", "-f", "--force") {
			k.hit(ruleGitRewrite, c.span())
		}
	case "filter-branch", "filter-repo", "replace":
		k.hit(ruleGitRewrite, c.span())
	case "update-ref":
		if has("-d") {
			k.hit(ruleGitRewrite, c.span())
		}
	case "bisect":
		if len(rest) > 0 && rest[0] == "run" {
			if len(rest) > 1 {
				k.hit(ruleScript, c.span())
			}
		}
	case "rm":
		if has("--cached") {
			return true
		}
		k.hit(ruleDeleteLocal, c.span())
	case "gc", "prune":
		if has("--prune=now", "--aggressive") {
			k.hit(ruleGitRewrite, c.span())
		}
	case "send-email", "request-pull":
		k.hit(ruleNetUpload, c.span())
	case "daemon", "instaweb", "http-backend":
		k.hit(ruleBackground, c.span())
	case "credential", "credential-store", "credential-cache":
		k.hit(ruleSecretsRead, c.span())
	case "archive":
		if has("--remote") {
			k.hit(ruleNetFetch, c.span())
		}
	case "remote":
		gitRemote(k, c, rest) // remotes.go
	case "lfs":
		if len(rest) > 0 && (rest[0] == "push") {
			k.hit(ruleGitPush, c.span())
		} else if len(rest) > 0 && (rest[0] == "pull" || rest[0] == "fetch") {
			k.hit(ruleNetFetch, c.span())
		}
	case "p4", "svn", "cvsimport":
		k.hit(ruleNetFetch, c.span())
	default:
		if !gitLow[sub] {
			// A git alias or an external git-foo command.
			k.hit(ruleUnknown, c.span())
			return false
		}
	}
	return true
}

func valueOf(args []string, opts ...string) string {
	for i, a := range args {
		for _, o := range opts {
			if a == o && i+1 < len(args) {
				return args[i+1]
			}
			if strings.HasPrefix(a, o+"=") {
				return a[len(o)+1:]
			}
		}
	}
	return ""
}

func gitConfig(k *check, c *cmd, rest []string) bool {
	global := false
	var pos []string
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		switch {
		case a == "--global" || a == "--system" || a == "--file" || a == "-f" || strings.HasPrefix(a, "--file="):
			global = a != "--file" && a != "-f" && !strings.HasPrefix(a, "--file=")
			if a == "--system" {
				k.hit(rulePrivSystem, c.span())
			}
			if a == "--file" || a == "-f" {
				i++
				if i < len(rest) {
					k.write(c, models.Word{Lit: rest[i]}, false)
				}
			}
		case a == "--edit" || a == "-e":
			if global {
				k.hit(ruleWriteConfig, c.span())
			}
		case strings.HasPrefix(a, "-"):
		default:
			pos = append(pos, a)
		}
	}
	if len(pos) > 0 && (pos[0] == "set" || pos[0] == "unset" || pos[0] == "get" || pos[0] == "list" || pos[0] == "edit") {
		if pos[0] == "get" || pos[0] == "list" {
			return true
		}
		pos = pos[1:]
	}
	if len(pos) >= 2 {
		key := pos[0]
		// A key that runs or fetches something has its value judged
		// (settings.go); even a harmless one changes what git runs.
		if s := k.toolSetting(c, &gitTable, key, models.Word{Lit: pos[1]}, true); s != nil {
			if s.kind != valAlias {
				k.hit(ruleWriteConfig, c.span())
			}
		} else if parser.GitRunKey(key) {
			k.hit(rulePersistGit, c.span())
			return true
		}
		if global {
			k.hit(ruleWriteConfig, c.span())
		}
		return true
	}
	for _, a := range rest {
		if (a == "--unset" || a == "--unset-all" || a == "--add" || a == "--replace-all" || a == "--remove-section" || a == "--rename-section") && global {
			k.hit(ruleWriteConfig, c.span())
		}
	}
	return true
}

var dockerSubs = subs{
	low: set("ps", "images", "logs", "inspect", "version", "info", "top", "stats", "history", "events", "diff", "port",
		"search", "ls", "help", "context", "manifest", "wait", "df", "list"),
	rule: merge(
		ruleFor(ruleContainer, "build", "run", "exec", "rm", "rmi", "stop", "start", "restart", "kill", "create", "cp", "commit",
			"tag", "pause", "unpause", "rename", "update", "attach", "prune", "load", "import", "save", "export", "buildx", "up", "down",
			"compose", "volume", "network", "container", "image", "builder", "swarm", "service", "stack", "secret", "config", "node", "plugin", "trust", "scout", "init"),
		ruleFor(ruleNetFetch, "pull"),
		ruleFor(rulePublish, "push"),
		ruleFor(ruleWriteConfig, "login", "logout"),
	),
}

func dockerCmd(k *check, c *cmd) bool {
	args := c.args
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		if (args[0] == "-H" || args[0] == "--host" || args[0] == "--context" || args[0] == "-c" || args[0] == "--config") && len(args) > 1 {
			args = args[1:]
		}
		args = args[1:]
	}
	if len(args) == 0 {
		return true
	}
	sub, rest := args[0], args[1:]
	// `docker container run` and friends.
	if (sub == "container" || sub == "image" || sub == "volume" || sub == "network" || sub == "system" || sub == "compose" || sub == "builder" || sub == "buildx") && len(rest) > 0 {
		obj := sub
		sub2 := rest[0]
		switch obj {
		case "container":
			sub = sub2
			if sub == "ls" || sub == "list" {
				sub = "ps"
			}
			rest = rest[1:]
		case "image":
			rest = rest[1:]
			switch sub2 {
			case "ls", "list", "history", "inspect":
				return true
			case "rm", "prune":
				sub = "rmi"
			default:
				sub = sub2
			}
		case "volume", "network":
			switch sub2 {
			case "ls", "inspect", "list":
				return true
			}
			k.hit(ruleContainer, c.span())
			return true
		case "system":
			switch sub2 {
			case "df", "info", "events":
				return true
			case "prune":
				all := false
				vols := false
				for _, a := range rest[1:] {
					if a == "-a" || a == "--all" {
						all = true
					}
					if a == "--volumes" {
						vols = true
					}
					if strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && strings.Contains(a, "a") {
						all = true
					}
				}
				if all && vols || all && !has(rest, "--filter") {
					k.hit(ruleDestroyDocker, c.span())
					return true
				}
			}
			k.hit(ruleContainer, c.span())
			return true
		case "compose":
			return composeSub(k, c, rest)
		case "builder", "buildx":
			k.hit(ruleContainer, c.span())
			return true
		}
	}
	switch sub {
	case "run", "create", "exec":
		dockerRunFlags(k, c, rest)
	case "compose":
		return composeSub(k, c, rest)
	case "cp":
		for _, a := range rest {
			if !strings.Contains(a, ":") && !strings.HasPrefix(a, "-") {
				k.write(c, models.Word{Lit: a}, false)
			}
		}
	}
	return dockerSubs.judge(k, c, sub)
}

func has(args []string, opts ...string) bool {
	for _, a := range args {
		for _, o := range opts {
			if a == o || strings.HasPrefix(a, o+"=") {
				return true
			}
		}
	}
	return false
}

// dockerRunFlags looks for the flags that hand a container the host.
func dockerRunFlags(k *check, c *cmd, rest []string) {
	for i, a := range rest {
		v := ""
		if i+1 < len(rest) {
			v = rest[i+1]
		}
		if j := strings.IndexByte(a, '='); j > 0 && strings.HasPrefix(a, "--") {
			a, v = a[:j], a[j+1:]
		}
		switch a {
		case "--privileged":
			k.hit(rulePrivContainer, c.span())
		case "--pid", "--ipc", "--uts", "--userns", "--cgroupns":
			if v == "host" {
				k.hit(rulePrivContainer, c.span())
			}
		case "--net", "--network":
			if v == "host" {
				k.hit(ruleContainer, c.span())
			}
		case "--cap-add":
			if strings.Contains(strings.ToUpper(v), "SYS_ADMIN") || strings.Contains(strings.ToUpper(v), "ALL") || strings.Contains(strings.ToUpper(v), "SYS_PTRACE") || strings.Contains(strings.ToUpper(v), "SYS_MODULE") || strings.Contains(strings.ToUpper(v), "DAC_READ_SEARCH") {
				k.hit(rulePrivContainer, c.span())
			}
		case "--security-opt":
			if strings.Contains(v, "unconfined") || strings.Contains(v, "no-new-privileges=false") {
				k.hit(rulePrivContainer, c.span())
			}
		case "--device":
			k.hit(rulePrivContainer, c.span())
		case "-v", "--volume", "--mount":
			src := v
			if a == "--mount" {
				for _, p := range strings.Split(v, ",") {
					if strings.HasPrefix(p, "src=") || strings.HasPrefix(p, "source=") {
						src = p[strings.IndexByte(p, '=')+1:]
					}
				}
			} else if j := strings.IndexByte(v, ':'); j >= 0 {
				src = v[:j]
			}
			n := k.where.norm(src)
			switch {
			case n == "/" || strings.Contains(n, "docker.sock") || strings.Contains(n, "podman.sock") || strings.Contains(n, "containerd.sock") ||
				n == "/etc" || n == "/root" || n == "~" || n == "/var/run" || n == "/run" || n == "/proc" || n == "/sys" || n == "/dev" || n == "/boot" || n == "/home":
				k.hit(rulePrivContainer, c.span())
			case isSecret(n):
				k.hit(ruleSecretsRead, c.span())
			}
		}
	}
}

func composeCmd(k *check, c *cmd) bool { return composeSub(k, c, c.args) }

func composeSub(k *check, c *cmd, rest []string) bool {
	for len(rest) > 0 && strings.HasPrefix(rest[0], "-") {
		if (rest[0] == "-f" || rest[0] == "--file" || rest[0] == "-p" || rest[0] == "--project-name" || rest[0] == "--profile" || rest[0] == "--env-file" || rest[0] == "--project-directory") && len(rest) > 1 {
			rest = rest[1:]
		}
		rest = rest[1:]
	}
	if len(rest) == 0 {
		return true
	}
	switch rest[0] {
	case "ps", "logs", "config", "ls", "top", "images", "version", "port", "events":
		return true
	case "push":
		k.hit(rulePublish, c.span())
	case "pull":
		k.hit(ruleNetFetch, c.span())
	case "run", "exec":
		dockerRunFlags(k, c, rest[1:])
		k.hit(ruleContainer, c.span())
	default:
		if rest[0] == "down" && has(rest, "-v", "--volumes") {
			k.hit(ruleContainer, c.span())
		}
		k.hit(ruleContainer, c.span())
	}
	return true
}

var kubectlSubs = subs{
	low: set("get", "describe", "logs", "top", "explain", "version", "cluster-info", "api-resources", "api-versions",
		"auth", "diff", "wait", "events", "completion", "plugin", "kustomize", "options", "help"),
	rule: merge(
		ruleFor(ruleDeployInfra, "apply", "delete", "create", "replace", "patch", "scale", "rollout", "edit", "set", "drain",
			"cordon", "uncordon", "taint", "autoscale", "expose", "run", "annotate", "certificate", "debug"),
		ruleFor(ruleCloudChange, "label"),
		ruleFor(ruleNetForward, "port-forward", "proxy"),
		ruleFor(ruleContainer, "cp", "attach"),
		ruleFor(ruleWriteConfig, "config"),
	),
}

func kubectlCmd(k *check, c *cmd) bool {
	sub, rest := c.sub("-n", "--namespace", "--context", "--kubeconfig", "-l", "--selector", "-o", "--output", "-c", "--container", "--cluster", "--user", "-s", "--server", "-f", "--filename")
	switch sub {
	case "get":
		for _, r := range rest {
			if r == "secret" || r == "secrets" || strings.HasPrefix(r, "secret/") || strings.HasPrefix(r, "secrets/") {
				if o, ok := c.value("-o", "--output"); ok && (o == "yaml" || o == "json" || strings.HasPrefix(o, "jsonpath") || strings.HasPrefix(o, "go-template")) {
					k.hit(ruleSecretsRead, c.span())
					return true
				}
				// kubectl get secret x … | base64 -d
				for i := c.idx + 1; i < len(k.facts.Commands); i++ {
					if m := &k.facts.Commands[i]; m.PipeFrom == c.idx && decodes(m) {
						k.hit(ruleSecretsRead, c.span())
						return true
					}
				}
			}
		}
		return true
	case "exec":
		// kubectl exec … -- cmd: the parser added cmd; a shell there is a
		// remote shell.
		interactive := c.has("-i", "--stdin", "-it", "-ti", "--tty", "-t")
		inner := ""
		for i, a := range c.args {
			if a == "--" && i+1 < len(c.args) {
				inner = baseName(c.args[i+1])
			}
		}
		if parser.IsShell(inner) || interactive && inner == "" {
			k.hit(ruleNetRemote, c.span())
			return true
		}
		k.hit(ruleCloudChange, c.span())
		return true
	case "apply":
		if len(rest) > 0 && rest[0] == "view-last-applied" {
			return true
		}
		if c.has("--dry-run") {
			return true
		}
	case "config":
		if len(rest) > 0 && (rest[0] == "view" || rest[0] == "get-contexts" || rest[0] == "current-context" || rest[0] == "get-clusters" || rest[0] == "get-users") {
			if rest[0] == "view" && c.has("--raw") {
				k.hit(ruleSecretsRead, c.span())
			}
			return true
		}
	case "create", "run", "delete":
		if c.has("--dry-run") && !strings.Contains(strings.Join(c.args, " "), "--dry-run=none") {
			return true
		}
	}
	return kubectlSubs.judge(k, c, sub)
}

var helmSubs = subs{
	low: set("list", "ls", "status", "get", "show", "inspect", "template", "lint", "version", "history", "search", "env", "help", "verify", "completion", "dependency", "dep"),
	rule: merge(
		ruleFor(ruleDeployInfra, "install", "upgrade", "uninstall", "delete", "rollback", "del", "un"),
		ruleFor(rulePublish, "push"),
		ruleFor(ruleNetFetch, "pull", "fetch", "repo"),
		ruleFor(rulePkgInstall, "plugin"),
		ruleFor(ruleWriteConfig, "registry"),
	),
}

func helmCmd(k *check, c *cmd) bool {
	sub, rest := c.sub("-n", "--namespace", "--kube-context", "--kubeconfig")
	if sub == "repo" && len(rest) > 0 && (rest[0] == "list" || rest[0] == "ls") {
		return true
	}
	if (sub == "install" || sub == "upgrade") && c.has("--dry-run") {
		return true
	}
	return helmSubs.judge(k, c, sub)
}

var terraformSubs = subs{
	low: set("plan", "validate", "fmt", "show", "output", "version", "providers", "graph", "console", "get", "test", "state", "workspace", "metadata", "modules", "help", "login", "logout", "force-unlock"),
	rule: merge(
		ruleFor(ruleDeployInfra, "apply", "destroy", "import", "taint", "untaint", "refresh"),
		ruleFor(ruleNetFetch, "init"),
	),
}

func terraformCmd(k *check, c *cmd) bool {
	sub, rest := c.sub("-chdir")
	for _, a := range c.args {
		if strings.HasPrefix(a, "-chdir=") {
			continue
		}
	}
	switch sub {
	case "state":
		if len(rest) > 0 && (rest[0] == "rm" || rest[0] == "mv" || rest[0] == "push" || rest[0] == "replace-provider") {
			k.hit(ruleDeployInfra, c.span())
		}
		return true
	case "workspace":
		if len(rest) > 0 && rest[0] == "delete" {
			k.hit(ruleDeployInfra, c.span())
		}
		return true
	case "init":
		if c.has("-backend=false") && len(c.args) <= 2 {
			return true
		}
	}
	return terraformSubs.judge(k, c, sub)
}

func pulumiCmd(k *check, c *cmd) bool {
	sub, _ := c.sub()
	switch sub {
	case "up", "update", "destroy", "import", "refresh", "cancel":
		k.hit(ruleDeployInfra, c.span())
	case "preview", "stack", "config", "whoami", "version", "about", "logs":
	default:
		k.hit(ruleUnknown, c.span())
		return false
	}
	return true
}

func ansibleCmd(k *check, c *cmd) bool {
	if c.has("--check", "-C", "--syntax-check", "--list-hosts", "--list-tasks") {
		return true
	}
	k.hit(ruleDeployInfra, c.span())
	return true
}

var npmSubs = subs{
	low: set("test", "t", "tst", "run", "run-script", "ls", "list", "ll", "la", "outdated", "view", "info", "show", "v", "audit",
		"help", "version", "config", "why", "explain", "doctor", "pack", "prefix", "root", "bin", "search", "fund", "query", "init",
		"create", "lint", "build", "dev", "format", "typecheck", "check", "exec", "x", "dlx", "start", "serve", "preview", "cache",
		"licenses", "bugs", "docs", "repo", "whoami", "ping", "completion", "help-search", "sbom", "shrinkwrap", "dedupe", "ddp",
		"prune", "rebuild", "rb", "stop", "restart", "workspace", "workspaces", "--version", "-v", "-h", "--help", "set-script", "pkg", "diff", "env", "tsc"),
	rule: merge(
		ruleFor(rulePkgInstall, "install", "i", "in", "ins", "inst", "insta", "instal", "isnt", "isntall", "add", "ci", "clean-install",
			"install-clean", "ic", "uninstall", "un", "unlink", "remove", "rm", "r", "update", "up", "upgrade", "udpate", "link", "ln",
			"install-test", "it", "cit", "global", "import", "patch", "setup", "self-update"),
		ruleFor(rulePublish, "publish", "unpublish", "deprecate", "dist-tag", "owner", "access", "team", "token", "adduser", "login", "logout", "star", "unstar", "hook", "org", "npm-publish"),
	),
}

func npmCmd(k *check, c *cmd) bool {
	if c.name == "bun" && k.jsRunner(c) { // interp.go
		return true
	}
	sub, rest := c.sub("-C", "--prefix", "--cwd", "-w", "--workspace", "--filter", "-F", "--registry", "--dir")
	if sub == "" {
		// bare `yarn` installs; bare npm prints help
		if c.name == "yarn" {
			k.hit(rulePkgInstall, c.span())
		}
		return true
	}
	switch sub {
	case "publish", "unpublish":
		if c.has("--dry-run") {
			return true
		}
	case "audit":
		if len(rest) > 0 && rest[0] == "fix" && !c.has("--dry-run") {
			k.hit(rulePkgInstall, c.span())
		}
		return true
	case "exec", "x", "dlx":
		k.hit(rulePkgInstall, c.span())
		if len(rest) > 0 && (parser.IsShell(baseName(rest[0]))) {
			k.hit(ruleExecShell, c.span())
		}
		return true
	case "start", "serve", "dev", "preview", "restart", "stop":
		k.hit(ruleBackground, c.span())
		return true
	case "run", "run-script":
		if len(rest) > 0 {
			switch rest[0] {
			case "dev", "start", "serve", "preview", "watch":
				k.hit(ruleBackground, c.span())
			case "deploy", "release", "publish":
				k.hit(rulePublish, c.span())
			}
		}
		return true
	case "config":
		if len(rest) > 0 && (rest[0] == "set" || rest[0] == "delete" || rest[0] == "edit") {
			k.hit(ruleWriteConfig, c.span())
		}
		return true
	case "cache":
		if len(rest) > 0 && rest[0] == "clean" {
			k.hit(ruleDeleteLocal, c.span())
		}
		return true
	}
	if c.name == "yarn" || c.name == "pnpm" || c.name == "bun" {
		switch sub {
		case "why", "list", "info", "outdated", "test", "build", "lint", "dev", "start", "tsc", "typecheck", "format", "check", "node":
			if sub == "dev" || sub == "start" {
				k.hit(ruleBackground, c.span())
			}
			return true
		case "global":
			k.hit(rulePkgInstall, c.span())
			return true
		}
		if !npmSubs.low[sub] && npmSubs.rule[sub].ID == "" {
			// `yarn build` runs a package.json script of that name.
			if c.name == "bun" && (strings.HasSuffix(sub, ".ts") || strings.HasSuffix(sub, ".js")) {
				k.hit(ruleScript, c.span())
			}
			return true
		}
	}
	return npmSubs.judge(k, c, sub)
}

func npxCmd(k *check, c *cmd) bool {
	pos := c.positional("-p", "--package", "-c", "--call")
	if len(pos) > 0 && baseName(pos[0]) == "prisma" {
		return prismaCmd(k, &cmd{Command: c.Command, idx: c.idx, name: "prisma", args: pos[1:]})
	}
	if len(pos) > 0 {
		switch baseName(pos[0]) {
		case "tsc", "eslint", "prettier", "jest", "vitest", "mocha", "ts-node", "tsx", "biome", "playwright", "next", "vite", "webpack", "rollup", "esbuild", "stylelint", "prisma", "turbo", "nx", "lerna", "cypress", "ava":
			return true
		}
	}
	k.hit(rulePkgInstall, c.span())
	return true
}

var pipSubs = subs{
	low:  set("list", "show", "freeze", "check", "help", "--version", "-V", "debug", "inspect", "index", "hash", "search", "completion", "wheel", "download"),
	rule: merge(ruleFor(rulePkgInstall, "install", "uninstall"), ruleFor(ruleWriteConfig, "config", "cache")),
}

func pipCmd(k *check, c *cmd) bool {
	sub, _ := c.sub("--index-url", "-i", "--extra-index-url", "-r", "--requirement", "-c", "--constraint", "--target", "-t", "--prefix", "--root", "--python")
	if sub == "download" {
		k.hit(ruleNetFetch, c.span())
		return true
	}
	if sub == "config" && c.has("list", "get") {
		return true
	}
	if sub == "cache" && (c.has("list", "info", "dir")) {
		return true
	}
	return pipSubs.judge(k, c, sub)
}

func pipxCmd(k *check, c *cmd) bool {
	sub, _ := c.sub()
	switch sub {
	case "list", "environment", "--version", "completions":
		return true
	}
	k.hit(rulePkgInstall, c.span())
	return true
}

func uvCmd(k *check, c *cmd) bool {
	sub, rest := c.sub("--python", "-p", "--directory", "--project")
	switch sub {
	case "run":
		if c.Wrapper != "" {
			return true
		}
		k.hit(ruleScript, c.span())
		return true
	case "add", "remove", "sync", "lock", "tool", "python", "self", "venv", "init", "export":
		if sub == "init" || sub == "lock" || sub == "export" || sub == "venv" {
			return true
		}
		k.hit(rulePkgInstall, c.span())
	case "pip":
		if len(rest) > 0 && (rest[0] == "list" || rest[0] == "show" || rest[0] == "freeze" || rest[0] == "check" || rest[0] == "tree") {
			return true
		}
		k.hit(rulePkgInstall, c.span())
	case "tree", "version", "help", "--version", "cache":
	case "publish":
		k.hit(rulePublish, c.span())
	default:
		k.hit(ruleUnknown, c.span())
		return false
	}
	return true
}

func poetryCmd(k *check, c *cmd) bool {
	sub, rest := c.sub("-C", "--directory", "-P", "--project")
	switch sub {
	case "run", "shell":
		if c.Wrapper != "" {
			return true
		}
		if sub == "shell" {
			k.hit(ruleShellBare, c.span())
			return true
		}
		if len(rest) > 0 && rest[0] == "python" && len(rest) > 1 && strings.HasSuffix(rest[1], ".py") {
			k.hit(ruleScript, c.span())
		}
		return true
	case "add", "remove", "install", "update", "sync", "self", "source", "lock", "uninstall", "sync-dev":
		if sub == "lock" {
			return true
		}
		k.hit(rulePkgInstall, c.span())
	case "publish", "upload", "deploy":
		if c.has("--dry-run") {
			return true
		}
		k.hit(rulePublish, c.span())
	case "show", "check", "version", "env", "config", "build", "new", "init", "search", "about", "list", "help", "export", "graph", "requirements", "--version", "check-lock", "debug", "cache", "clean", "format", "lint", "test", "why", "tree", "outdated", "scripts", "graphs", "open", "venv", "audit", "info":
		if sub == "env" && len(rest) > 0 && (rest[0] == "remove" || rest[0] == "use") {
			k.hit(rulePkgInstall, c.span())
		}
		if c.name == "pipenv" && (sub == "install" || sub == "update") {
			k.hit(rulePkgInstall, c.span())
		}
	default:
		k.hit(ruleUnknown, c.span())
		return false
	}
	return true
}

func condaCmd(k *check, c *cmd) bool {
	sub, _ := c.sub("-n", "--name", "-p", "--prefix", "-c", "--channel")
	switch sub {
	case "list", "info", "search", "env", "config", "activate", "deactivate", "--version", "run":
		return true
	}
	k.hit(rulePkgInstall, c.span())
	return true
}

func twineCmd(k *check, c *cmd) bool {
	sub, _ := c.sub()
	if sub == "check" {
		return true
	}
	k.hit(rulePublish, c.span())
	return true
}

func gemCmd(k *check, c *cmd) bool {
	sub, _ := c.sub()
	switch sub {
	case "list", "search", "info", "query", "specification", "contents", "dependency", "env", "help", "which", "outdated", "environment", "--version", "build":
		return true
	case "push", "yank", "owner", "signin", "signout":
		k.hit(rulePublish, c.span())
		return true
	}
	k.hit(rulePkgInstall, c.span())
	return true
}

func bundleCmd(k *check, c *cmd) bool {
	sub, rest := c.sub()
	switch sub {
	case "exec":
		if len(rest) > 0 && parser.IsShell(baseName(rest[0])) {
			k.hit(ruleExecShell, c.span())
		}
		return true
	case "install", "update", "add", "remove", "":
		k.hit(rulePkgInstall, c.span())
		return true
	case "list", "show", "check", "outdated", "info", "config", "version", "help", "binstubs", "lock", "platform", "doctor":
		return true
	}
	k.hit(ruleUnknown, c.span())
	return false
}

var goSubs = subs{
	low: set("build", "test", "vet", "fmt", "run", "list", "doc", "env", "version", "generate", "help", "tool", "work", "fix", "bug", "telemetry", "mod", "clean"),
	rule: merge(
		ruleFor(rulePkgInstall, "get", "install"),
	),
}

func goCmd(k *check, c *cmd) bool {
	sub, rest := c.sub("-C")
	switch sub {
	case "mod":
		if len(rest) > 0 {
			switch rest[0] {
			case "download":
				k.hit(ruleNetFetch, c.span())
			case "tidy":
				k.hit(ruleNetFetch, c.span())
			}
		}
		return true
	case "env":
		if c.has("-w", "-u") {
			k.hit(ruleWriteConfig, c.span())
		}
		return true
	case "clean":
		if c.has("-cache", "-modcache", "-fuzzcache", "-i", "-r") {
			k.hit(ruleDeleteLocal, c.span())
		}
		return true
	case "run":
		for _, a := range rest {
			if strings.HasPrefix(a, "-exec") {
				k.hit(ruleExecIndirect, c.span())
			}
			if k.where.placeOf(a, false) == placeTemp {
				k.hit(ruleExecTemp, c.span())
			}
		}
		return true
	case "build", "test", "vet":
		for i, a := range rest {
			if (a == "-exec" || a == "-toolexec" || strings.HasPrefix(a, "-exec=") || strings.HasPrefix(a, "-toolexec=")) && i >= 0 {
				k.hit(ruleExecIndirect, c.span())
			}
			if a == "-o" && i+1 < len(rest) {
				k.write(c, models.Word{Lit: rest[i+1]}, false)
			}
		}
		return true
	}
	return goSubs.judge(k, c, sub)
}

var cargoSubs = subs{
	low: set("build", "b", "check", "c", "test", "t", "run", "r", "clippy", "fmt", "doc", "d", "bench", "tree", "metadata",
		"new", "init", "help", "version", "search", "locate-project", "pkgid", "verify-project", "read-manifest", "expand",
		"nextest", "llvm-cov", "tarpaulin", "miri", "audit", "deny", "outdated", "machete", "udeps", "watch", "package", "vendor", "generate-lockfile", "fix", "report", "config", "info", "rustc", "rustdoc"),
	rule: merge(
		ruleFor(rulePkgInstall, "install", "uninstall", "add", "remove", "rm", "update", "fetch"),
		ruleFor(rulePublish, "publish", "yank", "owner", "login", "logout"),
		ruleFor(ruleDeleteLocal, "clean"),
	),
}

func cargoCmd(k *check, c *cmd) bool {
	args := c.args
	for len(args) > 0 && (strings.HasPrefix(args[0], "+") || strings.HasPrefix(args[0], "-")) {
		if args[0] == "-Z" || args[0] == "--config" || args[0] == "-C" {
			if len(args) > 1 {
				args = args[1:]
			}
		}
		args = args[1:]
	}
	if len(args) == 0 {
		return true
	}
	if (args[0] == "publish" || args[0] == "package") && c.has("--dry-run") {
		return true
	}
	if args[0] == "add" && c.has("--path") {
		return true
	}
	return cargoSubs.judge(k, c, args[0])
}

func rustupCmd(k *check, c *cmd) bool {
	sub, rest := c.sub()
	switch sub {
	case "show", "which", "doc", "help", "--version", "man", "completions":
		return true
	case "run":
		return true
	case "toolchain":
		if len(rest) > 0 && rest[0] == "list" {
			return true
		}
		if len(rest) > 0 && rest[0] == "link" {
			for _, r := range rest[1:] {
				if k.where.placeOf(r, false) == placeTemp {
					k.hit(ruleExecTemp, c.span())
				}
			}
		}
	case "target", "component":
		if len(rest) > 0 && rest[0] == "list" {
			return true
		}
	case "default", "override", "set":
		k.hit(ruleWriteConfig, c.span())
		return true
	}
	k.hit(rulePkgInstall, c.span())
	return true
}

func dotnetCmd(k *check, c *cmd) bool {
	sub, _ := c.sub()
	switch sub {
	case "build", "test", "run", "format", "clean", "--info", "--version", "--list-sdks", "list", "new", "pack", "restore", "msbuild", "sln", "watch":
		return true
	case "add", "remove", "tool", "workload":
		k.hit(rulePkgInstall, c.span())
		return true
	case "nuget":
		k.hit(rulePublish, c.span())
		return true
	case "publish":
		return true
	}
	k.hit(ruleUnknown, c.span())
	return false
}

func nugetCmd(k *check, c *cmd) bool {
	sub, _ := c.sub()
	if sub == "push" || sub == "delete" {
		k.hit(rulePublish, c.span())
		return true
	}
	k.hit(rulePkgInstall, c.span())
	return true
}

func composerCmd(k *check, c *cmd) bool {
	sub, _ := c.sub()
	switch sub {
	case "install", "update", "require", "remove", "global", "create-project", "i", "u":
		k.hit(rulePkgInstall, c.span())
	case "show", "validate", "outdated", "licenses", "why", "depends", "diagnose", "dump-autoload", "test", "lint", "check-platform-reqs", "audit", "list", "help":
	default:
		k.hit(ruleUnknown, c.span())
		return false
	}
	return true
}

func aptCmd(k *check, c *cmd) bool {
	sub, _ := c.sub("-o", "-t", "-c", "--option", "--target-release")
	switch sub {
	case "list", "show", "search", "policy", "depends", "rdepends", "info", "query", "-Q", "-Qi", "-Ss", "-Si", "-Qs", "-Ql", "madison", "changelog", "showpkg", "showsrc", "stats", "dump", "pkgnames", "help", "--version", "leaves", "deps", "uses", "home", "desc", "outdated", "doctor", "config", "why", "check-update", "history", "repoquery", "provides", "whatprovides", "version":
		return true
	case "download", "source":
		k.hit(ruleNetFetch, c.span())
		return true
	}
	if c.name == "pacman" {
		for _, a := range c.args {
			if strings.HasPrefix(a, "-Q") || strings.HasPrefix(a, "-Ss") || strings.HasPrefix(a, "-Si") || strings.HasPrefix(a, "-F") {
				return true
			}
		}
	}
	if c.name == "brew" && (sub == "services") {
		k.hit(ruleBackground, c.span())
		return true
	}
	if sub == "" && len(c.args) == 0 {
		return true
	}
	k.hit(rulePkgInstall, c.span())
	return true
}

func dpkgCmd(k *check, c *cmd) bool {
	if c.has("-i", "--install", "-r", "--remove", "-P", "--purge", "--configure", "--unpack", "--set-selections", "--clear-avail", "-x", "--extract", "--force-all") {
		k.hit(rulePrivSystem, c.span())
	}
	return true
}

func rpmCmd(k *check, c *cmd) bool {
	for _, a := range c.args {
		if strings.HasPrefix(a, "--eval") || a == "-E" {
			if i := strings.Index(strings.Join(c.args, " "), "%("); i >= 0 || strings.Contains(strings.Join(c.args, " "), "lua:") {
				k.hit(ruleExecIndirect, c.span())
				return true
			}
		}
		if strings.HasPrefix(a, "-i") || strings.HasPrefix(a, "-U") || strings.HasPrefix(a, "-e") || a == "--install" || a == "--upgrade" || a == "--erase" || strings.HasPrefix(a, "-F") {
			k.hit(rulePrivSystem, c.span())
			return true
		}
	}
	return true
}

func nvmCmd(k *check, c *cmd) bool {
	sub, _ := c.sub()
	switch sub {
	case "ls", "list", "current", "which", "version", "ls-remote", "--version", "help", "use":
		return true
	}
	k.hit(rulePkgInstall, c.span())
	return true
}

func awsCmd(k *check, c *cmd) bool {
	sub, rest := c.sub("--profile", "--region", "--output", "--endpoint-url", "--query")
	if sub == "" || len(rest) == 0 {
		return true
	}
	op := rest[0]
	switch {
	case sub == "s3":
		switch op {
		case "ls":
			return true
		case "cp", "mv", "sync":
			if c.has("--dryrun", "--dry-run") {
				return true
			}
			var p []string
			raw := c.args
			for i, a := range raw {
				if a == op {
					raw = raw[i+1:]
					break
				}
			}
			for i := 0; i < len(raw); i++ {
				a := raw[i]
				if strings.HasPrefix(a, "--") && !strings.Contains(a, "=") && !awsFlag[a] {
					i++ // the option's value
					continue
				}
				if !strings.HasPrefix(a, "-") {
					p = append(p, a)
				}
			}
			if len(p) >= 2 && strings.HasPrefix(p[len(p)-1], "s3://") {
				k.hit(ruleDeployCloud, c.span())
				return true
			}
			k.hit(ruleNetFetch, c.span())
			if len(p) >= 2 {
				k.write(c, models.Word{Lit: p[len(p)-1]}, false)
			}
			return true
		case "rm", "rb", "mb", "website", "presign":
			if op == "presign" {
				k.hit(ruleSecretsRead, c.span())
				return true
			}
			k.hit(ruleDeployCloud, c.span())
			return true
		}
	case sub == "sts" && op == "get-caller-identity":
		return true
	case sub == "configure":
		if op == "list" || op == "get" && !strings.Contains(strings.Join(rest, " "), "secret") {
			return true
		}
		if op == "get" || op == "export-credentials" {
			k.hit(ruleSecretsRead, c.span())
			return true
		}
		k.hit(ruleWriteConfig, c.span())
		return true
	case sub == "secretsmanager" && op == "get-secret-value", sub == "ssm" && op == "get-parameter" && c.has("--with-decryption"),
		sub == "ecr" && op == "get-login-password", sub == "sts" && (op == "assume-role" || op == "get-session-token"), sub == "iam" && op == "create-access-key":
		k.hit(ruleSecretsRead, c.span())
		return true
	case sub == "ssm" && op == "start-session", sub == "ec2-instance-connect":
		k.hit(ruleNetRemote, c.span())
		return true
	}
	if strings.HasPrefix(op, "describe") || strings.HasPrefix(op, "list") || strings.HasPrefix(op, "get") || op == "help" || op == "wait" {
		return true
	}
	k.hit(ruleDeployCloud, c.span())
	return true
}

func gsutilCmd(k *check, c *cmd) bool {
	sub, rest := c.sub()
	switch sub {
	case "ls", "du", "stat", "cat", "hash", "version", "help", "la", "info", "get":
		return true
	case "cp", "mv", "rsync", "sync", "put":
		if len(rest) >= 2 && (strings.HasPrefix(rest[len(rest)-1], "gs://") || strings.HasPrefix(rest[len(rest)-1], "s3://")) {
			k.hit(ruleDeployCloud, c.span())
			return true
		}
		k.hit(ruleNetFetch, c.span())
		return true
	}
	k.hit(ruleDeployCloud, c.span())
	return true
}

func gcloudCmd(k *check, c *cmd) bool {
	words := c.positional("--project", "--zone", "--region", "--format", "--filter", "--account", "--configuration")
	joined := " " + strings.Join(words, " ") + " "
	switch {
	case strings.Contains(joined, " ssh ") || strings.Contains(joined, " scp ") || strings.Contains(joined, " connect-to-serial-port ") || strings.Contains(joined, " start-iap-tunnel "):
		k.hit(ruleNetRemote, c.span())
	case strings.Contains(joined, " print-access-token ") || strings.Contains(joined, " print-identity-token ") || strings.Contains(joined, " secrets versions access ") || strings.Contains(joined, " keys create "):
		k.hit(ruleSecretsRead, c.span())
	case strings.Contains(joined, " config set ") || strings.Contains(joined, " config unset ") || strings.Contains(joined, " auth ") || strings.Contains(joined, " get-credentials ") || strings.Contains(joined, " config configurations "):
		if strings.Contains(joined, " auth list ") {
			return true
		}
		k.hit(ruleWriteConfig, c.span())
	case strings.Contains(joined, " components "):
		if strings.Contains(joined, " list ") {
			return true
		}
		k.hit(rulePkgInstall, c.span())
	case strings.Contains(joined, " deploy ") || strings.Contains(joined, " delete ") || strings.Contains(joined, " create ") || strings.Contains(joined, " update ") ||
		strings.Contains(joined, " set-iam-policy ") || strings.Contains(joined, " add-iam-policy-binding ") || strings.Contains(joined, " resize ") ||
		strings.Contains(joined, " stop ") || strings.Contains(joined, " start ") || strings.Contains(joined, " reset ") || strings.Contains(joined, " cp ") || strings.Contains(joined, " rm ") || strings.Contains(joined, " submit "):
		k.hit(ruleDeployCloud, c.span())
	case strings.Contains(joined, " list ") || strings.Contains(joined, " describe ") || strings.Contains(joined, " info ") || strings.Contains(joined, " version ") ||
		strings.Contains(joined, " config list ") || strings.Contains(joined, " config get") || strings.Contains(joined, " help ") || strings.Contains(joined, " logs read ") || strings.Contains(joined, " ls "):
	default:
		k.hit(ruleCloudChange, c.span())
	}
	return true
}

func azCmd(k *check, c *cmd) bool {
	words := c.positional("--name", "-n", "--resource-group", "-g", "--subscription", "--query", "-o", "--output")
	joined := " " + strings.Join(words, " ") + " "
	switch {
	case strings.Contains(joined, " ssh "):
		k.hit(ruleNetRemote, c.span())
	case strings.Contains(joined, " get-access-token ") || strings.Contains(joined, " secret show ") || strings.Contains(joined, " keys list "):
		k.hit(ruleSecretsRead, c.span())
	case strings.Contains(joined, " list ") || strings.Contains(joined, " show ") || strings.Contains(joined, " version ") || strings.Contains(joined, " account show "):
	case strings.Contains(joined, " login ") || strings.Contains(joined, " account set ") || strings.Contains(joined, " config "):
		k.hit(ruleWriteConfig, c.span())
	default:
		k.hit(ruleDeployCloud, c.span())
	}
	return true
}

func ghCmd(k *check, c *cmd) bool {
	sub, rest := c.sub("-R", "--repo", "--hostname")
	op := ""
	if len(rest) > 0 {
		op = rest[0]
	}
	switch sub {
	case "release":
		switch op {
		case "list", "view", "ls":
			return true
		case "download":
			k.hit(ruleNetFetch, c.span())
			return true
		}
		k.hit(ruleDeployCloud, c.span())
		return true
	case "repo":
		switch op {
		case "view", "list", "ls":
			return true
		case "clone", "sync", "fork":
			k.hit(ruleNetFetch, c.span())
			return true
		case "delete", "archive", "rename", "edit", "create", "new", "deploy-key", "transfer", "unarchive":
			k.hit(ruleDeployCloud, c.span())
			return true
		}
	case "auth":
		if op == "status" {
			return true
		}
		if op == "token" {
			k.hit(ruleSecretsRead, c.span())
			return true
		}
		k.hit(ruleWriteConfig, c.span())
		return true
	case "secret", "variable":
		if op == "list" || op == "ls" {
			return true
		}
		k.hit(ruleDeployCloud, c.span())
		return true
	case "api":
		if c.has("-X", "--method", "-f", "-F", "--field", "--raw-field", "--input") {
			k.hit(ruleRemoteChange, c.span())
		}
		return true
	case "pr", "issue", "run", "workflow", "gist", "label", "project", "cache", "codespace", "ruleset", "search", "status", "browse", "alias", "extension", "config", "attestation", "org":
		switch op {
		case "list", "ls", "view", "diff", "checks", "status", "watch", "download", "":
			if op == "download" {
				k.hit(ruleNetFetch, c.span())
			}
			return true
		}
		if sub == "pr" && (op == "checkout" || op == "co") {
			k.hit(ruleNetFetch, c.span())
			return true
		}
		if sub == "codespace" && op == "ssh" {
			k.hit(ruleNetRemote, c.span())
			return true
		}
		if sub == "extension" && (op == "install" || op == "upgrade") {
			k.hit(rulePkgInstall, c.span())
			return true
		}
		if sub == "gist" && op == "create" {
			k.hit(ruleNetUpload, c.span())
			return true
		}
		if sub == "search" || sub == "status" || sub == "browse" {
			return true
		}
		k.hit(ruleRemoteChange, c.span())
		return true
	}
	if sub == "" {
		return true
	}
	k.hit(ruleUnknown, c.span())
	return false
}

func rcloneCmd(k *check, c *cmd) bool {
	sub, rest := c.sub()
	switch sub {
	case "ls", "lsd", "lsl", "lsf", "lsjson", "size", "version", "listremotes", "about", "tree", "check", "cat", "md5sum", "sha1sum":
		return true
	case "copy", "sync", "move", "copyto", "moveto", "bisync":
		if len(rest) >= 2 && strings.Contains(rest[len(rest)-1], ":") {
			k.hit(ruleDeployCloud, c.span())
			return true
		}
		k.hit(ruleNetFetch, c.span())
		return true
	case "config":
		k.hit(ruleWriteConfig, c.span())
		return true
	}
	k.hit(ruleDeployCloud, c.span())
	return true
}

func deployCLI(k *check, c *cmd) bool {
	sub, _ := c.sub()
	switch sub {
	case "deploy", "publish", "release", "push", "destroy", "delete", "rm", "remove", "scale", "rollback", "promote", "up", "launch":
		k.hit(ruleDeployInfra, c.span())
	case "ssh", "console", "exec", "run":
		if c.name == "heroku" && sub == "run" || sub == "ssh" || sub == "console" {
			k.hit(ruleNetRemote, c.span())
			return true
		}
		k.hit(ruleCloudChange, c.span())
	case "logs", "status", "list", "ls", "info", "whoami", "version", "--version", "help", "open", "dev", "login", "link", "init", "env", "secrets", "config":
		if sub == "dev" {
			k.hit(ruleBackground, c.span())
		}
		if sub == "login" || sub == "link" || sub == "secrets" || sub == "env" || sub == "config" {
			k.hit(ruleWriteConfig, c.span())
		}
	default:
		k.hit(ruleCloudChange, c.span())
	}
	return true
}

var (
	destructiveSQL = lazyre.New(`(?is)\b(drop\s+(database|schema|table|user|role)|truncate\s+(table\s+)?\w|delete\s+from\s+[\w."]+\s*(;|$)|update\s+[\w."]+\s+set\s+[^;]*?(;|$)|flushall|flushdb|dropdatabase|\.drop\(\)|deletemany\(\s*\{\s*\}\s*\)|alter\s+user|grant\s+all|shutdown)`)
	whereSQL       = lazyre.New(`(?is)\bwhere\b`)
	writeSQL       = lazyre.New(`(?is)\b(insert|update|delete|alter|create|drop|grant|revoke|replace|merge|copy|vacuum|reindex)\b`)
	readSQL        = lazyre.New(`(?is)^\s*(select|show|describe|desc|explain|with|\\d|\\l|pragma|\.tables|\.schema)\b`)
)

// sqlCmd: destructive SQL is high; other inline SQL that writes, and
// sessions, are medium; read-only inline queries are low.
func sqlCmd(k *check, c *cmd) bool {
	var sql []string
	for i, a := range c.args {
		switch a {
		case "-e", "--execute", "-c", "--command", "--eval", "-cmd", "-q", "--query":
			if i+1 < len(c.args) {
				sql = append(sql, c.args[i+1])
			}
		}
		if strings.HasPrefix(a, "--execute=") || strings.HasPrefix(a, "--command=") || strings.HasPrefix(a, "--eval=") {
			sql = append(sql, a[strings.IndexByte(a, '=')+1:])
		}
	}
	if c.name == "sqlite3" {
		pos := c.positional("-cmd", "-separator", "-nullvalue", "-init")
		if len(pos) > 1 {
			sql = append(sql, pos[1:]...)
		}
	}
	for _, r := range c.Redirs {
		if r.Op == "<<<" || r.Op == "<<" || r.Op == "<<-" {
			sql = append(sql, r.Target.Lit)
		}
	}
	if c.PipeFrom >= 0 {
		if m := &k.facts.Commands[c.PipeFrom]; m.Name() == "echo" || m.Name() == "printf" {
			for _, w := range m.Argv[1:] {
				sql = append(sql, w.Lit)
			}
		}
	}
	for _, a := range c.args {
		if strings.HasPrefix(a, "--default-auth") || strings.HasPrefix(a, "--plugin-dir") || strings.HasPrefix(a, "--init-command") && strings.Contains(a, "system") {
			k.hit(ruleExecLibrary, c.span())
		}
	}
	if len(sql) == 0 {
		if c.name == "pg_dump" || c.name == "mysqldump" {
			return true
		}
		if c.name == "sqlite3" && len(c.positional()) >= 1 && c.Stdin == "" && len(c.positional()) == 1 {
			k.hit(ruleDBSession, c.span())
			return true
		}
		k.hit(ruleDBSession, c.span())
		return true
	}
	for _, s := range sql {
		switch {
		case destructiveSQL.MatchString(s) && !(updateOrDelete(s) && whereSQL.MatchString(s)):
			k.hit(ruleSQLDestroy, c.span())
			return true
		case strings.Contains(s, ".shell") || strings.Contains(s, ".system") || strings.Contains(s, "\\!") || strings.Contains(s, "system ") || strings.Contains(s, "COPY") && strings.Contains(s, "PROGRAM"):
			k.hit(ruleExecIndirect, c.span())
			return true
		case readSQL.MatchString(s) && !writeSQL.MatchString(strings.TrimPrefix(strings.TrimSpace(s), "")) || readSQL.MatchString(s) && strings.HasPrefix(strings.ToLower(strings.TrimSpace(s)), "select"):
		default:
			if strings.Contains(s, ".output") || strings.Contains(s, ".once") {
				k.hit(ruleWriteClobber, c.span())
				continue
			}
			k.hit(ruleDBSession, c.span())
		}
	}
	return true
}

func redisCmd(k *check, c *cmd) bool {
	pos := c.positional("-h", "-p", "-a", "-u", "-n", "--user", "--pass", "-s", "--tls", "-r", "-i")
	if len(pos) == 0 {
		k.hit(ruleDBSession, c.span())
		return true
	}
	switch strings.ToUpper(pos[0]) {
	case "FLUSHALL", "FLUSHDB", "SHUTDOWN", "DEBUG", "CONFIG", "SLAVEOF", "REPLICAOF", "MODULE", "SCRIPT", "EVAL", "MIGRATE":
		if strings.ToUpper(pos[0]) == "CONFIG" && len(pos) > 1 && strings.ToUpper(pos[1]) == "GET" {
			return true
		}
		k.hit(ruleSQLDestroy, c.span())
	case "GET", "KEYS", "SCAN", "INFO", "PING", "TTL", "TYPE", "EXISTS", "HGET", "HGETALL", "LRANGE", "SMEMBERS", "ZRANGE", "DBSIZE", "MONITOR", "CLIENT", "MEMORY", "LLEN", "SCARD", "STRLEN", "MGET", "HKEYS":
	default:
		k.hit(ruleDBSession, c.span())
	}
	return true
}

func sqlAdmin(k *check, c *cmd) bool {
	if c.name == "dropdb" {
		k.hit(ruleSQLDestroy, c.span())
		return true
	}
	for _, a := range c.args {
		switch a {
		case "drop", "shutdown", "flush-privileges", "password":
			k.hit(ruleSQLDestroy, c.span())
			return true
		}
	}
	return true
}

// awsFlag are aws s3 options that take no value.
var awsFlag = set("--dryrun", "--dry-run", "--recursive", "--delete", "--quiet", "--no-progress", "--follow-symlinks",
	"--no-follow-symlinks", "--exact-timestamps", "--size-only", "--only-show-errors", "--no-guess-mime-type", "--force-glacier-transfer",
	"--ignore-glacier-warnings", "--no-sign-request", "--debug", "--no-verify-ssl", "--no-paginate")

// localClone reports whether git clone copies a repository from this
// machine (a path, not a URL or host:path).
func localClone(rest []string) bool {
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		if strings.HasPrefix(a, "-") {
			if cloneValueOpts[a] {
				i++ // -c key=value is no repository
			}
			continue
		}
		return !strings.Contains(a, "://") && !remotePath(a) || strings.HasPrefix(a, "file://")
	}
	return false
}

// cloneValueOpts are git clone's options that take the next word.
var cloneValueOpts = set("-c", "--config", "-b", "--branch", "-o", "--origin", "--depth", "--template", "--reference",
	"--reference-if-able", "-u", "--upload-pack", "--separate-git-dir", "-j", "--jobs", "--filter", "--shallow-since",
	"--shallow-exclude", "--server-option", "--bundle-uri", "--revision")

// updateOrDelete reports whether SQL is an UPDATE or DELETE, which a
// WHERE clause bounds.
func updateOrDelete(s string) bool {
	t := strings.ToLower(strings.TrimSpace(s))
	return strings.HasPrefix(t, "update") || strings.HasPrefix(t, "delete")
}

// buildTool judges Maven and Gradle: deploy and publish goals publish.
func buildTool(k *check, c *cmd) bool {
	for _, a := range c.positional("-f", "--file", "-s", "--settings", "-P", "-pl", "--projects", "-D", "-p", "--project-dir", "-x", "--exclude-task") {
		switch {
		case a == "deploy" || a == "release:perform" || a == "publish" || strings.HasPrefix(a, "publish") || a == "uploadArchives" || a == "jib" || a == "dockerPush":
			k.hit(rulePublish, c.span())
			return true
		case a == "bootRun" || a == "run" || a == "jetty:run" || a == "spring-boot:run" || a == "quarkus:dev":
			k.hit(ruleBackground, c.span())
		case a == "install":
			// installs into the local repository (~/.m2): ordinary.
		}
	}
	return true
}

// releaseTool judges release and deploy tools run from a project.
func releaseTool(k *check, c *cmd) bool {
	sub, _ := c.sub()
	switch c.name {
	case "goreleaser":
		if (sub == "release" || sub == "") && !c.has("--snapshot", "--skip-publish", "--skip=publish") {
			k.hit(rulePublish, c.span())
			return true
		}
	case "skaffold":
		if sub == "run" || sub == "deploy" || sub == "apply" || sub == "delete" {
			k.hit(ruleDeployInfra, c.span())
			return true
		}
		if sub == "dev" {
			k.hit(ruleBackground, c.span())
		}
	case "argocd":
		switch sub {
		case "app", "proj", "cluster", "repo", "account":
			if c.has("sync", "delete", "create", "set", "rollback", "terminate-op", "patch") {
				k.hit(ruleDeployInfra, c.span())
				return true
			}
		}
	case "vercel", "netlify":
		if sub == "" && c.name == "vercel" || c.has("--prod") {
			k.hit(ruleDeployInfra, c.span())
			return true
		}
		return deployCLI(k, c)
	}
	return true
}

// frameworkCLI judges web framework CLIs: dev servers are background
// processes; build, lint and test are ordinary.
func frameworkCLI(k *check, c *cmd) bool {
	sub, rest := c.sub()
	switch sub {
	case "dev", "start", "serve", "s", "server", "preview", "watch":
		k.hit(ruleBackground, c.span())
	case "deploy":
		k.hit(ruleDeployInfra, c.span())
	case "db":
		if len(rest) > 0 && (rest[0] == "drop" || rest[0] == "reset" || rest[0] == "wipe") {
			k.hit(ruleSQLDestroy, c.span())
			return true
		}
		k.hit(ruleDBSession, c.span())
	case "db:drop", "db:reset", "db:schema:load", "db:purge":
		k.hit(ruleSQLDestroy, c.span())
	case "db:migrate", "db:rollback", "db:seed", "db:setup", "migrate", "db:create":
		k.hit(ruleDBSession, c.span())
	case "new", "generate", "g", "add", "install", "i", "update":
		if sub == "add" || sub == "install" || sub == "i" || sub == "update" {
			k.hit(rulePkgInstall, c.span())
		}
	case "console", "c", "runner", "r", "dbconsole":
		k.hit(ruleDBSession, c.span())
	}
	return true
}

// denoCmd: deno's subcommands.
func denoCmd(k *check, c *cmd) bool {
	if k.jsRunner(c) { // interp.go
		return true
	}
	sub, rest := c.sub()
	switch sub {
	case "test", "fmt", "lint", "check", "bench", "doc", "info", "compile", "types", "coverage", "--version", "help", "completions", "":
	case "run", "eval", "repl", "serve", "task", "x":
		if sub == "serve" {
			k.hit(ruleBackground, c.span())
			return true
		}
		if sub == "eval" || len(rest) > 0 && strings.Contains(rest[0], "://") {
			k.hit(ruleNetFetch, c.span())
		}
		k.hit(ruleScript, c.span())
	case "install", "add", "remove", "upgrade", "uninstall", "cache", "outdated":
		if sub != "outdated" {
			k.hit(rulePkgInstall, c.span())
		}
	case "publish":
		k.hit(rulePublish, c.span())
	default:
		k.hit(ruleUnknown, c.span())
		return false
	}
	return true
}

// prismaCmd: prisma migrate reset and db push --force-reset wipe data.
func prismaCmd(k *check, c *cmd) bool {
	sub, rest := c.sub()
	switch {
	case sub == "migrate" && len(rest) > 0 && rest[0] == "reset", sub == "db" && c.has("--force-reset", "--accept-data-loss"):
		k.hit(ruleSQLDestroy, c.span())
	case sub == "migrate" || sub == "db":
		k.hit(ruleDBSession, c.span())
	case sub == "studio":
		k.hit(ruleBackground, c.span())
	}
	return true
}
