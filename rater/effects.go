package rater

import (
	"strings"

	"github.com/chaperone-dev/chaperone/internal/lazyre"
)

// An inline program (python -c, node -e, perl -e, deno eval, php -r …) is
// judged by what it does, not by which language says it: one set of
// patterns per effect covers the common scripting languages, and the
// rules combine effects the same way for all of them (a secret read and
// a network call in one program is a secret that may leave, whatever the
// spelling).

// effect is one thing an inline program does.
type effect uint32

const (
	effNet      effect = 1 << iota // talks to the network: HTTP client, socket, DNS
	effSend                        // puts data in a request body or on a socket
	effSocket                      // opens a raw socket
	effSpawn                       // runs another program
	effShell                       // names a shell
	effDecode                      // decodes data: base64, hex, pack, escapes, compression
	effEval                        // evaluates a string (or deserialises an object) as code
	effDelete                      // deletes files
	effWrite                       // writes, copies or moves files
	effTree                        // walks, archives or copies a whole folder tree
	effHome                        // refers to the user's home folder
	effHomeRoot                    // passes the home folder itself to a call
	effEnvDump                     // takes the whole environment
	effSetuid                      // changes its user id
	effLibrary                     // loads a native library
	effRead                        // reads files (or hands them to something that does)
	effDNS                         // resolves a name it builds
)

func (e effect) has(f effect) bool { return e&f != 0 }

