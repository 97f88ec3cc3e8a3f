package models

// SystemSecrets are the machine's own credential stores, outside any
// home: files and folders (a trailing "/"), and name prefixes (a trailing
// "_", such as the ssh host keys). The rater holds what reads them; a
// bubblewrap sandbox, which shows the host's root, shows them blank to a
// user who could read them (root).
var SystemSecrets = []string{
	"/etc/shadow", "/etc/gshadow", "/etc/shadow-", "/etc/gshadow-", "/etc/passwd-", "/etc/sudoers", "/etc/sudoers.d/",
	"/etc/ssh/ssh_host_", "/etc/ssl/private/", "/etc/kubernetes/", "/var/run/secrets/", "/run/secrets/",
	"/etc/master.passwd", "/etc/security/opasswd", "/var/lib/kubelet/", "/etc/letsencrypt/",
	"/etc/krb5.keytab", "/var/lib/docker/", "/etc/docker/daemon.json",
}
