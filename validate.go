package tenantry

import (
	"context"
	"fmt"

	"github.com/go-jose/go-jose/v4"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/token"
)

// ValidatorConfig returns the configuration of a token.Validator for
// access tokens this Issuer mints for the given audiences (an API's appId
// and identifier URIs): its keys, both token versions' issuer templates
// (any tenant), its signing algorithm and its clock. Narrow it (for
// example AllowedTenants) before passing it to token.NewValidator.
func (d *Issuer) ValidatorConfig(audiences ...string) token.ValidatorConfig {
	return d.validatorConfig(audiences)
}

func (d *core) validatorConfig(audiences []string) token.ValidatorConfig {
	a := d.tokens.cfg.Authority
	return token.ValidatorConfig{
		Keys:       keySource{d.tokens},
		Issuers:    []string{a.Issuer(token.Version1, token.TenantIDPlaceholder), a.Issuer(token.Version2, token.TenantIDPlaceholder)},
		Audiences:  audiences,
		Algorithms: []jose.SignatureAlgorithm{d.tokens.cfg.Algorithm},
		Now:        d.now,
	}
}

// validator returns a validator for access tokens this Directory issues to
// the given audiences: both token versions, any tenant, signature checked
// with the Directory's keys.
func (d *core) validator(audiences []string) (*token.Validator, error) {
	return token.NewValidator(d.validatorConfig(audiences))
}

// ValidateAccessToken validates an access token issued by this Directory
// for the resource application with appID (accepting its appId and
// identifier URIs as audience) and returns its principal. A token of a
// tenant the application's sign-in audience does not admit (now) is
// refused with token.ErrTenant, so that narrowing an API's audience also
// stops tokens minted before.
func (d *Issuer) ValidateAccessToken(ctx context.Context, raw, appID string) (*token.Principal, error) {
	var app application.Application
	err := d.st.View(ctx, func(tx store.ReadTx) error {
		var err error
		app, err = store.Applications.One(tx, store.AppByAppID, appID)
		return err
	})
	if err != nil {
		return nil, err
	}
	if app.IsDeleted() {
		// A deleted API accepts nothing: its tokens stop with it (they can
		// no longer be minted or refreshed either).
		return nil, fmt.Errorf("tenantry: %w: application %s", ErrDeleted, app.AppID)
	}
	v, err := d.validator(append([]string{app.AppID}, app.IdentifierURIs...))
	if err != nil {
		return nil, err
	}
	p, err := v.Validate(ctx, raw)
	if err != nil {
		return nil, err
	}
	if !app.AdmitsTenant(p.TenantID) {
		return nil, fmt.Errorf("tenantry: %w: the sign-in audience %s of %s does not admit tenant %s", token.ErrTenant, app.SignInAudience, app.AppID, p.TenantID)
	}
	return p, nil
}