// The patterns, one per effect, across Python, JavaScript (node, deno,
// bun), Perl, Ruby, PHP, Lua and R. Each is matched only when a cheap
// substring gate passes: these are the slow part of rating a one-liner.
var (
	codeSocket    = lazyre.New(`(?i)\b(socket\.socket|socket\(|IO::Socket|TCPSocket|UDPSocket|fsockopen|stream_socket_client|require\(["']net["']\)|net\.(connect|createConnection|Socket|createServer)|require\s*\(?\s*["']socket["']|Sockets|connect\(\s*"|java\.net\.Socket|new\s+Socket|dgram|websocket|ServerSocket|socket\.create_connection|asyncio\.open_connection|Deno\.connect|Bun\.connect|\.bind\(\s*\(?["'*0])`)
	codeSpawn     = lazyre.New(`(?i)\b(os\.system|os\.popen|subprocess|pty\.spawn|os\.exec\w*|os\.spawn\w*|child_process|execSync|spawnSync|spawn\(|exec\(|system2?\s*\(|system\s+["'$]|popen|proc_open|shell_exec|passthru|Process\.spawn|IO\.popen|Open3|Kernel\.(exec|system|spawn)|%x|qx\s*[({\[/|!]|ProcessBuilder|Runtime\.getRuntime|os\.execute|io\.popen|Deno\.(run|Command)|Bun\.(spawn|\$)|run\(|` + "`" + `)`)
	codeShell     = lazyre.New(`(/bin/(ba|z|da|k|c)?sh\b|["'](ba|z|da)?sh["']|\bsh\s+-[ic]|cmd\.exe|powershell)`)
	codeSetuid    = lazyre.New(`(?i)\b(setuid|setreuid|setresuid|seteuid|setgid|POSIX::set|Process::Sys\.set|process\.setuid|\$<\s*=\s*0|\$>\s*=\s*0)`)
	codeLib       = lazyre.New(`(?i)\b(ctypes|cdll|CDLL|LoadLibrary|dlopen|Fiddle|ffi\.load|DynaLoader|package\.loadlib|System\.load|Deno\.dlopen)`)
	codeFetch     = lazyre.New(`(?i)(urllib|urlopen|urlretrieve|requests\.(get|post|put|patch|request|session)|httpx|aiohttp|http\.(get|request|client)|https?\.get|HTTPS?Connection|fetch\(|XMLHttpRequest|sendBeacon|axios|undici|open-uri|URI\.open|net/http|Net::HTTP|HTTParty|Faraday|RestClient|LWP|HTTP::Tiny|Mojo::UserAgent|file_get_contents\(\s*["']https?:|fopen\(\s*["']https?:|curl_(exec|init)|download\(|download\.file|httr|RCurl|socket\.http|HTTP\.get|wget|new\s+URL|\bhttps?://)`)
	codeUpload    = lazyre.New(`(?i)(requests\.(post|put|patch)|method\s*[:=]\s*["'](POST|PUT)|\.post\(|urlopen\([^)]*,|http\.request\(|Net::HTTP::Post|Net::HTTP\.post|post_form|HTTP::Tiny->new->post|->post\(|\bPOST\(|\.request\(\s*["']POST|curl_setopt\([^)]*POSTFIELDS|sendBeacon|\bbody\s*:|smtplib|ftplib|paramiko|send\(|sendall\(|syswrite|\.write\(\s*sock|upload)`)
	codeWrite     = lazyre.New(`(?i)(open\([^)]*,\s*["'][wa+]|writeFile|writeFileSync|appendFile|createWriteStream|File\.(open|new)\([^)]*["'][wa]|File\.write|IO\.write|io\.open\([^)]*["'][wa]|file_put_contents|fopen\([^)]*["'][wa]|FileWriter|Out-File|Set-Content|>\s*["']|shutil\.(copy|move)|os\.rename|Path\([^)]*\)\.write|write_text|write_bytes|fs\.cp|copyFile|rename\(|symlink|os\.chmod|chmod\(|Deno\.write)`)
	codeDelete    = lazyre.New(`(?i)(os\.remove|os\.unlink|shutil\.rmtree|rmtree|unlinkSync|rmSync|rmdirSync|fs\.rm|fs\.promises\.rm|File\.delete|FileUtils\.(rm|remove)|remove_entry|remove_tree|\bunlink\b|rmdir\(|Remove-Item|os\.removedirs|Deno\.remove|rimraf|\.unlink\(|file\.remove)`)
	codeDecode    = lazyre.New(`(?i)(b64decode|base64\.decode|decode64|base64_decode|decode_base64|MIME::Base64|atob\(|Buffer\.from\([^)]*(base64|hex)|unpack\(["']m|\b(un)?pack1?\s*\(?\s*(["'][HhmuUwBb*]|u\s*=>|q[qw]?\s*\W)|fromhex|unhexlify|hex2bin|codecs\.decode|zlib\.decompress|gzinflate|gzuncompress|gzdecode|str_rot13|rot13|fromCharCode|rawToChar|base64enc|strict_decode|decodeURIComponent|unescape\(|TextDecoder|marshal\.loads|pickle\.loads|\[::-1\]|\.reverse\(\)|\breverse\s+["'$q]|chr\(\s*\d+\s*\)\s*[.+]|(\\x[0-9a-f]{2}){8}|data:[\w/+.-]*;base64,)`)
	codeEval      = lazyre.New(`\b(eval|exec|compile|Function|instance_eval|class_eval|module_eval|create_function|execfile|runInThisContext|runInNewContext|runInContext)\s*\(|\bnew\s+Function\b|\beval\s+[\w$"'(@` + "`" + `]|\b(import|require)\(\s*["']data:|\b(pickle|marshal|Marshal)\.loads?\b|\bassert\s*\(\s*\$|preg_replace\(\s*["']/[^"']*/e`)
	inlineLoad    = lazyre.New(`\b(load|loadstring|dofile|loadfile)\s*\(`)
	bareExec      = lazyre.New(`\b(exec|system)\s+["']`)
	pathLit       = lazyre.New(`["'](~?/[^"']*|\.\.?/[^"']*|[\w.-]+/[\w./-]*|\.[\w.-]+|[\w-]+\.\w{1,5})["']`)
	inlineTree    = lazyre.New(`(?i)(make_archive|tarfile|zipfile|TarFile|os\.walk|\.rglob\(|copytree|cpSync|cp_r|Find\.find|File::Find|Archive::(Tar|Zip)|Dir\.glob|glob\.glob|recursive|list\.files\(|PharData|ZipArchive|RecursiveDirectoryIterator|archiver|walkSync|fs\.cp\(|\bzip\(|\btar\()`)
	inlineEnvDump = lazyre.New(`(dict\(\s*os\.environ\s*\)|os\.environ\.(copy|items)\(|os\.environ\s*[),]|str\(\s*os\.environ|JSON\.stringify\(\s*process\.env\s*[,)]|process\.env\s*[),]|Deno\.env\.toObject|Bun\.env\s*[),]|ENV\.(to_h|to_a|inspect|map|each)|ENV\s*[),]|%ENV|getenv\(\s*\)|\$_ENV\s*[),]|Sys\.getenv\(\s*\)|os\.getenv\(\s*\))`)
	inlineDNS     = lazyre.New(`(gethostbyname|getaddrinfo|dns\.(lookup|resolve\w*)|Resolv|inet_aton|dns_get_record|resolveDns|nslookup|toASCII\(|InetAddress)`)
	// homeInterp is the home folder interpolated at the start of a string.
	homeInterp   = lazyre.New(`^(\$HOME\b|\$\{HOME\}|\$ENV\{\s*["']?HOME["']?\s*\}|\$_SERVER\[["']?HOME["']?\]|#\{[^}]*\bhome\b[^}]*\}|#\{[^}]*HOME[^}]*\}|\$\{[^}]*(homedir|HOME|home\(\))[^}]*\})`)
	inlineString = lazyre.New(`"((?:[^"\\\n]|\\.){1,200})"|'((?:[^'\\\n]|\\.){1,200})'|` + "`" + `([^` + "`" + `\n]{1,200})` + "`")
	// inlineHome is an expression for the home folder itself; what follows
	// it tells whether the folder is used whole or joined with a name.
	inlineHome = lazyre.New(`(?:os\.path\.expanduser|expanduser|File\.expand_path|expand_path|path\.expand|normalizePath)\(\s*["']~/?["']\s*\)|homedir\(\)|Path\.home\(\)|Dir\.home\b|(?:getenv|env\.get|Sys\.getenv)\(\s*["']HOME["']\s*\)|process\.env\.HOME\b|(?:process\.env|ENV|os\.environ|\$_SERVER|\$_ENV)\[\s*["']HOME["']\s*\]|os\.environ\.get\(\s*["']HOME["']\s*\)|\$ENV\{\s*["']?HOME["']?\s*\}|Bun\.env\.HOME\b|["']~/?["']|["']\$HOME/?["']`)
)

