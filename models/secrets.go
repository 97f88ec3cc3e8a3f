package models

// HomeSecrets are the credential stores in a home folder, as paths from
// it ("~/…"): files and folders (a trailing "/"). The rater holds what
// reads them (in any home); a bubblewrap sandbox shows the home folder
// blank, and these blank in the other homes this user can read (root's).
var HomeSecrets = []string{
	"~/.ssh/", "~/.aws/", "~/.azure/", "~/.config/gcloud/", "~/.kube/config", "~/.kube/",
	"~/.docker/config.json", "~/.netrc", "~/.npmrc", "~/.pypirc", "~/.git-credentials",
	"~/.config/gh/", "~/.config/hub", "~/.gnupg/", "~/.password-store/", "~/.vault-token",
	"~/.terraform.d/credentials", "~/.cargo/credentials", "~/.gem/credentials", "~/.m2/settings.xml",
	"~/.gradle/gradle.properties", "~/.mozilla/", "~/.config/google-chrome/", "~/.config/chromium/",
	"~/.config/BraveSoftware/", "~/Library/Application Support/Google/Chrome/", "~/.local/share/keyrings/",
	"~/.bash_history", "~/.zsh_history", "~/.history", "~/.python_history", "~/.psql_history",
	"~/.mysql_history", "~/.node_repl_history", "~/.lesshst", "~/.pgpass", "~/.my.cnf", "~/.config/rclone/",
	"~/.boto", "~/.s3cfg", "~/.dockercfg", "~/.config/op/", "~/.1password/", "~/.config/doctl/",
	"~/.oci/", "~/.config/heroku/", "~/.netlify/", "~/.config/netlify/", "~/.vercel/", "~/.config/vercel/",
	"~/.config/configstore/", "~/.wrangler/", "~/.config/git/credentials", "~/.local/share/gh/",
	"~/.config/anthropic/", "~/.config/openai/", "~/.claude/.credentials.json", "~/.codex/auth.json",
	"~/.gemini/", "~/.config/sops/", "~/.ansible/", "~/.chef/", "~/.pulumi/", "~/.config/hcloud/",
	"~/.terraformrc", "~/.config/containers/auth.json", "~/.local/share/fish/fish_history", "~/.config/Code/User/globalStorage/",
	"~/.cache/gh/", "~/.gcloud/", "~/.bluemix/", "~/.config/rclone/rclone.conf", "~/.mc/config.json",
	"~/Library/Keychains/", "~/Library/Cookies/", "~/.thunderbird/", "~/.purple/accounts.xml", "~/.config/filezilla/",
	"~/.remmina/", "~/.local/share/remmina/", "~/.config/keybase/", "~/.electrum/", "~/.bitcoin/wallet", "~/.ethereum/keystore",
	"~/.config/spotify/", "~/.config/Slack/Cookies", "~/.config/discord/Local Storage", "~/.netlify/config.json",
	"~/.terraform.d/credentials.tfrc.json", "~/.cache/huggingface/token", "~/.huggingface/token", "~/.msmtprc",
	"~/.subversion/auth/", "~/.davfs2/secrets", "~/.fetchmailrc", "~/.config/composer/auth.json", "~/.composer/auth.json",
	"~/.databrickscfg", "~/.local/share/containers/", "~/.config/gitlab-runner/", "~/.config/glab-cli/",
}

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
	"/var/backups/shadow.bak", "/var/backups/gshadow.bak", "/etc/NetworkManager/system-connections/",
	"/etc/wireguard/", "/etc/openvpn/", "/etc/ipsec.secrets", "/etc/ppp/chap-secrets", "/etc/ppp/pap-secrets",
	"/etc/mysql/debian.cnf", "/etc/pki/tls/private/", "/var/lib/sss/", "/var/lib/containers/",
}
