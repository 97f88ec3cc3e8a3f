package rater

import (
	"strings"

	"github.com/chaperone-dev/chaperone/internal/lazyre"
	"github.com/chaperone-dev/chaperone/models"
	"github.com/chaperone-dev/chaperone/parser"
)

// Features of inline programs, across languages.
var (
	codeSocket = lazyre.New(`(?i)\b(socket\.socket|socket\(|IO::Socket|TCPSocket|UDPSocket|fsockopen|stream_socket_client|require\(["']net["']\)|net\.(connect|createConnection|Socket|createServer)|require\s*\(?\s*["']socket["']|Sockets|connect\(\s*"|java\.net\.Socket|new\s+Socket|dgram|websocket|ServerSocket|socket\.create_connection|asyncio\.open_connection|\.bind\(\s*\(?["'*0])`)
	codeSpawn  = lazyre.New(`(?i)\b(os\.system|os\.popen|subprocess|pty\.spawn|os\.exec\w*|os\.spawn\w*|child_process|execSync|spawnSync|spawn\(|exec\(|system\s*\(|system\s+["']|popen|proc_open|shell_exec|passthru|Process\.spawn|IO\.popen|Open3|Kernel\.exec|%x|ProcessBuilder|Runtime\.getRuntime|os\.execute|io\.popen|run\(|` + "`" + `)`)
	codeShell  = lazyre.New(`(/bin/(ba|z|da|k|c)?sh\b|["'](ba|z|da)?sh["']|\bsh\s+-[ic]|cmd\.exe|powershell)`)
	codeSetuid = lazyre.New(`(?i)\b(setuid|setreuid|setresuid|seteuid|setgid|POSIX::set|Process::Sys\.set|process\.setuid|\$<\s*=\s*0|\$>\s*=\s*0)`)
	codeLib    = lazyre.New(`(?i)\b(ctypes|cdll|CDLL|LoadLibrary|dlopen|Fiddle|ffi\.load|DynaLoader|package\.loadlib|System\.load)`)
	codeFetch  = lazyre.New(`(?i)(urllib|urlopen|urlretrieve|requests\.(get|post|put)|http\.(get|request|client)|https?\.get|fetch\(|open-uri|URI\.open|Net::HTTP|LWP|HTTP::Tiny|file_get_contents\(\s*["']https?:|curl_exec|download\(|HTTP\.get|wget|new\s+URL|\bhttps?://)`)
	codeUpload = lazyre.New(`(?i)(requests\.(post|put|patch)|method\s*[:=]\s*["'](POST|PUT)|\.post\(|urlopen\([^)]*,|http\.request\(|Net::HTTP::Post|HTTP::Tiny->new->post|\.request\(\s*["']POST|curl_setopt\([^)]*POSTFIELDS|smtplib|ftplib|paramiko|send\(|sendall\(|\.write\(\s*sock|upload)`)
	codeWrite  = lazyre.New(`(?i)(open\([^)]*,\s*["'][wa+]|writeFile|writeFileSync|appendFile|createWriteStream|File\.(open|new)\([^)]*["'][wa]|File\.write|IO\.write|io\.open\([^)]*["'][wa]|file_put_contents|fopen\([^)]*["'][wa]|FileWriter|Out-File|Set-Content|>\s*["']|shutil\.(copy|move)|os\.rename|Path\([^)]*\)\.write|write_text|write_bytes|fs\.cp|copyFile|rename\(|symlink|os\.chmod|chmod\()`)
	codeDelete = lazyre.New(`(?i)(os\.remove|os\.unlink|shutil\.rmtree|unlinkSync|rmSync|rmdirSync|fs\.rm|File\.delete|FileUtils\.rm|unlink\(|rmdir\(|Remove-Item|os\.removedirs)`)
	codeDecode = lazyre.New(`(?i)(b64decode|base64\.decode|decode64|base64_decode|atob\(|Buffer\.from\([^)]*base64|unpack\(["']m|fromhex|codecs\.decode|zlib\.decompress|marshal\.loads|pickle\.loads)`)
	codeEval   = lazyre.New(`\b(eval|exec|compile|__import__|Function)\s*\(`)
	bareExec   = lazyre.New(`\b(exec|system)\s+["']`)
	pathLit    = lazyre.New(`["'](~?/[^"']*|\.\.?/[^"']*|[\w.-]+/[\w./-]*|\.[\w.-]+|[\w-]+\.\w{1,5})["']`)
)

