package token_test

import (
	"encoding/json"
	"fmt"
	"log"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/tenantry/tenantry/token"
)

// ExampleKeyring_Sign issues an app-only (client-credentials) v2 access
// token and verifies it with go-jose, as a resource server would.
func ExampleKeyring_Sign() {
	now := time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC)

	// Bootstrap a key set: one active ES256 key and one pre-published next
	// key. Production uses the default policy (RS256, 30-day signing period),
	// persists keys with token.SealKey and re-runs Rotate periodically.
	policy := token.RotationPolicy{Algorithm: jose.ES256}
	keys, _, err := token.Rotate(nil, now, policy, nil)
	if err != nil {
		log.Fatal(err)
	}
	ring, err := token.NewKeyring(keys, now)
	if err != nil {
		log.Fatal(err)
	}

	claims := token.BuildAccess(token.Access{
		Version:        2,
		TenantID:       "72f988bf-86f1-41af-91ab-2d7cd011db47",
		Audience:       "6e74172b-be56-4843-9ff4-e66a39bb12e3", // the API's appId
		ClientAppID:    "2b4ad1b4-7f38-4f45-9d1e-0f4e0a4fb3a4",
		ClientAuth:     token.ClientAuthSecret,
		AppOnly:        true,
		ClientObjectID: "9c1c6f4e-1b7e-4a55-8b5e-6f3d2a1b0c9d", // the client's service principal
		Roles:          []string{"Orders.ReadWrite.All"},
		// The API lists the idtyp optional claim.
		IncludeAppIDType: true,
		TokenID:          "x2l7jUy3KEywbPWW1JQBAA", // token.NewTokenID(nil) in production
		IssuedAt:         now,
	})
	jwt, err := ring.Sign(jose.ES256, &claims, token.SignOptions{})
	if err != nil {
		log.Fatal(err)
	}

	// A resource server verifies with the published key.
	parsed, err := jose.ParseSignedCompact(jwt, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		log.Fatal(err)
	}
	active, err := ring.Signing(jose.ES256)
	if err != nil {
		log.Fatal(err)
	}
	payload, err := parsed.Verify(active.Public().Key)
	if err != nil {
		log.Fatal(err)
	}
	var got token.AccessClaims
	if err := json.Unmarshal(payload, &got); err != nil {
		log.Fatal(err)
	}
	header := parsed.Signatures[0].Header
	fmt.Println("alg:", header.Algorithm)
	fmt.Println("kid is the active key:", header.KeyID == active.ID)
	fmt.Println("payload:", string(payload))
	fmt.Println("app-only:", got.IDType == "app", "roles:", got.Roles)
	// Output:
	// alg: ES256
	// kid is the active key: true
	// payload: {"aud":"6e74172b-be56-4843-9ff4-e66a39bb12e3","iss":"https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0","iat":1793611800,"nbf":1793611800,"exp":1793615400,"azp":"2b4ad1b4-7f38-4f45-9d1e-0f4e0a4fb3a4","azpacr":"1","idtyp":"app","oid":"9c1c6f4e-1b7e-4a55-8b5e-6f3d2a1b0c9d","roles":["Orders.ReadWrite.All"],"sub":"9c1c6f4e-1b7e-4a55-8b5e-6f3d2a1b0c9d","tid":"72f988bf-86f1-41af-91ab-2d7cd011db47","uti":"x2l7jUy3KEywbPWW1JQBAA","ver":"2.0"}
	// app-only: true roles: [Orders.ReadWrite.All]
}