// embeddedCommand finds, per language, the command lines an inline
// program hands to a shell in ways the parser does not read as calls:
// AppleScript's do shell script "…", Tcl's exec words, Julia's backtick
// commands.
var embeddedCommand = map[string]*lazyre.RE{
	"osascript": lazyre.New(`do shell script\s+"((?:[^"\\]|\\.)*)"`),
	"tcl":       lazyre.New(`(?:^|[\[;{\n])\s*exec\s+([^\]\n;}]+)`),
	"julia":     lazyre.New("`([^`]+)`"),
}

// scanCode returns the effects of an inline program and the paths it
// names: quoted path literals, and names joined to the home folder
// (os.homedir() + '/.aws/credentials' gives "~/.aws/credentials").
func scanCode(src, lang string) (effect, []string) {
	var e effect
	low := strings.ToLower(src)
	gate := func(words ...string) bool {
		for _, g := range words {
			if strings.Contains(low, g) {
				return true
			}
		}
		return false
	}
	match := func(f effect, re *lazyre.RE, words ...string) {
		if gate(words...) && re.MatchString(src) {
			e |= f
		}
	}
	match(effSocket, codeSocket, "sock", "net", "connect", "bind(", "dgram")
	match(effSpawn, codeSpawn, "system", "popen", "subprocess", "pty", "exec", "spawn", "child_process", "shell", "passthru", "process", "open3", "%x", "qx", "runtime", "run(", "`", "command", "bun.$")
	match(effShell, codeShell, "sh", "cmd.exe")
	match(effSetuid, codeSetuid, "setuid", "setreuid", "setresuid", "seteuid", "setgid", "posix::set", "sys.set", "$<", "$>")
	match(effLibrary, codeLib, "ctypes", "cdll", "loadlibrary", "dlopen", "fiddle", "ffi", "dynaloader", "loadlib", "system.load")
	match(effDecode, codeDecode, "b64", "base64", "decode", "atob", "pack", "hex", "codecs", "zlib", "gz", "rot13", "charcode", "rawtochar", "unescape", "marshal", "pickle", "[::-1]", "reverse", "chr(", "\\x", "data:")
	match(effEval, codeEval, "eval", "exec", "compile", "function", "import(", "require(", "pickle", "marshal", "assert", "preg_replace", "runin")
	if lang == "lua" {
		match(effEval, inlineLoad, "load", "dofile")
	}
	match(effNet, codeFetch, "url", "request", "http", "fetch", "open-uri", "lwp", "curl", "download", "wget", "axios", "undici", "faraday", "restclient", "beacon", "dns", "host", "resolv", "socket")
	match(effDNS, inlineDNS, "host", "addr", "dns", "resolv", "inet", "nslookup")
	if e.has(effSocket) {
		e |= effNet
	}
	if e.has(effNet) && codeUpload.MatchString(src) {
		e |= effSend
	}
	match(effWrite, codeWrite, "open", "write", "file", "io.", "out-file", "set-content", ">", "shutil", "rename", "symlink", "chmod", "copy", "path(", "fs.cp")
	match(effDelete, codeDelete, "remove", "unlink", "rmtree", "rmsync", "rmdir", "fs.rm", "delete", "rm(", "rimraf", "rm_")
	match(effTree, inlineTree, "archive", "tar", "zip", "walk", "glob", "copytree", "cpsync", "cp_r", "find", "recursive", "list.files", "phardata", "fs.cp")
	match(effEnvDump, inlineEnvDump, "environ", "env", "getenv")
	if gate("open", "read", "file", "slurp", "load", "fs.", "io.", "copy", "cp", "<", "send", "upload", "body", "getline", "cat", "tar", "zip") {
		// Broad on purpose: it only lets names joined to HOME count.
		e |= effRead
	}

	var paths []string
	for _, m := range pathLit.FindAllStringSubmatch(src, 64) {
		paths = append(paths, m[1])
	}
	if gate("home", "expanduser", "expand_path", "path.expand", "~", "userprofile") {
		home := false
		for _, loc := range inlineHome.Regexp().FindAllStringIndex(src, 16) {
			home = true
			if homeWhole(src[loc[1]:]) {
				e |= effHomeRoot
			}
		}
		if home || strings.Contains(src, "HOME") || strings.Contains(src, "USERPROFILE") {
			e |= effHome
			if e&(effRead|effNet|effTree|effDelete|effWrite) != 0 {
				// Only a program that does something with the files:
				// printing a path names it without reading it.
				paths = append(paths, homeJoined(src)...)
			}
		}
	}
	return e, paths
}

