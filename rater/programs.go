package rater

import (
	"strings"

	"github.com/chaperone-dev/chaperone/internal/lazyre"
	"github.com/chaperone-dev/chaperone/parser"
)

// quiet are programs that read, search, build, test or change only the
// project: low unless a generic rule (paths, redirections) says otherwise.
var quiet = set(
	// shell builtins and basics
	"cd", "pwd", "echo", "printf", "true", "false", ":", "test", "[", "[[", "read", "set", "shopt", "alias", "unalias",
	"type", "hash", "which", "whereis", "whoami", "id", "groups", "uname", "hostname", "date", "cal", "sleep", "wait",
	"return", "exit", "break", "continue", "shift", "local", "declare", "typeset", "readonly", "let", "getopts", "trap",
	"umask", "ulimit", "jobs", "fg", "bg", "disown", "pushd", "popd", "dirs", "times", "caller", "complete", "compgen",
	"tput", "clear", "reset", "stty", "tty", "locale", "nproc", "arch", "logname", "users", "who", "w", "uptime", "seq",
	"yes", "expr", "bc", "dc", "factor", "basename", "dirname", "realpath", "readlink", "mktemp", "printenv",
	"deactivate", "help", "man", "info", "tldr", "apropos", "whatis", "getconf", "tee", "env",
	// reading and searching
	"ls", "ll", "la", "dir", "vdir", "tree", "cat", "tac", "head", "tail", "less", "more", "most", "bat", "batcat", "nl", "wc",
	"grep", "egrep", "fgrep", "zgrep", "rg", "ag", "ack", "ugrep", "find", "fd", "fdfind", "locate", "stat", "file", "du", "df",
	"sort", "uniq", "cut", "paste", "join", "comm", "diff", "diff3", "sdiff", "cmp", "colordiff", "delta", "tr", "fold", "fmt",
	"column", "expand", "unexpand", "rev", "shuf", "split", "csplit", "strings", "od", "hexdump", "hd", "xxd", "base64",
	"base32", "basenc", "base58", "ascii85", "md5sum", "sha1sum", "sha256sum", "sha512sum", "sha224sum", "sha384sum",
	"b2sum", "cksum", "sum", "shasum", "md5", "jq", "yq", "gojq", "xq", "tomlq", "xmllint", "look", "ptx", "tsort", "numfmt",
	"iconv", "dos2unix", "unix2dos", "nm", "objdump", "readelf", "size", "ldd", "c++filt", "addr2line", "strip", "ar",
	"awk", "gawk", "mawk", "nawk", "sed", "gsed", "perl", "column", "pr", "tabs", "soelim", "zsoelim", "troff", "groff",
	"nroff", "eqn", "pic", "tbl", "refer", "man", "pandoc", "pygmentize", "highlight", "w3m", "lynx", "xmore", "glow",
	"msgattrib", "msgconv", "msgmerge", "msguniq", "msgcat", "msgfmt", "msginit", "xgettext", "aspell", "hunspell",
	"zcat", "zless", "zmore", "bzcat", "xzcat", "lzcat", "zstdcat", "gzip", "gunzip", "bzip2", "bunzip2", "xz", "unxz",
	"zstd", "unzstd", "lz4", "tar", "zip", "unzip", "7z", "7za", "uuencode", "uudecode", "cpio", "ar", "zipinfo", "zipnote",
	"csvtool", "csvlook", "mlr", "xsv", "qsv", "sqlite-utils", "wc", "tail", "watch", "time", "timeout", "nice", "nohup",
	"xargs", "parallel", "stdbuf", "unbuffer", "ts", "pv", "command", "builtin", "exec", "eval", "source", ".",
	"ps", "pgrep", "pidof", "top", "htop", "btop", "free", "vmstat", "iostat", "mpstat", "lsof", "ss", "netstat", "lscpu",
	"lsblk", "lsusb", "lspci", "lsmod", "dmesg", "journalctl", "loginctl", "hostnamectl", "timedatectl", "uptime", "last",
	"lastlog", "getent", "fastfetch", "neofetch", "screenfetch", "inxi", "sensors", "nvidia-smi", "ulimit",
	"dig", "nslookup", "host", "ping", "traceroute", "tracepath", "mtr", "ip", "ifconfig", "route", "arp", "whois",
	// creating and editing inside the project
	"touch", "mkdir", "cp", "mv", "ln", "install", "rmdir", "vi", "vim", "nvim", "nano", "emacs", "micro", "ed", "code",
	"subl", "hx", "kak", "joe", "mcedit", "patch", "truncate", "mkfifo",
	// building, testing, linting, formatting
	"make", "gmake", "cmake", "ninja", "meson", "bazel", "bazelisk", "buck", "scons", "autoreconf", "autoconf", "automake",
	"configure", "gcc", "g++", "cc", "c++", "clang", "clang++", "ld", "as", "rustc", "rustfmt", "javac", "java", "kotlinc",
	"scalac", "tsc", "esbuild", "swc", "babel", "webpack", "rollup", "vite", "parcel", "eslint", "prettier", "biome", "stylelint",
	"jest", "mocha", "vitest", "ava", "tap", "karma", "playwright", "cypress", "pytest", "py.test", "tox", "nox", "coverage",
	"mypy", "pyright", "pylint", "flake8", "ruff", "black", "isort", "autopep8", "yapf", "bandit", "pydocstyle", "pyflakes",
	"gofmt", "goimports", "golint", "golangci-lint", "staticcheck", "govulncheck", "gopls", "dlv", "shellcheck", "shfmt",
	"hadolint", "yamllint", "markdownlint", "actionlint", "tflint", "clang-format", "clang-tidy", "cppcheck", "valgrind",
	"gdb", "lldb", "strace", "ltrace", "perf", "rspec", "rubocop", "standardrb", "phpunit", "phpstan", "psalm", "dotnet-format",
	"mvn", "gradle", "gradlew", "sbt", "lein", "ant", "dune", "stack", "cabal", "ghc", "mix", "rebar3", "erlc", "elixir",
	"zig", "nim", "crystal", "dart", "flutter", "swift", "swiftc", "xcodebuild", "gh", "hub", "glab", "tig", "lazygit",
	"pre-commit", "commitlint", "husky", "lint-staged", "turbo", "nx", "lerna", "rake", "bundle", "tsx", "ts-node",
	"virtualenv", "pyenv", "rbenv", "nodenv", "asdf", "direnv", "sqlc", "protoc", "buf", "openapi-generator", "swag",
	"wire", "mockgen", "stringer", "gotestsum", "ginkgo", "air", "entr", "cloc", "tokei", "scc", "hyperfine", "openssl",
	"gpg", "age", "tmux", "screen", "alpine", "mutt", "neomutt",
	"check_cups", "check_raid", "check_log", "clamscan", "cupsfilter", "genisoimage", "mkisofs", "elvish",
	"octave", "octave-cli", "hash", "mc", "ranger", "nnn", "vifm", "xdg-open", "open", "wslpath", "cygpath",
	"ctest", "cpack", "gcov", "lcov", "gcovr", "llvm-cov", "llvm-profdata", "eza", "exa", "lsd", "ncdu", "duf", "dust", "procs",
	"sd", "ast-grep", "sg", "semgrep", "difft", "jless", "fx", "gron", "hexyl", "vue-tsc", "svelte-check", "tsup",
	"pixi", "bats", "shunit2", "kcov", "nyc", "c8", "istanbul", "knip", "depcheck", "madge", "tree-sitter",
	"protolint", "sqlfluff", "taplo", "dprint", "oxlint", "rome", "standard", "xo", "tslint", "jshint", "csslint", "htmlhint",
	"composer-unused", "pint", "gofumpt", "revive", "errcheck", "ineffassign", "gocyclo", "misspell", "typos", "codespell",
	"vale", "alex", "write-good", "cspell", "lychee", "markdown-link-check", "ls-lint", "editorconfig-checker", "commitizen", "cz",
	"git-cliff", "jq", "dasel", "miller", "csvkit", "in2csv", "csvcut",
	"csvgrep", "csvstat", "xmlstarlet", "xidel", "pup", "htmlq", "tidy", "nkf", "recode", "enca", "uchardet", "chardetect",
	"pkg-config", "pkgconf", "cmake-format", "buf", "mkdocs", "sphinx-build", "hugo", "jekyll",
	"zola", "mdbook", "docusaurus", "typedoc", "jsdoc", "godoc", "pkgsite", "rustdoc", "doxygen", "asciidoctor",
	"bibtex", "biber", "identify", "ffprobe", "mediainfo", "pdfinfo", "pdftotext",
	"colrm", "lam", "dialog", "whiptail", "notify-send", "kustomize", "stern", "k9s", "trivy", "grype", "syft", "dive",
	"kubeval", "kubeconform", "conftest", "checkov", "tfsec", "terrascan", "infracost", "tflint", "terraform-docs", "cue",
	// pagers, diff viewers and compiler caches that settings name
	"diff-so-fancy", "moar", "ov", "lesspipe", "lesspipe.sh", "sccache", "ccache",
)

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// program applies the rules for the program c runs. A program nothing
// here knows is left undecided (see unfamiliar).
func (k *check) program(c *cmd) {
	k.catalogued(c)
	if strings.Contains(c.Argv[0].Lit, "/") && k.where.placeOf(c.Argv[0].Lit, false) == placeProject {
		// A script or binary of the project (./run.sh, bin/server,
		// ./gradlew): the rules cannot see inside it. When it bears the
		// name of a program we know (./gradlew, a copied ./python), what
		// that program would do with these arguments is judged too.
		k.hit(ruleScript, c.span())
		if f := handlerFor(c.name); f != nil {
			f(k, c)
		} else if lang := parser.Interpreter(c.name); lang != "" {
			k.interpreter(c, lang)
		}
		return
	}
	if f := handlerFor(c.name); f != nil {
		f(k, c)
		return
	}
	for _, fn := range k.facts.Functions {
		if fn == c.name && c.Argv[0].Lit == fn {
			// A function defined in this text: its body is rated.
			return
		}
	}
	if strings.HasPrefix(c.name, "mkfs.") || strings.HasPrefix(c.name, "mkswap") || strings.HasPrefix(c.name, "fsck.") {
		device(k, c)
		return
	}
	if lang := parser.Interpreter(c.name); lang != "" {
		k.interpreter(c, lang)
		return
	}
	if !quiet[c.name] {
		k.unfamiliar(c)
	}
}

