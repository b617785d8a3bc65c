package tenantry

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/token"
)

// federatedResult is an external token verified before the token
// request's store transaction, so that no network I/O (discovery, JWKS)
// happens inside it.
type federatedResult struct {
	issuer string
	ext    *token.ExternalClaims
	err    error
}

// prepareFederated verifies a federated client assertion ahead of the
// request's transaction: when the assertion is not self-signed (its issuer
// is not the client) and the client has a federated identity credential
// for that issuer, the issuer's keys are fetched and the external token's
// signature and lifetime checked. Issuers no credential names are never
// contacted. The result (nil when there is nothing to verify) is passed to
// client authentication.
func (d *core) prepareFederated(ctx context.Context, req TokenRequest) *federatedResult {
	if req.ClientAssertion == "" || req.ClientAssertionType != token.ClientAssertionType {
		return nil
	}
	ua, err := token.ParseClientAssertion(req.ClientAssertion)
	if err != nil || ua.Issuer == req.ClientID || d.tokens.ownIssuer(ua.Issuer) {
		return nil
	}
	trusted := false
	_ = d.st.View(ctx, func(tx store.ReadTx) error {
		trusted = false // the View function may run again
		app, err := store.Applications.One(tx, store.AppByAppID, req.ClientID)
		if err != nil {
			return err
		}
		for _, f := range app.FederatedIdentityCredentials {
			trusted = trusted || f.Issuer == ua.Issuer
		}
		return nil
	})
	if !trusted {
		return nil
	}
	res := &federatedResult{issuer: ua.Issuer}
	keys, err := d.tokens.federatedKeys(ctx, ua.Issuer)
	if err != nil {
		d.log.LogAttrs(ctx, slog.LevelWarn, "tenantry: federated issuer keys unavailable", slog.String("issuer", ua.Issuer), slog.String("clientId", req.ClientID), slog.Any("error", err))
		res.err = errFederatedKeys.new().with(err)
		return res
	}
	res.ext, err = token.VerifyExternalToken(ctx, req.ClientAssertion, keys, token.ExternalTokenRules{Now: d.clock(), MaxLifetime: d.tokens.cfg.AssertionMaxLifetime})
	switch {
	case err != nil && isTimeErr(err):
		res.err = errAssertionTimeRange.new().with(err)
	case err != nil:
		res.err = errFederatedUnverified.new().with(err)
	}
	return res
}

// ownIssuer reports whether iss is an issuer of this token service.
func (s *tokenService) ownIssuer(iss string) bool {
	return iss != "" && (strings.HasPrefix(iss, cmp.Or(s.cfg.Authority.V2Base, "https://login.microsoftonline.com")) ||
		strings.HasPrefix(iss, cmp.Or(s.cfg.Authority.V1Base, "https://sts.windows.net")))
}

// authenticateFederated authenticates a client with an external identity
// provider's token, verified by prepareFederated, matched against the app's
// federated identity credentials (workload identity federation).
func (s *tokenService) authenticateFederated(app application.Application, ua *token.UnverifiedAssertion, pre *federatedResult) (token.ClientAuth, error) {
	var candidates []application.FederatedIdentityCredential
	for _, f := range app.FederatedIdentityCredentials {
		if f.Issuer == ua.Issuer {
			candidates = append(candidates, f)
		}
	}
	if len(candidates) == 0 {
		if len(app.FederatedIdentityCredentials) == 0 {
			return 0, errAssertionNoMatch.new()
		}
		return 0, errFederatedIssuer.new(safe(ua.Issuer))
	}
	if s.ownIssuer(ua.Issuer) {
		return 0, errFederatedOwnToken.new()
	}
	if pre == nil || pre.issuer != ua.Issuer {
		return 0, errFederatedUnverified.new()
	}
	if pre.err != nil {
		return 0, pre.err
	}
	ext := pre.ext
	audOK := false
	for _, f := range candidates {
		if f.Matches(ext.Issuer, ext.Subject, ext.Audience) {
			return token.ClientAuthCertificate, nil
		}
		for _, a := range ext.Audience {
			for _, w := range f.Audiences {
				audOK = audOK || a == w
			}
		}
	}
	if !audOK {
		return 0, errFederatedAudience.new()
	}
	return 0, errFederatedSubject.new(safe(ext.Subject))
}

func isTimeErr(err error) bool {
	return errors.Is(err, token.ErrAssertionTime) || errors.Is(err, token.ErrExpired) || errors.Is(err, token.ErrNotYetValid)
}

// federatedKeys returns (and caches) the key source of an external issuer.
func (s *tokenService) federatedKeys(ctx context.Context, issuer string) (token.KeySource, error) {
	if s.cfg.FederatedKeys != nil {
		return s.cfg.FederatedKeys(ctx, issuer)
	}
	s.fedMu.Lock()
	ks, ok := s.fedKeys[issuer]
	s.fedMu.Unlock()
	if ok {
		return ks, nil
	}
	jwksURI, err := discoverJWKS(ctx, s.cfg.HTTPClient, issuer)
	if err != nil {
		return nil, err
	}
	ks = token.NewRemoteKeySet(jwksURI, token.RemoteOptions{HTTPClient: s.cfg.HTTPClient})
	s.fedMu.Lock()
	if len(s.fedKeys) > 1000 {
		clear(s.fedKeys)
	}
	s.fedKeys[issuer] = ks
	s.fedMu.Unlock()
	return ks, nil
}

// discoverJWKS reads jwks_uri from the issuer's OpenID Connect discovery
// document; the document's issuer must equal issuer.
func discoverJWKS(ctx context.Context, client *http.Client, issuer string) (string, error) {
	if !strings.HasPrefix(issuer, "https://") {
		return "", fmt.Errorf("tenantry: federated issuer %q is not an https URL", issuer)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(issuer, "/")+"/.well-known/openid-configuration", nil)
	if err != nil {
		return "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("tenantry: discovery of %q: HTTP %d", issuer, resp.StatusCode)
	}
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&doc); err != nil {
		return "", fmt.Errorf("tenantry: discovery of %q: %w", issuer, err)
	}
	if doc.Issuer != issuer || doc.JWKSURI == "" {
		return "", fmt.Errorf("tenantry: discovery of %q: issuer mismatch or no jwks_uri", issuer)
	}
	return doc.JWKSURI, nil
}

func newOpaqueBytes(n int) ([]byte, error) {
	b := make([]byte, n)
	_, err := rand.Read(b)
	return b, err
}
