package rater

import (
	"sort"

	"github.com/chaperone-dev/chaperone/models"
)

// Rule is one of the rater's built-in rules: a stable id, the risk a match
// implies, and the reason a person reads.
type Rule struct {
	ID     string
	Risk   models.Risk
	Reason string
}

// The built-in rules. Their ids are stable: the audit log, the model's
// few-shot examples and user documentation refer to them.
var (
	// Credentials and data leaving the machine.
	ruleSecretsRead   = Rule{"secrets.read", models.High, "reads credentials or secrets outside the project"}
	ruleSecretsSearch = Rule{"secrets.search", models.High, "searches outside the project for credentials"}
	ruleEnvExfil      = Rule{"env.exfil", models.High, "sends the environment (which holds tokens) somewhere"}
	ruleNetUpload     = Rule{"net.upload", models.High, "sends data off the machine (HTTP body or upload)"}
	ruleNetSocket     = Rule{"net.socket", models.High, "opens a raw network connection to a remote host"}
	ruleNetCopy       = Rule{"net.copy", models.High, "copies files to a remote host"}
	ruleNetRemote     = Rule{"net.remote-shell", models.High, "opens a shell or tunnel on a remote host"}
	ruleNetCovert     = Rule{"net.covert", models.High, "carries data over DNS or ICMP"}
	ruleNetScan       = Rule{"net.scan", models.High, "scans hosts or ports on the network"}

	// Running code that nobody has read.
	ruleExecDownload   = Rule{"exec.download", models.High, "downloads code and runs it"}
	ruleExecShell      = Rule{"exec.shell", models.High, "starts a shell through another program"}
	ruleExecIndirect   = Rule{"exec.indirect", models.High, "makes another program run a shell or script"}
	ruleExecObfuscated = Rule{"exec.obfuscated", models.High, "runs decoded or hidden code"}
	ruleExecStaged     = Rule{"exec.staged", models.High, "writes code that starts a shell or runs commands, for another program to run"}
	ruleExecTemp       = Rule{"exec.temp", models.High, "runs a program staged in a temporary directory"}
	ruleExecLibrary    = Rule{"exec.library", models.High, "loads a shared library into a program"}
	ruleShellReverse   = Rule{"shell.reverse", models.High, "opens a reverse or bind shell"}
	rulePkgSource      = Rule{"pkg.source", models.High, "installs or runs a package from outside the known registries (a URL, a git repository, another index or proxy)"}

	// Destruction.
	ruleDestroyUnbounded = Rule{"destroy.unbounded", models.High, "deletes the root, home or system directories, or an unbounded path"}
	ruleDestroyOutside   = Rule{"destroy.outside", models.High, "deletes files outside the project"}
	ruleDestroyDevice    = Rule{"destroy.device", models.High, "writes to or formats a disk device"}
	ruleDestroyPerms     = Rule{"destroy.perms", models.High, "changes permissions or ownership outside the project"}
	ruleDestroyKillAll   = Rule{"destroy.kill-all", models.High, "kills every process"}
	ruleDestroyForkBomb  = Rule{"destroy.fork-bomb", models.High, "fork bomb"}
	ruleDestroyDocker    = Rule{"destroy.docker", models.High, "deletes all docker images and volumes"}

	// Privilege.
	rulePrivSudo      = Rule{"priv.sudo", models.High, "runs as another user (sudo, su, doas)"}
	rulePrivSetuid    = Rule{"priv.setuid", models.High, "sets setuid bits or capabilities"}
	rulePrivContainer = Rule{"priv.container", models.High, "gives a container the host (privileged, docker socket, host root)"}
	rulePrivNamespace = Rule{"priv.namespace", models.High, "enters namespaces, changes root or mounts file systems"}
	rulePrivSystem    = Rule{"priv.system", models.High, "changes the system (users, services, kernel, system packages)"}

	// Persistence.
	rulePersistCron    = Rule{"persist.cron", models.High, "schedules commands (cron, at)"}
	rulePersistFile    = Rule{"persist.file", models.High, "changes a file that makes code run later (shell rc, authorized_keys, services, loader)"}
	rulePersistGit     = Rule{"persist.git", models.High, "installs a git hook or git config that runs a program"}
	rulePersistProject = Rule{"persist.project", models.High, "changes what host tools run from the project (.git metadata, .envrc, agent or editor settings)"}
	rulePersistService = Rule{"persist.service", models.High, "installs or enables a service"}
	rulePersistPreload = Rule{"persist.preload", models.High, "sets LD_PRELOAD or similar loader variables"}

	// Defence evasion.
	ruleEvadeHistory  = Rule{"evade.history", models.High, "clears or disables shell history"}
	ruleEvadeFirewall = Rule{"evade.firewall", models.High, "changes the firewall"}
	ruleEvadeSELinux  = Rule{"evade.selinux", models.High, "changes SELinux, AppArmor or audit settings"}
	ruleEvadeLogs     = Rule{"evade.logs", models.High, "deletes or truncates system logs"}

	// Writes outside the project.
	ruleWriteSystem = Rule{"write.system", models.High, "writes outside the project"}
	ruleWriteHome   = Rule{"write.home", models.High, "writes into the home directory outside the project"}

	// Publishing and deploying.
	rulePublish      = Rule{"publish.package", models.High, "publishes a package or image"}
	rulePushForce    = Rule{"publish.force-push", models.High, "force-pushes or deletes remote branches"}
	ruleGitExfil     = Rule{"git.exfil", models.High, "sends the repository to a new place (a URL, a push URL added to a remote, a remote repointed to another host)"}
	ruleDeployInfra  = Rule{"deploy.infra", models.High, "changes live infrastructure (terraform, kubectl, helm)"}
	ruleDeployCloud  = Rule{"deploy.cloud", models.High, "uploads to or deletes from cloud storage, releases or repositories"}
	ruleSQLDestroy   = Rule{"sql.destructive", models.High, "runs destructive SQL or wipes a database"}
	ruleChaperone    = Rule{"chaperone.self", models.High, "touches chaperone's own approval socket, config, processes or switches"}
	ruleParseError   = Rule{"parse.error", models.High, "is not valid bash, so nobody can tell what it does"}
	ruleCodeDanger   = Rule{"code.dangerous", models.High, "inline program does something dangerous"}
	ruleOpaqueHidden = Rule{"opaque.hidden", models.High, "runs code that only exists at run time, fetched or decoded"}

	// Session memory: what earlier commands of the session did (session.go).
	ruleSessionExfil   = Rule{"session.exfil", models.High, "sends, stages or pushes a file that holds secret data copied earlier in this session"}
	ruleSessionRemote  = Rule{"session.remote", models.High, "pushes to a remote that this session pointed at a host the project did not use"}
	ruleSessionSetting = Rule{"session.setting", models.High, "runs git with a setting this session changed to run a program"}
	ruleSessionScript  = Rule{"session.script", models.Medium, "runs a script this session wrote piece by piece; rated as its content"}
	ruleSessionLost    = Rule{"session.lost", models.Medium, "runs a file by path while the session's memory had to forget files it downloaded"}

	// Medium: ordinary but state-changing.
	rulePkgInstall   = Rule{"pkg.install", models.Medium, "installs or removes packages"}
	ruleNetFetch     = Rule{"net.fetch", models.Medium, "downloads from the network"}
	ruleDeleteLocal  = Rule{"delete.local", models.Medium, "deletes files in the project or a temp dir"}
	ruleGitRewrite   = Rule{"git.rewrite", models.Medium, "discards changes or rewrites history"}
	ruleGitPush      = Rule{"git.push", models.Medium, "pushes to a remote"}
	ruleGitRemote    = Rule{"git.remote", models.Medium, "points a git remote at another repository"}
	ruleWriteTemp    = Rule{"write.temp", models.Medium, "writes in a temp dir"}
	ruleWriteClobber = Rule{"write.clobber", models.Medium, "overwrites a source file"}
	ruleWriteConfig  = Rule{"write.config", models.Medium, "changes user-level tool configuration"}
	ruleWriteOther   = Rule{"write.unknown", models.Medium, "writes to a path only known at run time"}
	ruleBackground   = Rule{"proc.background", models.Medium, "starts a server or background process"}
	ruleSignal       = Rule{"proc.signal", models.Medium, "kills or signals processes"}
	ruleContainer    = Rule{"container.run", models.Medium, "builds, runs or changes containers"}
	rulePerms        = Rule{"perms.project", models.Medium, "changes permissions or ownership"}
	ruleDBSession    = Rule{"db.session", models.Medium, "opens a database session or runs SQL that changes data"}
	ruleNetListen    = Rule{"net.listen", models.Medium, "listens on a network port"}
	ruleNetForward   = Rule{"net.forward", models.Medium, "forwards a local port"}
	ruleOpaque       = Rule{"opaque", models.Medium, "part of the command is only known at run time"}
	ruleShellBare    = Rule{"shell.interactive", models.Medium, "starts an interactive shell"}
	ruleCloudChange  = Rule{"cloud.change", models.Medium, "changes cloud, cluster or service state"}
	ruleRemoteChange = Rule{"remote.change", models.Medium, "changes state on a remote service (issues, PRs)"}
	ruleUnknown      = Rule{"unknown.program", models.Medium, "unfamiliar program; rules cannot judge it"}
	ruleScript       = Rule{"unknown.script", models.Medium, "runs a project script; rules cannot see inside it"}
	ruleUser         = Rule{"user.rule", models.Medium, "matches a rule in your config"}
)

