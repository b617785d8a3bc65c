package server_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tenantry/tenantry/token"
)

// Sixteen clients hit the token endpoint while the signing keys rotate:
// every request gets a token, every token's key is in the key set fetched
// right after it, and every token validates — no client ever sees a
// half-rotated key set.
func TestTokenEndpointWhileKeysRotate(t *testing.T) {
	f := newFixture(t)
	v, err := token.NewValidator(f.dir.Issuer().ValidatorConfig(f.api.AppID, "api://contoso.onmicrosoft.com/orders"))
	if err != nil {
		t.Fatal(err)
	}
	path := "/" + f.tenant.ID + "/oauth2/v2.0/token"
	body := f.ccForm().Encode()
	const clients, perClient, rotations = 16, 12, 3
	var issued atomic.Int64
	kids := sync.Map{}
	stop := make(chan struct{})
	var rot sync.WaitGroup
	rot.Add(1)
	go func() {
		defer rot.Done()
		for i := 0; i < rotations; i++ {
			if err := f.dir.Issuer().ForceRotateKeys(f.ctx); err != nil {
				t.Error(err)
				return
			}
			select {
			case <-stop:
				return
			default:
			}
		}
	}()
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perClient; i++ {
				req, _ := http.NewRequest(http.MethodPost, f.base+path, strings.NewReader(body))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				resp, err := f.client.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				var tr struct {
					AccessToken string `json:"access_token"`
				}
				err = json.NewDecoder(resp.Body).Decode(&tr)
				resp.Body.Close()
				if err != nil || resp.StatusCode != 200 || tr.AccessToken == "" {
					t.Errorf("token request: %d %v", resp.StatusCode, err)
					return
				}
				issued.Add(1)
				kid := headerKid(t, tr.AccessToken)
				kids.Store(kid, true)
				jr, err := f.client.Get(f.base + "/" + f.tenant.ID + "/discovery/v2.0/keys")
				if err != nil {
					t.Error(err)
					return
				}
				var set struct {
					Keys []struct {
						Kid string `json:"kid"`
					} `json:"keys"`
				}
				err = json.NewDecoder(jr.Body).Decode(&set)
				jr.Body.Close()
				if err != nil || jr.StatusCode != 200 {
					t.Errorf("key set: %d %v", jr.StatusCode, err)
					return
				}
				found := false
				for _, k := range set.Keys {
					found = found || k.Kid == kid
				}
				if !found {
					t.Errorf("the key set fetched after a token lacks its key %s", kid)
				}
				if _, err := v.Validate(f.ctx, tr.AccessToken); err != nil {
					t.Errorf("token signed by %s does not validate: %v", kid, err)
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	rot.Wait()
	if got := issued.Load(); got != clients*perClient {
		t.Fatalf("issued %d tokens, want %d", got, clients*perClient)
	}
	n := 0
	kids.Range(func(any, any) bool { n++; return true })
	t.Logf("%d tokens signed by %d keys", issued.Load(), n)
}

func headerKid(t *testing.T, raw string) string {
	t.Helper()
	h, _, _ := strings.Cut(raw, ".")
	b, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		t.Fatal(err)
	}
	var hdr struct {
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(b, &hdr); err != nil {
		t.Fatal(err)
	}
	return hdr.Kid
}
