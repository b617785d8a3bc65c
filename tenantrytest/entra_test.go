package tenantrytest_test

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/tenantry/tenantry/tenantrytest"
	"github.com/tenantry/tenantry/token"
)

// As Entra, the Server is reached at Entra's own URLs through srv.Client():
// discovery names https://login.microsoftonline.com, and a client
// credentials token from that host's token endpoint validates with keys
// from that host's JWKS and Entra's issuer.
func TestAsEntra(t *testing.T) {
	s := newSeeded(t, tenantrytest.AsEntra())
	srv, tid := s.srv, s.contoso.ID
	if srv.URL() != "https://login.microsoftonline.com" || srv.Authority(tid) != "https://login.microsoftonline.com/"+tid {
		t.Fatalf("URL %q, Authority %q", srv.URL(), srv.Authority(tid))
	}
	status, doc := get(t, srv.Client(), "https://login.microsoftonline.com/"+tid+"/v2.0/.well-known/openid-configuration")
	if status != http.StatusOK || doc["issuer"] != "https://login.microsoftonline.com/"+tid+"/v2.0" {
		t.Fatalf("discovery: %d issuer %v", status, doc["issuer"])
	}
	if doc["jwks_uri"] != "https://login.microsoftonline.com/"+tid+"/discovery/v2.0/keys" {
		t.Errorf("jwks_uri = %v", doc["jwks_uri"])
	}
	status, body := post(t, srv.Client(), "https://login.microsoftonline.com/"+tid+"/oauth2/v2.0/token", s.ccForm())
	if status != http.StatusOK {
		t.Fatalf("token: %d %v", status, body)
	}
	raw, _ := body["access_token"].(string)
	v, err := token.NewValidator(token.ValidatorConfig{
		Keys:      token.NewRemoteKeySet(doc["jwks_uri"].(string), token.RemoteOptions{HTTPClient: srv.Client(), Now: srv.Now}),
		Issuers:   []string{"https://login.microsoftonline.com/" + tid + "/v2.0"},
		Audiences: s.api.Audiences(),
		Now:       srv.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	p, err := v.Validate(context.Background(), raw)
	if err != nil {
		t.Fatalf("validate: %v", err)
	}
	if p.TenantID != tid || !slices.Equal(p.Roles, []string{"Orders.Read.All"}) {
		t.Errorf("principal = %+v", p)
	}
	if r := srv.Requests(); len(r) != 3 || r[2].Endpoint != "keys" {
		t.Errorf("requests = %+v", r)
	}
}

// Entra's other hosts reach the Server too, and v1 tokens carry the v1
// issuer https://sts.windows.net/{tid}/.
func TestAsEntraOtherHosts(t *testing.T) {
	srv := tenantrytest.NewServer(t, tenantrytest.AsEntra())
	contoso := srv.CreateTenant("Contoso")
	api := srv.CreateAPI(contoso, "Legacy", tenantrytest.Roles("Read"))
	app := srv.CreateApp(contoso, "Daemon")
	srv.Grant(app, api, "Read")
	for _, host := range []string{"sts.windows.net", "login.windows.net", "login.microsoft.com"} {
		status, doc := get(t, srv.Client(), "https://"+host+"/"+contoso.ID+"/.well-known/openid-configuration")
		if status != http.StatusOK || doc["issuer"] != "https://sts.windows.net/"+contoso.ID+"/" {
			t.Errorf("%s: %d issuer %v", host, status, doc["issuer"])
		}
	}
	c := claims(t, srv.AppToken(t, contoso, app, api))
	if c["iss"] != "https://sts.windows.net/"+contoso.ID+"/" || c["ver"] != "1.0" {
		t.Errorf("v1 token: iss %v ver %v", c["iss"], c["ver"])
	}
}