// Rules returns the built-in rules, sorted by id.
func Rules() []Rule {
	all := []Rule{
		ruleSecretsRead, ruleSecretsSearch, ruleEnvExfil, ruleNetUpload, ruleNetSocket, ruleNetCopy, ruleNetRemote,
		ruleNetCovert, ruleNetScan, ruleExecDownload, ruleExecShell, ruleExecIndirect, ruleExecObfuscated, ruleExecStaged, ruleExecTemp,
		ruleExecLibrary, ruleShellReverse, ruleDestroyUnbounded, ruleDestroyOutside, ruleDestroyDevice, ruleDestroyPerms,
		ruleDestroyKillAll, ruleDestroyForkBomb, ruleDestroyDocker, rulePrivSudo, rulePrivSetuid, rulePrivContainer,
		rulePrivNamespace, rulePrivSystem, rulePersistCron, rulePersistFile, rulePersistGit, rulePersistProject, rulePersistService,
		rulePersistPreload, ruleEvadeHistory, ruleEvadeFirewall, ruleEvadeSELinux, ruleEvadeLogs, ruleWriteSystem,
		ruleWriteHome, rulePublish, rulePushForce, ruleGitExfil, ruleGitRemote, ruleDeployInfra, ruleDeployCloud, ruleSQLDestroy, ruleChaperone,
		ruleParseError, ruleCodeDanger, ruleOpaqueHidden, rulePkgSource, rulePkgInstall, ruleNetFetch, ruleDeleteLocal, ruleGitRewrite,
		ruleGitPush, ruleWriteTemp, ruleWriteClobber, ruleWriteConfig, ruleWriteOther, ruleBackground, ruleSignal,
		ruleContainer, rulePerms, ruleDBSession, ruleNetListen, ruleNetForward, ruleOpaque, ruleShellBare,
		ruleCloudChange, ruleRemoteChange, ruleUnknown, ruleScript,
		ruleRunOpaque, ruleRunSource, ruleRunGlob, ruleRunShadow, ruleRunRemote, ruleRunHost, // what runs: whatruns.go
		ruleSessionExfil, ruleSessionRemote, ruleSessionGate, ruleSessionSetting, ruleSessionScript, ruleSessionLost,
	}
	sort.Slice(all, func(i, j int) bool { return all[i].ID < all[j].ID })
	return all
}

// undecidedRules are the findings that mean "no rule knows this": a
// rating made only of these is Undecided and goes to the model.
func undecidedRule(id string) bool {
	return id == ruleUnknown.ID || id == ruleScript.ID
}
