package tenantry

import (
	"testing"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/serviceprincipal"
)

// emailClaims makes the Orders API ask for email and xms_edov in its access
// tokens and the web app for email and xms_edov in its ID tokens.
func emailClaims(t *testing.T, e *ftEnv) {
	t.Helper()
	for appID, oc := range map[string]*application.OptionalClaims{
		ftOrdersApp: {AccessToken: []application.OptionalClaim{{Name: "email"}, {Name: "xms_edov"}}},
		ftWebApp:    {IDToken: []application.OptionalClaim{{Name: "email"}, {Name: "xms_edov"}}},
	} {
		if _, err := e.d.UpdateApplication(e.ctx, System(), e.app(t, appID).ID, func(a *application.Application) error {
			a.OptionalClaims = oc
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
}

// emailOf returns the email and xms_edov claims of the access and ID
// tokens of a web sign-in of userID.
func emailOf(t *testing.T, e *ftEnv, userID string) (atEmail, idEmail any, atEDOV, idEDOV any) {
	t.Helper()
	tr := e.webSignIn(t, userID)
	at, id := ftClaims(t, tr.AccessToken), ftClaims(t, tr.IDToken)
	return at["email"], id["email"], at["xms_edov"], id["xms_edov"]
}

func TestEmailClaimOnlyFromVerifiedDomains(t *testing.T) {
	e := newFT(t)
	// Without the email scope or optional claim, a member's ID token has no
	// email (REFERENCE §4.4).
	if _, id, _, _ := emailOf(t, e, e.alice.ID); id != nil {
		t.Fatalf("ID token of a member without the email scope or claim: email %v", id)
	}
	emailClaims(t, e)
	// Alice's mail is in contoso.com, a verified domain of her tenant.
	at, id, atV, idV := emailOf(t, e, e.alice.ID)
	if at != "alice@contoso.com" || id != "alice@contoso.com" || atV != true || idV != true {
		t.Fatalf("verified member: email %v / %v, xms_edov %v / %v", at, id, atV, idV)
	}
	// Dave's mail names Fabrikam's domain, which Contoso never verified.
	dave := ftOK(e.d.CreateUser(e.ctx, UserActor(e.admin.ID), e.conID, UserSpec{UserPrincipalName: "dave@contoso.com", Mail: "ceo@fabrikam.com"}))(t)
	if at, id, atV, idV := emailOf(t, e, dave.ID); at != nil || id != nil || atV != nil || idV != nil {
		t.Fatalf("unverified member: email %v / %v, xms_edov %v / %v", at, id, atV, idV)
	}
	// Nor can a claims mapping of the user's tenant put it back, even for
	// an API that accepts mapped claims.
	setAcceptMappedClaims(t, e, ftOrdersApp, true)
	sp := e.sp(t, ftOrdersApp, e.conID)
	if _, err := e.d.UpdateServicePrincipal(e.ctx, System(), sp.ID, func(sp *serviceprincipal.ServicePrincipal) error {
		sp.ClaimsMapping = map[string]string{"email": "user.mail", "Email": "user.mail", "xms_edov": "user.mail", "contact": "user.mail"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	c := ftClaims(t, e.webSignIn(t, dave.ID).AccessToken)
	if c["email"] != nil || c["Email"] != nil || c["xms_edov"] != nil || c["contact"] != "ceo@fabrikam.com" {
		t.Fatalf("claims mapping: %v", c)
	}
}

func TestGuestEmailComesFromTheHomeAccount(t *testing.T) {
	e := newFT(t)
	emailClaims(t, e)
	g := invitedCarol(t, e)
	// Not linked: only the inviting tenant says the guest is Fabrikam's.
	if at, id, _, _ := emailOf(t, e, g.ID); at != nil || id != nil {
		t.Fatalf("unlinked guest: email %v / %v", at, id)
	}
	if _, err := e.d.RedeemInvitation(e.ctx, UserActor(e.carol.ID), g.ID); err != nil {
		t.Fatal(err)
	}
	// Linked: Carol's home mail, in a domain her home tenant verified.
	if at, id, atV, _ := emailOf(t, e, g.ID); at != "carol@fabrikam.com" || id != "carol@fabrikam.com" || atV != true {
		t.Fatalf("linked guest: email %v / %v, xms_edov %v", at, id, atV)
	}
}