// interpValueOpts are interpreters' options that take the next word as
// their value (python -m mod, ruby -r lib, node --require mod …).
var interpValueOpts = []string{"-m", "-W", "-X", "-I", "-M", "-r", "--require", "--import", "-x", "--loader", "-C"}

// interpreter judges an interpreter: inline code is read for what it
// does; a script file is a project script; reading stdin from a download
// is download-and-execute.
func (k *check) interpreter(c *cmd, lang string) bool {
	_, code := parser.InlineCode(c.Command)
	if code == nil {
		if pos := c.positional(interpValueOpts...); len(pos) == 0 || pos[0] == "-" {
			if _, ok := c.value("-m"); !ok {
				// python3 - <<'EOF' … EOF, echo 'code' | node
				if w, ok := parser.StdinCode(k.facts, c.idx); ok {
					code = &w
				}
			}
		}
	}
	if code == nil {
		return k.interpreterFile(c, lang)
	}
	src := code.Lit
	span := c.span()
	before := len(k.findings)
	// Each feature is matched once: these are the slow part of rating.
	low := strings.ToLower(src)
	match := func(re *lazyre.RE, gate ...string) bool {
		for _, g := range gate {
			if strings.Contains(low, g) {
				return re.MatchString(src)
			}
		}
		return false
	}
	socket := match(codeSocket, "sock", "net", "connect", "bind(")
	spawn := match(codeSpawn, "system", "popen", "subprocess", "pty", "exec", "spawn", "child_process", "shell", "passthru", "process", "open3", "%x", "runtime", "run(", "`")
	shell := match(codeShell, "sh", "cmd.exe")
	eval := match(codeEval, "eval", "exec", "compile", "__import__", "function")
	switch {
	case socket && (spawn || shell || strings.Contains(src, "dup2")):
		k.hit(ruleShellReverse, span)
	case socket:
		k.hit(ruleNetSocket, span)
	}
	if shell && (spawn || (lang == "perl" || lang == "ruby") && bareExec.MatchString(src)) {
		// perl -e 'exec "/bin/sh"' has no parentheses.
		k.hit(ruleExecShell, span)
	}
	if match(codeSetuid, "setuid", "setreuid", "setresuid", "seteuid", "setgid", "posix::set", "sys.set", "$<", "$>") {
		k.hit(rulePrivSetuid, span)
	}
	if match(codeLib, "ctypes", "cdll", "loadlibrary", "dlopen", "fiddle", "ffi", "dynaloader", "loadlib", "system.load") {
		k.hit(ruleExecLibrary, span)
	}
	if (eval || spawn) && match(codeDecode, "b64", "base64", "decode64", "atob", "unpack", "fromhex", "codecs", "zlib", "marshal", "pickle") {
		k.hit(ruleExecObfuscated, span)
	}
	if match(codeFetch, "url", "request", "http", "fetch", "open-uri", "lwp", "curl", "download", "wget") {
		if codeUpload.MatchString(src) {
			k.hit(ruleNetUpload, span)
		} else {
			k.hit(ruleNetFetch, span)
		}
		if eval || spawn && !shell {
			k.hit(ruleExecDownload, span)
		}
	}
	writes := match(codeWrite, "open", "write", "file", "io.", "out-file", "set-content", ">", "shutil", "rename", "symlink", "chmod", "copy", "path(")
	deletes := match(codeDelete, "remove", "unlink", "rmtree", "rmsync", "rmdir", "fs.rm", "delete", "rm(")
	for _, m := range pathLit.FindAllStringSubmatch(src, -1) {
		p := m[1]
		n := k.where.norm(p)
		if isSecret(n) {
			k.hit(ruleSecretsRead, span)
			continue
		}
		if writes || deletes {
			switch k.where.placeOf(p, false) {
			case placeSystem, placeOther, placeHome, placeDevice:
				if deletes && !writes {
					k.deleteTarget(c, models.Word{Lit: p}, false)
				} else {
					k.write(c, models.Word{Lit: p}, false)
				}
			case placeTemp:
				k.hit(ruleWriteTemp, span)
			}
		}
	}
	if writes && !strings.Contains(src, "print") {
		// A program written only to change files: say so quietly.
		k.hit(ruleWriteClobber, span)
	}
	if deletes {
		k.hit(ruleDeleteLocal, span)
	}
	if spawn && !shell && len(k.findings) == before {
		// Runs some other program: the parser looked into literal
		// strings; what it could not see is undecided.
		k.hit(ruleUnknown, span)
		return false
	}
	return true
}

