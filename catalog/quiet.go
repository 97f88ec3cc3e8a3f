package catalog

// quiet are programs that read, search, build, test or change only the
// project: no rater check judges them, so they are low unless a generic
// rule (paths, redirections, substitutions) says otherwise. Their effects
// say what they can do; the generic rules judge the objects.
var quiet = []Entry{
	{Desc: "shell builtins that only change or print the shell's state", Effects: 0,
		Names: []string{
			"cd", "pwd", "echo", "printf", "true", "false", ":", "test", "[", "[[", "read", "shopt", "unalias",
			"type", "hash", "which", "whereis", "sleep", "wait", "return", "exit", "break", "continue",
			"shift", "local", "declare", "typeset", "readonly", "let", "getopts", "umask", "ulimit", "jobs",
			"fg", "bg", "pushd", "popd", "dirs", "times", "caller", "compgen", "tput", "clear", "reset", "seq",
			"yes", "expr", "bc", "dc", "factor", "basename", "dirname", "realpath", "readlink", "mktemp",
			"deactivate", "help", "info", "tldr", "apropos", "whatis"}},
	{Desc: "builtins that set a command to run later", Effects: SetsExec,
		Names: []string{
			"alias", "trap", "complete"}},
	{Desc: "print who and where: user, host, time, limits", Effects: Reads,
		Names: []string{
			"whoami", "id", "groups", "uname", "hostname", "date", "cal", "locale", "nproc", "arch", "logname",
			"users", "who", "w", "uptime", "getconf", "tty", "stty"}},
	{Desc: "read, search, compare and transform text and files", Effects: Reads,
		Names: []string{
			"ls", "ll", "la", "dir", "vdir", "tree", "cat", "tac", "head", "tail", "most", "bat", "batcat",
			"nl", "wc", "zgrep", "ack", "ugrep", "fdfind", "locate", "stat", "file", "du", "df", "sort",
			"uniq", "cut", "paste", "join", "comm", "diff", "diff3", "sdiff", "cmp", "colordiff", "delta",
			"tr", "fold", "fmt", "column", "expand", "unexpand", "rev", "shuf", "strings", "od", "hexdump",
			"hd", "basenc", "base58", "ascii85", "md5sum", "sha1sum", "sha256sum", "sha512sum", "sha224sum",
			"sha384sum", "b2sum", "cksum", "sum", "shasum", "md5", "jq", "yq", "gojq", "xq", "tomlq",
			"xmllint", "look", "ptx", "tsort", "numfmt", "iconv", "nm", "objdump", "readelf", "size", "ldd",
			"c++filt", "addr2line", "pr", "tabs", "soelim", "zsoelim", "troff", "groff", "nroff", "eqn", "pic",
			"tbl", "refer", "pygmentize", "highlight", "xmore", "glow", "aspell", "hunspell", "zcat", "zless",
			"zmore", "bzcat", "xzcat", "lzcat", "zstdcat", "7za", "zipinfo", "csvtool", "csvlook", "mlr",
			"xsv", "qsv", "sqlite-utils", "ts", "pv"}},
	{Desc: "compress, split or archive files", Effects: Reads | Writes,
		Names: []string{
			"gzip", "gunzip", "bzip2", "bunzip2", "xz", "unxz", "zstd", "unzstd", "lz4", "split", "csplit",
			"cpio", "ar", "uuencode", "strip", "dos2unix", "unix2dos", "zipnote", "pandoc", "msgattrib",
			"msgconv", "msgmerge", "msguniq", "msgcat", "msgfmt", "msginit", "xgettext"}},
	{Desc: "show processes, hardware and system state", Effects: Reads,
		Names: []string{
			"ps", "pgrep", "pidof", "top", "htop", "btop", "free", "vmstat", "iostat", "mpstat", "lsof", "ss",
			"netstat", "lscpu", "lsblk", "lsusb", "lspci", "lsmod", "dmesg", "loginctl", "last", "lastlog",
			"getent", "fastfetch", "neofetch", "screenfetch", "inxi", "sensors", "nvidia-smi"}},
	{Desc: "network diagnostics that send probes", Effects: Sends,
		Names: []string{
			"traceroute", "tracepath", "mtr"}},
	{Desc: "show (or change) network interfaces and routes", Effects: Reads | System,
		Names: []string{
			"ip", "ifconfig", "route", "arp"}},
	{Desc: "text-mode web browsers", Effects: Fetches,
		Names: []string{
			"w3m", "lynx"}},
	{Desc: "run commands from their input or in parallel", Effects: ExecArg,
		Names: []string{
			"parallel"}},
	{Desc: "editors and file tools for the project", Effects: Reads | Writes,
		Names: []string{
			"nano", "micro", "ed", "subl", "hx", "kak", "joe", "mcedit", "patch", "mkfifo"}},
	{Desc: "remove empty folders", Effects: Deletes,
		Names: []string{
			"rmdir"}},
	{Desc: "compilers and build systems: run the project's build files", Effects: ExecFile | Writes,
		Names: []string{
			"cmake", "ninja", "meson", "bazel", "bazelisk", "buck", "scons", "autoreconf", "autoconf",
			"automake", "configure", "gcc", "g++", "cc", "c++", "clang", "clang++", "ld", "as", "rustc",
			"javac", "kotlinc", "scalac", "tsc", "esbuild", "swc", "babel", "webpack", "rollup",
			"parcel", "sbt", "lein", "ant", "dune", "stack", "cabal", "ghc", "mix", "rebar3", "erlc", "elixir",
			"zig", "nim", "crystal", "dart", "flutter", "swift", "swiftc", "xcodebuild", "turbo", "nx",
			"lerna", "tsx", "ts-node", "protoc", "buf", "sqlc", "openapi-generator", "swag", "wire", "mockgen",
			"stringer", "tsup", "vue-tsc", "svelte-check", "pkg-config", "pkgconf", "ctest", "cpack",
			"tree-sitter"}},
	{Desc: "test runners: run the project's tests", Effects: ExecFile,
		Names: []string{
			"jest", "mocha", "vitest", "ava", "tap", "karma", "playwright", "cypress", "pytest", "py.test",
			"tox", "nox", "coverage", "rspec", "phpunit", "gotestsum", "ginkgo", "bats", "shunit2", "kcov",
			"nyc", "c8", "istanbul", "gcov", "lcov", "gcovr", "llvm-cov", "llvm-profdata"}},
	{Desc: "linters, formatters, checkers and data tools", Effects: Reads | Writes,
		Names: []string{
			"rustfmt", "eslint", "prettier", "biome", "stylelint", "mypy", "pyright", "pylint", "flake8",
			"ruff", "black", "isort", "autopep8", "yapf", "bandit", "pydocstyle", "pyflakes", "gofmt",
			"goimports", "golint", "golangci-lint", "staticcheck", "govulncheck", "gopls", "shellcheck",
			"shfmt", "hadolint", "yamllint", "markdownlint", "actionlint", "tflint", "clang-format",
			"clang-tidy", "cppcheck", "rubocop", "standardrb", "phpstan", "psalm", "dotnet-format", "tig",
			"lazygit", "cloc", "tokei", "scc", "age", "check_cups", "check_raid", "check_log", "clamscan",
			"cupsfilter", "genisoimage", "mkisofs", "octave-cli", "wslpath", "cygpath", "eza", "exa", "lsd",
			"ncdu", "duf", "dust", "procs", "sd", "ast-grep", "semgrep", "difft", "jless", "fx", "gron",
			"hexyl", "knip", "depcheck", "madge", "protolint", "sqlfluff", "taplo", "dprint", "oxlint", "rome",
			"standard", "xo", "tslint", "jshint", "csslint", "htmlhint", "composer-unused", "pint", "gofumpt",
			"revive", "errcheck", "ineffassign", "gocyclo", "misspell", "typos", "codespell", "vale", "alex",
			"write-good", "cspell", "ls-lint", "editorconfig-checker", "commitizen", "cz", "git-cliff",
			"dasel", "miller", "csvkit", "in2csv", "csvcut", "csvgrep", "csvstat", "xmlstarlet", "xidel",
			"pup", "htmlq", "tidy", "nkf", "recode", "enca", "uchardet", "chardetect", "cmake-format",
			"identify", "ffprobe", "mediainfo", "pdfinfo", "pdftotext", "colrm", "lam", "dialog", "whiptail",
			"notify-send", "kustomize", "kubeval", "kubeconform", "conftest", "checkov", "tfsec", "terrascan",
			"terraform-docs", "cue"}},
	{Desc: "debuggers, profilers and watchers: run a program", Effects: ExecArg,
		Names: []string{
			"dlv", "lldb", "valgrind", "perf", "air", "entr", "hyperfine"}},
	{Desc: "git hook managers", Effects: ExecFile | SetsExec,
		Names: []string{
			"pre-commit", "commitlint", "husky", "lint-staged"}},
	{Desc: "language environment managers", Effects: Installs | SetsExec,
		Names: []string{
			"virtualenv", "pyenv", "rbenv", "nodenv", "asdf", "direnv", "pixi"}},
	{Desc: "documentation generators", Effects: Reads | Writes | ExecFile,
		Names: []string{
			"mkdocs", "sphinx-build", "hugo", "jekyll", "zola", "mdbook", "docusaurus", "typedoc", "jsdoc",
			"godoc", "pkgsite", "rustdoc", "doxygen", "asciidoctor", "bibtex", "biber"}},
	{Desc: "file managers", Effects: Reads | Writes | Deletes | ExecArg,
		Names: []string{
			"mc", "ranger", "nnn", "vifm"}},
	{Desc: "open a file with its default application", Effects: ExecFile,
		Names: []string{
			"xdg-open", "open"}},
	{Desc: "link checkers, scanners and cluster viewers that fetch", Effects: Reads | Fetches,
		Names: []string{
			"lychee", "markdown-link-check", "trivy", "grype", "syft", "dive", "stern", "k9s", "infracost"}},
	{Desc: "pagers and diff viewers that settings name", Effects: Reads,
		Names: []string{
			"diff-so-fancy", "moar", "ov", "lesspipe", "lesspipe.sh"}},
	{Desc: "compiler caches: run the compiler they wrap", Effects: ExecArg,
		Names: []string{
			"sccache", "ccache"}},
}
