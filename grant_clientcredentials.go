package tenantry

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/consent"
	"github.com/tenantry/tenantry/internal/guid"
	"github.com/tenantry/tenantry/serviceprincipal"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/tenant"
	"github.com/tenantry/tenantry/token"
)

// clientCredentials issues an app-only access token (client credentials
// grant): the client authenticates with a secret, a certificate assertion
// or a federated credential and asks for "{resource}/.default"; the token
// carries the application permissions (roles) assigned to its service
// principal on the resource's. The path does one store read transaction
// and one signature; in it, two prefetches (store.Prefetch) announce the
// records it reads, so that a store paying a round trip per read (a SQL
// server) serves the whole path in at most two.
func (d *core) clientCredentials(ctx context.Context, req TokenRequest, fed *federatedResult) (*TokenResponse, error) {
	resourceID, err := defaultScopeResource(req.Scope)
	if err != nil {
		return nil, err
	}
	var claims token.AccessClaims
	var v1 bool
	now := d.clock()
	err = d.viewNoting(ctx, func(tx store.ReadTx) error {
		if err := store.Prefetch(tx, clientCredentialsReads(req, resourceID)...); err != nil {
			return err
		}
		t, err := tenantForApp(tx, req.Tenant)
		if err != nil {
			return err
		}
		signInOf(ctx).tenant(t.ID)
		client, err := clientApp(tx, req.ClientID, t, req.Tenant)
		if err != nil {
			return err
		}
		if err := store.Prefetch(tx, principalReads(tx, client.AppID, resourceID, t)...); err != nil {
			return err
		}
		auth, err := d.tokens.authenticate(ctx, client, t, req, fed, now, false)
		if err != nil {
			return err
		}
		clientSP, err := store.ServicePrincipals.One(tx, store.SPByAppTenant, store.AppTenantKey(client.AppID, t.ID))
		if errors.Is(err, store.ErrNotFound) {
			return errNoServicePrincipal.new(client.AppID, t.ID)
		} else if err != nil {
			return err
		}
		if !clientSP.Usable() {
			return errAppDisabled.new(client.AppID, clientSP.DisplayName)
		}
		signInOf(ctx).app(clientSP.ID, "")
		res, resSP, err := resolveResource(tx, resourceID, t)
		if err != nil {
			return err
		}
		signInOf(ctx).app("", res.AppID)
		held, err := store.Assignments.Lookup(tx, store.AssignmentByPrincipal, clientSP.ID)
		if err != nil {
			return err
		}
		holder := serviceprincipal.Holder{ID: clientSP.ID, Type: serviceprincipal.PrincipalServicePrincipal}
		if resSP.AppRoleAssignmentRequired && !serviceprincipal.IsAssigned(resSP, holder, held, now) {
			return errClientNotAssigned.new(client.AppID, client.DisplayName, res.AppID, res.DisplayName)
		}
		if err := checkMappedClaims(res, resSP); err != nil {
			return err
		}
		roles := serviceprincipal.RolesFor(resSP, holder, held, now)
		version := token.Version(res.AccessTokenVersion())
		v1 = version == 1
		aud := res.AppID
		if v1 {
			aud = resourceID // v1: the resource as requested
		}
		aio, rh := token.NewOpaqueClaims(d.tokens.cfg.Random)
		claims = token.BuildAccess(token.Access{
			Version: version, Authority: d.tokens.cfg.Authority, TenantID: t.ID, Audience: aud,
			ClientAppID: client.AppID, ClientAuth: auth, AppOnly: true, ClientObjectID: clientSP.ID, IncludeAppIDType: hasOptionalClaim(res, "idtyp"),
			Roles: roles, TokenID: token.NewTokenID(d.tokens.cfg.Random), IssuedAt: now,
			Lifetime: d.tokens.cfg.AccessTokenLifetime, AIO: aio, RH: rh,
			Extra: optionalAccessClaims(res, resSP, nil, ""),
		})
		return nil
	})
	if err != nil {
		return nil, err
	}
	at, err := d.tokens.sign(ctx, &claims, v1)
	if err != nil {
		return nil, err
	}
	secs := int(d.tokens.cfg.AccessTokenLifetime / time.Second)
	return &TokenResponse{TokenType: "Bearer", ExpiresIn: secs, ExtExpiresIn: secs, AccessToken: at}, nil
}

