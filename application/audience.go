package application

// consumersTenantID is the tenant of personal Microsoft accounts
// (tenant.ConsumersID, which this package does not import).
const consumersTenantID = "9188040d-6c67-4c5b-b112-36a304b66dad"

// AdmitsTenant reports whether the app's sign-in audience admits service
// principals and tokens in tenantID (consumers: whether that tenant is the
// personal-account tenant). AzureADMyOrg admits only the home tenant;
// AzureADMultipleOrgs every organization; AzureADandPersonalMicrosoftAccount
// every organization and personal accounts; PersonalMicrosoftAccount the
// home tenant (where the registration lives) and personal accounts.
func (a Application) AdmitsTenant(tenantID string) bool {
	consumers := tenantID == consumersTenantID
	switch a.SignInAudience {
	case AzureADMyOrg:
		return tenantID == a.TenantID
	case AzureADMultipleOrgs:
		return !consumers
	case AzureADandPersonalMicrosoftAccount:
		return true
	case PersonalMicrosoftAccount:
		return consumers || tenantID == a.TenantID
	}
	return false
}