// homeWhole reports whether a home-folder expression is used whole: the
// text after it closes the call or the statement, or passes it and then
// an option, rather than joining a name to it.
func homeWhole(after string) bool {
	after = strings.TrimLeft(after, " \t")
	if after == "" {
		return true
	}
	switch after[0] {
	case ')', ';', '}', ']', '\n':
		return true
	case ',':
		rest := strings.TrimLeft(after[1:], " \t")
		return rest == "" || rest[0] != '"' && rest[0] != '\''
	}
	return false
}

// homeJoined returns the paths an inline program that mentions the home
// folder may build from it: each string literal, and each run of
// consecutive literals, placed under "~/" (path.join(os.homedir(),
// '.ssh', 'id_rsa'), Path.home() / '.aws' / 'credentials', $ENV{HOME} .
// "/.netrc").
func homeJoined(src string) []string {
	var out, run []string
	last := -1
	for _, loc := range inlineString.FindAllStringSubmatchIndex(src, 64) {
		lit := ""
		for g := 2; g+1 < len(loc); g += 2 {
			if loc[g] >= 0 {
				lit = src[loc[g]:loc[g+1]]
			}
		}
		if m := homeInterp.FindStringIndex(lit); m != nil {
			// "$ENV{HOME}/.ssh", "#{Dir.home}/.aws", `${os.homedir()}/.netrc`
			lit = lit[m[1]:]
		}
		lit = strings.TrimPrefix(lit, "~")
		if lit == "" || strings.ContainsAny(lit, " \\") || strings.Contains(lit, "://") {
			run, last = nil, -1
			continue
		}
		if last >= 0 && !joiner(src[last:loc[0]]) {
			run = nil
		}
		run = append(run, strings.Trim(lit, "/"))
		last = loc[1]
		out = append(out, "~/"+strings.TrimPrefix(lit, "/"))
		if len(run) > 1 {
			out = append(out, "~/"+strings.Join(run, "/"))
		}
	}
	return out
}

// joiner reports whether the text between two string literals joins
// them into one path: a comma, a slash, a plus or a dot, and spaces.
func joiner(between string) bool {
	return len(between) <= 6 && strings.Trim(between, " ,/+.") == ""
}