// clientCredentialsReads are the reads of a client-credentials request
// known from the request alone: the tenant, the client and resource
// applications and, when the tenant is named by its id, the service
// principals and the client's assignments.
func clientCredentialsReads(req TokenRequest, resource string) []store.Read {
	var reads []store.Read
	tid := ""
	switch seg := strings.ToLower(req.Tenant); {
	case seg == "" || seg == "common" || seg == "organizations":
	case seg == "consumers":
		tid = tenant.ConsumersID
	default:
		if id, ok := guid.Canonical(seg); ok {
			tid = id
		} else {
			reads = append(reads, store.Read{Kind: store.Tenants, Index: store.TenantByDomain, Key: seg})
		}
	}
	if tid != "" {
		reads = append(reads, store.Read{Kind: store.Tenants, Key: tid})
	}
	if req.ClientID != "" {
		reads = append(reads, store.Read{Kind: store.Applications, Index: store.AppByAppID, Key: req.ClientID})
	}
	resAppID := ""
	if id, ok := guid.Canonical(resource); ok {
		resAppID = id
	} else if strings.EqualFold(resource, consent.GraphResource) {
		resAppID = application.MicrosoftGraphAppID
	}
	if resAppID != "" {
		reads = append(reads, store.Read{Kind: store.Applications, Index: store.AppByAppID, Key: resAppID})
	} else {
		reads = append(reads, store.Read{Kind: store.Applications, Index: store.AppByIdentifierURI, Key: resource})
		if trimmed, ok := strings.CutSuffix(resource, "/"); ok {
			reads = append(reads, store.Read{Kind: store.Applications, Index: store.AppByIdentifierURI, Key: trimmed})
		}
	}
	if tid != "" && req.ClientID != "" {
		reads = append(reads, spReads(req.ClientID, tid, true)...)
		if resAppID != "" {
			reads = append(reads, spReads(resAppID, tid, false)...)
		}
	}
	return reads
}

// principalReads are the reads that follow the tenant and client: the
// service principals of client and resource in t and the client's
// assignments. Those clientCredentialsReads fetched already cost nothing.
func principalReads(tx store.ReadTx, clientAppID, resource string, t tenant.Tenant) []store.Read {
	reads := spReads(clientAppID, t.ID, true)
	if res, err := resourceApp(tx, resource, t); err == nil {
		reads = append(reads, spReads(res.AppID, t.ID, false)...)
	}
	return reads
}

// spReads reads the service principal of appID in tenant tid and, for a
// client, the assignments it holds.
func spReads(appID, tid string, client bool) []store.Read {
	sp := store.Read{Kind: store.ServicePrincipals, Index: store.SPByAppTenant, Key: store.AppTenantKey(appID, tid)}
	if !client {
		return []store.Read{sp}
	}
	return []store.Read{sp, {Kind: store.Assignments, Index: store.AssignmentByPrincipal, Via: &sp}}
}

// defaultScopeResource checks a client-credentials scope: exactly one
// "{resource}/.default" (OIDC scopes, which MSAL always adds, are ignored).
func defaultScopeResource(scope string) (string, error) {
	if err := checkScopeBounds(scope); err != nil {
		return "", err
	}
	var resource string
	for _, s := range strings.Fields(scope) {
		if consent.IsOIDCScope(s) {
			continue
		}
		r, v := consent.SplitScope(s)
		if v != consent.DefaultScope || resource != "" {
			return "", errScopeNotDefault.new(safe(s))
		}
		resource = r
	}
	if resource == "" {
		return "", errMissingParameter.new("scope")
	}
	return resource, nil
}
