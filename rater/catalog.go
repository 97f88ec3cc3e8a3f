package rater

import "github.com/chaperone-dev/chaperone/catalog"

// checks maps a catalogue entry's Check id to the code that judges a use
// of the program in detail. The entry (catalog package) says which
// programs an id covers. Filled in init: some checks rate the commands
// they run, which reaches back here.
var checks map[string]handler

// checkInline are the Check ids that program judges itself rather than
// through checks.
var checkInline = []string{"interpreter"}

func init() {
	checks = map[string]handler{
		"priv-esc":      privEsc,
		"namespace":     namespace,
		"mount":         mountCmd,
		"sshfs":         sshfs,
		"setcap":        setuidCmd,
		"chmod":         chmodCmd,
		"chown":         chownCmd,
		"chattr":        chattrCmd,
		"setfacl":       setfaclCmd,
		"rm":            rmCmd,
		"shred":         shredCmd,
		"dd":            ddCmd,
		"device":        device,
		"kill":          killCmd,
		"killall":       killallCmd,
		"killall5":      killAll5,
		"crontab":       crontabCmd,
		"at":            atCmd,
		"systemctl":     systemctlCmd,
		"service":       serviceCmd,
		"history":       historyCmd,
		"unset":         unsetCmd,
		"export":        exportCmd,
		"set":           setCmd,
		"firewall":      firewall,
		"selinux":       selinux,
		"journal":       journalCmd,
		"logs":          logsCmd,
		"system":        system,
		"ldconfig":      ldconfigCmd,
		"sysctl":        sysctlCmd,
		"passwd":        passwdCmd,
		"hostnamectl":   hostnamectlCmd,
		"timedatectl":   timedatectlCmd,
		"curl":          curlCmd,
		"wget":          wgetCmd,
		"fetch":         fetchCmd,
		"lwp-request":   lwpRequest,
		"httpie":        httpie,
		"nc":            ncCmd,
		"socat":         socatCmd,
		"remote-shell":  remoteShell,
		"finger":        fingerCmd,
		"whois":         whoisCmd,
		"ssh":           sshCmd,
		"scp":           scpCmd,
		"rsync":         rsyncCmd,
		"ssh-copy-id":   sshCopyID,
		"ping":          pingCmd,
		"covert":        covert,
		"dig":           digCmd,
		"scan":          scan,
		"openssl":       opensslCmd,
		"socket":        socketCmd,
		"tcpdump":       tcpdumpCmd,
		"tunnel":        tunnel,
		"git":           gitCmd,
		"docker":        dockerCmd,
		"compose":       composeCmd,
		"kubectl":       kubectlCmd,
		"helm":          helmCmd,
		"terraform":     terraformCmd,
		"pulumi":        pulumiCmd,
		"ansible":       ansibleCmd,
		"npm":           npmCmd,
		"npx":           npxCmd,
		"pip":           pipCmd,
		"pipx":          pipxCmd,
		"uv":            uvCmd,
		"poetry":        poetryCmd,
		"conda":         condaCmd,
		"twine":         twineCmd,
		"gem":           gemCmd,
		"bundle":        bundleCmd,
		"go":            goCmd,
		"cargo":         cargoCmd,
		"rustup":        rustupCmd,
		"dotnet":        dotnetCmd,
		"nuget":         nugetCmd,
		"composer":      composerCmd,
		"apt":           aptCmd,
		"dpkg":          dpkgCmd,
		"rpm":           rpmCmd,
		"nvm":           nvmCmd,
		"aws":           awsCmd,
		"gsutil":        gsutilCmd,
		"gcloud":        gcloudCmd,
		"az":            azCmd,
		"gh":            ghCmd,
		"rclone":        rcloneCmd,
		"deploy-cli":    deployCLI,
		"sql":           sqlCmd,
		"redis":         redisCmd,
		"sql-admin":     sqlAdmin,
		"tee":           teeCmd,
		"cp":            cpCmd,
		"mv":            mvCmd,
		"install":       installCmd,
		"ln":            lnCmd,
		"touch":         touchCmd,
		"mkdir":         mkdirCmd,
		"truncate":      truncateCmd,
		"sed":           sedCmd,
		"awk":           awkCmd,
		"tar":           tarCmd,
		"unzip":         unzipCmd,
		"zip":           zipCmd,
		"find":          findCmd,
		"grep":          grepCmd,
		"xargs":         xargsCmd,
		"env":           envCmd,
		"eval":          evalCmd,
		"source":        sourceCmd,
		"quiet-wrapper": quietWrapper,
		"nohup":         nohupCmd,
		"screen":        screenCmd,
		"tmux":          tmuxCmd,
		"script":        scriptCmd,
		"systemd-run":   systemdRun,
		"gdb":           gdbCmd,
		"editor":        editorCmd,
		"pager":         pagerCmd,
		"make":          makeCmd,
		"decoder":       decoderCmd,
		"build-tool":    buildTool,
		"release-tool":  releaseTool,
		"framework-cli": frameworkCLI,
		"deno":          denoCmd,
		"prisma":        prismaCmd,
		"helmfile":      helmfileCmd,
		"context":       contextCmd,
		"local-infra":   localInfraCmd,
		"vault":         vaultCmd,
		"xterm":         xtermCmd,
		"chaperone":     chaperoneCmd,
		"gpg":           gpgCmd,
		"ztcp":          ztcpCmd,
		"code":          codeCmd,
		"shell":         shellCmd,
	}
}

// handlerOf returns the check of the catalogue entry e, or nil when e is
// nil, quiet or judged inline.
func handlerOf(e *catalog.Entry) handler {
	if e == nil || e.Check == "" {
		return nil
	}
	return checks[e.Check]
}

// ExampleRequest is the context the catalogue's examples are written for
// and rated in (by the tests and `chaperone rules show`): a project at
// /home/dev/proj, worked in at its top, for a user whose home is
// /home/dev.
func ExampleRequest(cmd string) Request {
	return Request{Command: cmd, Cwd: "/home/dev/proj", Project: "/home/dev/proj", Home: "/home/dev"}
}
