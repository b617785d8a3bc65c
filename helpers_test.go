package tenantry

import (
	"context"

	"github.com/tenantry/tenantry/serviceprincipal"
	"github.com/tenantry/tenantry/tenant"
)

// setUserEnabled calls EnableUser or DisableUser, for tests that draw the
// state at random.
func (d *Directory) setUserEnabled(ctx context.Context, actor Actor, userID string, enabled bool) (tenant.User, error) {
	if enabled {
		return d.EnableUser(ctx, actor, userID)
	}
	return d.DisableUser(ctx, actor, userID)
}

// setServicePrincipalEnabled calls EnableServicePrincipal or
// DisableServicePrincipal.
func (d *Directory) setServicePrincipalEnabled(ctx context.Context, actor Actor, spID string, enabled bool) (serviceprincipal.ServicePrincipal, error) {
	if enabled {
		return d.EnableServicePrincipal(ctx, actor, spID)
	}
	return d.DisableServicePrincipal(ctx, actor, spID)
}