// escapeText matches argument text that makes a program run a shell or
// code: vi's ":!", "!sh", Lua's os.execute, system(), exec "…".
var escapeText = lazyre.New(`(^|[\s'"({;:])(:!|!\s*/?\w*sh\b)|os\.execute|\bsystem\s*\(|\bexec\s*\(|\bexec\s+["'/]|\bpopen\s*\(|\bspawn\s*\(|\bsyscmd\s*\(|\bsh\s+-c\b`)

// unfamiliar judges a program no rule knows: undecided, unless its
// arguments hand it a shell escape or name files whose change makes code
// run later, which no ordinary tool needs.
func (k *check) unfamiliar(c *cmd) {
	k.hit(ruleUnknown, c.span())
	for _, a := range c.args {
		if escapeText.MatchString(a) {
			k.hit(ruleExecIndirect, c.span())
			return
		}
		for _, p := range candidatePaths(a) {
			if n := k.where.norm(p); (strings.HasPrefix(n, "/") || strings.HasPrefix(n, "~")) && isPersist(n) && n != "/etc/passwd" && n != "/etc/group" && n != "/etc/hosts" && n != "/etc/resolv.conf" {
				k.hit(rulePersistFile, c.span())
				return
			}
		}
	}
}

// catalogued applies the classes kept as tables: package sources
// (sources.go), settings written by a tool's config command
// (configwrite.go) and attacks on chaperone itself (self.go).
func (k *check) catalogued(c *cmd) {
	switch {
	case signallers[c.name]:
		k.selfSignal(c)
	case c.name == "unset" || c.name == "env":
		k.guardEnvRemoved(c)
	case installerProg(c.name):
		k.packageSource(c)
		k.configCommand(c)
	case parser.Interpreter(c.name) == "python":
		// python -m pip …: pip's own arguments.
		for i, a := range c.args {
			if a == "-m" && i+1 < len(c.args) && c.args[i+1] == "pip" {
				pip := &cmd{Command: c.Command, idx: c.idx, name: "pip", args: c.args[i+2:]}
				k.packageSource(pip)
				k.configCommand(pip)
				break
			}
			if !strings.HasPrefix(a, "-") {
				break
			}
		}
	}
}