// interpreterFile judges `python script.py`, `node`, `perl -ne print f`.
func (k *check) interpreterFile(c *cmd, lang string) bool {
	pos := c.positional(interpValueOpts...)
	if lang == "perl" {
		for _, a := range c.args {
			if strings.HasPrefix(a, "-n") || strings.HasPrefix(a, "-p") {
				return true
			}
		}
	}
	if m, ok := c.value("-m"); ok {
		switch {
		case (m == "http.server" || m == "SimpleHTTPServer") && k.servesOutside(c):
			k.hit(ruleNetUpload, c.span())
		case m == "http.server" || m == "SimpleHTTPServer" || m == "smtpd" || m == "pyftpdlib" || m == "uvicorn" || m == "flask" || m == "gunicorn" || m == "streamlit":
			k.hit(ruleBackground, c.span())
		case m == "pip" || m == "ensurepip":
			sub := ""
			if p := c.positional("-m"); len(p) > 1 {
				sub = p[1]
			}
			if sub == "install" || sub == "uninstall" {
				k.hit(rulePkgInstall, c.span())
			}
		case m == "venv" || m == "virtualenv" || m == "pytest" || m == "unittest" || m == "mypy" || m == "black" || m == "ruff" ||
			m == "pdb" || m == "json.tool" || m == "py_compile" || m == "compileall" || m == "doctest" || m == "timeit" || m == "cProfile" ||
			m == "build" || m == "pylint" || m == "flake8" || m == "isort" || m == "coverage" || m == "tox" || m == "nox" || m == "django" || m == "site" || m == "this" || m == "tabnanny" || m == "pydoc" || m == "calendar":
		case m == "pty" || m == "telnetlib" || m == "nc" || m == "ftplib":
			k.hit(ruleExecShell, c.span())
		default:
			k.hit(ruleUnknown, c.span())
			return false
		}
		return true
	}
	if len(pos) == 0 {
		if c.Stdin == "pipe" || c.Stdin == "file" || c.Stdin == "subst" {
			k.shellFromStdin(c)
			return true
		}
		// An interactive REPL.
		if len(c.Via) > 0 {
			k.hit(ruleExecShell, c.span())
		}
		return true
	}
	f := pos[0]
	if k.procSubstArg(c) {
		if k.feedsFromNetwork(c) {
			k.hit(ruleExecDownload, c.span())
		} else {
			k.hit(ruleExecIndirect, c.span())
		}
		return true
	}
	if f == "-" || f == "/dev/stdin" {
		k.shellFromStdin(c)
		return true
	}
	n := k.where.norm(f)
	switch {
	case k.downloaded[n] || k.downloaded[strings.TrimPrefix(n, "./")]:
		k.hit(ruleExecDownload, c.span())
	case k.where.placeOf(f, false) == placeTemp:
		k.hit(ruleExecTemp, c.span())
	case k.where.placeOf(f, false) == placeProject:
		k.hit(ruleScript, c.span())
	case k.where.placeOf(f, false) == placeSink:
		if len(c.Assigns) > 0 {
			k.hit(ruleExecIndirect, c.span())
		}
	default:
		k.hit(ruleScript, c.span())
	}
	return true
}

// servesOutside reports whether a file server is pointed at a folder
// outside the project.
func (k *check) servesOutside(c *cmd) bool {
	if v, ok := c.value("-d", "--directory"); ok {
		switch k.where.placeOf(v, false) {
		case placeHome, placeSystem, placeOther:
			return true
		}
	}
	return false
}
