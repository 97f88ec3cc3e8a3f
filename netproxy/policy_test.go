package netproxy

import (
	"net/netip"
	"testing"

	"github.com/chaperone-dev/chaperone/config"
	"github.com/chaperone-dev/chaperone/models"
)

func TestPolicyDecide(t *testing.T) {
	t.Parallel()
	n := config.NetworkConfig{
		Allow: []string{"api.example.org", "*.cdn.example.net", "only.example.com:8443", "93.184.216.34", "10.1.2.3", "files.example.io"},
		Deny:  []string{"files.example.io", "*.registry.npmjs.org", "pypi.org:80"},
		Hosts: map[string]string{"pinned.test": "127.0.0.1:9999"},
		Projects: []config.NetworkProject{
			{Project: "/p/one", Allow: []string{"remembered.example"}},
			{Project: "/p/two", Allow: []string{"other.example"}},
		},
	}
	p, err := NewPolicy(n, "/p/one")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		host string
		port int
		want Action
		by   string
	}{
		{"registry.npmjs.org", 443, Allow, models.ByList},
		{"REGISTRY.NPMJS.ORG.", 443, Allow, models.ByList},
		{"files.pythonhosted.org", 443, Allow, models.ByList},
		{"proxy.golang.org", 443, Allow, models.ByList},
		{"pypi.org", 443, Allow, models.ByList},
		{"pypi.org", 80, Refuse, models.ByDenyList}, // deny with a port wins
		{"x.registry.npmjs.org", 443, Refuse, models.ByDenyList},
		{"api.example.org", 443, Allow, models.ByList},
		{"api.example.org", 22, Allow, models.ByList}, // no port: any port
		{"sub.api.example.org", 443, Ask, ""},         // a plain name is only itself
		{"a.cdn.example.net", 443, Allow, models.ByList},
		{"a.b.cdn.example.net", 443, Allow, models.ByList},
		{"cdn.example.net", 443, Ask, ""}, // "*." is the sub-domains only
		{"evilcdn.example.net", 443, Ask, ""},
		{"only.example.com", 8443, Allow, models.ByList},
		{"only.example.com", 443, Ask, ""},
		{"files.example.io", 443, Refuse, models.ByDenyList}, // deny beats allow
		{"remembered.example", 443, Allow, models.ByRemembered},
		{"other.example", 443, Ask, ""}, // another project's memory
		{"93.184.216.34", 443, Allow, models.ByList},
		{"93.184.216.35", 443, Ask, ""},
		{"10.1.2.3", 80, Allow, models.ByList},            // a local address the person listed
		{"127.0.0.1", 22, Refuse, models.ByPolicy},        // the host itself
		{"::1", 80, Refuse, models.ByPolicy},              // the host itself, v6
		{"::ffff:127.0.0.1", 80, Refuse, models.ByPolicy}, // mapped
		{"169.254.169.254", 80, Refuse, models.ByPolicy},  // cloud metadata
		{"192.168.1.1", 80, Refuse, models.ByPolicy},
		{"0.0.0.0", 80, Refuse, models.ByPolicy},
		{"100.100.1.1", 80, Refuse, models.ByPolicy}, // carrier-grade NAT (tailscale)
		{"unknown.example", 443, Ask, ""},
		{"registry.npmjs.org.evil.example", 443, Ask, ""},
		{"evil.example\x00.registry.npmjs.org", 443, Refuse, models.ByPolicy},
		{"evil example", 443, Refuse, models.ByPolicy},
		{"", 443, Refuse, models.ByPolicy},
		{"registry.npmjs.org", 0, Refuse, models.ByPolicy},
		{"pinned.test", 443, Ask, ""}, // a pin is not an allow
	}
	for _, c := range cases {
		d := p.Decide(c.host, c.port)
		if d.Action != c.want || d.By != c.by {
			t.Errorf("Decide(%q, %d) = %v by %q (%s), want %v by %q", c.host, c.port, d.Action, d.By, d.Reason, c.want, c.by)
		}
		if d.Action != Allow && d.Reason == "" {
			t.Errorf("Decide(%q, %d): %v without a reason", c.host, c.port, d.Action)
		}
	}
}

func TestPolicyPinAndListed(t *testing.T) {
	t.Parallel()
	p, err := NewPolicy(config.NetworkConfig{
		Hosts: map[string]string{"a.test": "127.0.0.1:8080", "B.test": "127.0.0.2"},
		Allow: []string{"127.0.0.5:99"},
	}, "")
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := p.Pin("a.test", 443); !ok || a != "127.0.0.1:8080" {
		t.Errorf("Pin(a.test) = %q, %v", a, ok)
	}
	if a, ok := p.Pin("b.TEST.", 443); !ok || a != "127.0.0.2:443" {
		t.Errorf("Pin(b.test) = %q, %v (an IP alone keeps the port asked for)", a, ok)
	}
	if _, ok := p.Pin("c.test", 443); ok {
		t.Error("an unpinned name is pinned")
	}
	if !p.Listed(netip.MustParseAddr("127.0.0.5"), 99) || p.Listed(netip.MustParseAddr("127.0.0.5"), 98) {
		t.Error("Listed does not follow the port of an allow entry")
	}
}

func TestPolicyBadConfig(t *testing.T) {
	t.Parallel()
	for _, n := range []config.NetworkConfig{
		{Allow: []string{"http://example.org"}},
		{Allow: []string{"*"}},
		{Allow: []string{"ex*ample.org"}},
		{Deny: []string{"example.org:0"}},
		{Deny: []string{"example.org:http"}},
		{Hosts: map[string]string{"a.test": "localhost:80"}},
		{Hosts: map[string]string{"*.a.test": "127.0.0.1"}},
		{Hosts: map[string]string{"a.test": "127.0.0.1:99999"}},
		{Projects: []config.NetworkProject{{Project: "/p", Allow: []string{"a b"}}}},
	} {
		if _, err := NewPolicy(n, ""); err == nil {
			t.Errorf("NewPolicy(%+v) accepted a broken entry", n)
		}
	}
}

func TestUploadLimitDefault(t *testing.T) {
	t.Parallel()
	p, _ := NewPolicy(config.NetworkConfig{}, "")
	if p.UploadLimit() != 64<<10 {
		t.Errorf("default upload limit %d, want 64 KiB", p.UploadLimit())
	}
	p, _ = NewPolicy(config.NetworkConfig{UploadLimit: config.Size{Bytes: 0, Set: true}}, "")
	if p.UploadLimit() != 0 {
		t.Errorf("upload_limit = 0 gives %d, want 0 (never held)", p.UploadLimit())
	}
}

func TestLocalEmbeddedAndSpecial(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		a     string
		local bool
	}{
		{"64:ff9b::a9fe:a9fe", true}, {"64:ff9b::7f00:1", true}, {"64:ff9b:1::a00:1", true}, {"2002:a9fe:a9fe::1", true},
		{"2002:7f00:1::1", true}, {"::a9fe:a9fe", true}, {"::127.0.0.1", true}, {"fec0::1", true}, {"192.0.0.192", true},
		{"198.18.0.1", true}, {"240.0.0.1", true}, {"255.255.255.255", true}, {"fd00:ec2::254", true}, {"100.100.100.200", true},
		{"64:ff9b::5db8:d822", false}, {"2002:5db8:d822::1", false}, {"93.184.216.34", false}, {"2606:4700::1111", false},
	} {
		if got := Local(netip.MustParseAddr(c.a)); got != c.local {
			t.Errorf("Local(%s) = %v, want %v", c.a, got, c.local)
		}
	}
}
