package tenantry

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/uuid"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/tenant"
	"github.com/tenantry/tenantry/token"
)

// ledgerRun drives requests to the token service of one Directory, keeps
// every secret, code and token they used, and checks the sign-in event
// each request appended.
type ledgerRun struct {
	t       *testing.T
	d       *Directory
	clock   *ManualClock
	secrets map[string]string // value → what it is
	calls   int               // requests made
}

func newLedgerRun(t *testing.T, d *Directory, clock *ManualClock) *ledgerRun {
	return &ledgerRun{t: t, d: d, clock: clock, secrets: map[string]string{}}
}

func (r *ledgerRun) keep(what string, values ...string) {
	for _, v := range values {
		if v != "" {
			r.secrets[v] = what
		}
	}
}

func (r *ledgerRun) token(ctx context.Context, req TokenRequest) (*TokenResponse, error) {
	r.calls++
	r.keep("request secret", req.ClientSecret, req.ClientAssertion, req.Code, req.CodeVerifier, req.RefreshToken, req.Assertion, req.DeviceCode)
	r.keep("code hash", hashCode(codeKindAuth, req.Code), hashCode(codeKindDevice, req.DeviceCode))
	resp, err := r.d.Issuer().Token(ctx, req)
	if resp != nil {
		r.keep("issued token", resp.AccessToken, resp.RefreshToken, resp.IDToken)
	}
	return resp, err
}

func (r *ledgerRun) authorize(req AuthorizeRequest) (*AuthorizeResponse, error) {
	r.calls++
	resp, err := r.d.Issuer().Authorize(context.Background(), req)
	if resp != nil {
		r.keep("authorization code", resp.Code, hashCode(codeKindAuth, resp.Code))
	}
	return resp, err
}

func (r *ledgerRun) deviceCode(req DeviceCodeRequest) (*DeviceAuthorization, error) {
	r.calls++
	resp, err := r.d.Issuer().DeviceCode(context.Background(), req)
	if resp != nil {
		r.keep("device code", resp.DeviceCode, resp.UserCode, hashCode(codeKindDevice, resp.DeviceCode), hashCode(codeKindUser, resp.UserCode))
	}
	return resp, err
}

func (r *ledgerRun) decide(actor Actor, userCode string, approve bool) error {
	r.calls++
	r.keep("user code", userCode)
	if approve {
		return r.d.Issuer().ApproveDeviceCode(context.Background(), actor, userCode)
	}
	return r.d.Issuer().DenyDeviceCode(context.Background(), actor, userCode)
}

func (r *ledgerRun) signIn(req SignInRequest) (tenant.User, error) {
	r.calls++
	r.keep("password", req.Password)
	return r.d.Issuer().SignIn(context.Background(), req)
}

// expect runs one request with correlation id corr and checks that it
// appended exactly one sign-in event, want (its time the clock's, its
// correlation id corr), and that a refusal's TokenError carries corr. A
// request that cannot carry a correlation id (a device code decision) is
// named by a corr starting with "-": its event must have a new GUID.
func (r *ledgerRun) expect(corr string, run func(corr string) error, want store.SignInEvent) {
	r.t.Helper()
	before, _, lerr := r.d.signInEvents(context.Background(), System(), store.SignInFilter{}, store.LogPage{Limit: 10_000})
	if lerr != nil {
		r.t.Fatalf("%s: SignIns: %v", corr, lerr)
	}
	err := run(corr)
	filter := store.SignInFilter{CorrelationID: corr}
	generated := strings.HasPrefix(corr, "-")
	if generated {
		filter = store.SignInFilter{}
	}
	got, _, lerr := r.d.signInEvents(context.Background(), System(), filter, store.LogPage{Limit: 10_000})
	if lerr != nil {
		r.t.Fatalf("%s: SignIns: %v", corr, lerr)
	}
	if generated {
		got = got[min(len(before), len(got)):]
	}
	if len(got) != 1 {
		r.t.Fatalf("%s: %d sign-in events, want 1: %+v (request error %v)", corr, len(got), got, err)
	}
	if generated {
		if _, perr := uuid.Parse(got[0].CorrelationID); perr != nil {
			r.t.Errorf("%s: correlation id %q is not a GUID", corr, got[0].CorrelationID)
		}
		corr = got[0].CorrelationID
	}
	want.Time, want.CorrelationID = r.clock.Now(), corr
	if diff := cmp.Diff(want, got[0], cmpopts.IgnoreFields(store.SignInEvent{}, "Seq")); diff != "" {
		r.t.Errorf("%s: sign-in event (-want +got):\n%s\nrequest error: %v", corr, diff, err)
	}
	if want.Outcome == store.SignInFailure {
		var te *TokenError
		if !errors.As(err, &te) {
			if want.ErrorCode != 90000 {
				r.t.Errorf("%s: error %v is not a *TokenError", corr, err)
			}
		} else if te.CorrelationID != corr {
			r.t.Errorf("%s: TokenError.CorrelationID = %q", corr, te.CorrelationID)
		}
	} else if err != nil {
		r.t.Errorf("%s: %v, want success", corr, err)
	}
}

// scan fails the test if any sign-in or audit event of the run's
// directory contains a secret, code or token the run used, and checks that
// the run appended one sign-in event per request; the run must have used
// at least atLeast secrets.
func (r *ledgerRun) scan(atLeast int) {
	r.t.Helper()
	ctx := context.Background()
	events, _, err := r.d.signInEvents(ctx, System(), store.SignInFilter{}, store.LogPage{Limit: 10_000})
	if err != nil {
		r.t.Fatal(err)
	}
	if len(events) != r.calls {
		r.t.Errorf("%d sign-in events for %d requests", len(events), r.calls)
	}
	audit, err := r.d.auditLog(ctx)
	if err != nil {
		r.t.Fatal(err)
	}
	var records []string
	for _, e := range events {
		b, _ := json.Marshal(e)
		records = append(records, string(b))
	}
	for _, e := range audit {
		b, _ := json.Marshal(e)
		records = append(records, string(b))
	}
	if len(r.secrets) < atLeast {
		r.t.Fatalf("the run kept only %d secrets", len(r.secrets))
	}
	for secret, what := range r.secrets {
		if len(secret) < 8 {
			r.t.Fatalf("%s %q is too short to scan for", what, secret)
		}
		for _, rec := range records {
			if strings.Contains(rec, secret) {
				r.t.Errorf("a %s appears in a logged event: %s", what, rec)
			}
		}
	}
}

// ledgerFlows runs every flow of the token service, issued and refused,
// against the flows fixture and checks each request's sign-in event.
func ledgerFlows(t *testing.T) *ledgerRun {
	e := newFT(t)
	r := newLedgerRun(t, e.d, e.clock)
	r.keep("client secret", e.secret[ftDaemonApp], e.secret[ftWebApp], e.secret[ftOrdersApp])
	con, ctx := e.conID, e.ctx
	daemonSP := e.sp(t, ftDaemonApp, con).ID
	orders := ftURI(ftOrdersApp) + "/.default"
	cc := func(tenantSeg, secret string) func(string) error {
		return func(corr string) error {
			_, err := r.token(ctx, TokenRequest{Tenant: tenantSeg, GrantType: GrantClientCredentials, ClientID: ftDaemonApp, ClientSecret: secret, Scope: orders, CorrelationID: corr})
			return err
		}
	}
	app := func(flow, cred string) store.SignInEvent {
		return store.SignInEvent{TenantID: con, ClientAppID: ftDaemonApp, GrantType: flow, ClientCredentialType: cred}
	}
	ok := func(ev store.SignInEvent, spID, resource string) store.SignInEvent {
		ev.ServicePrincipalID, ev.ResourceAppID, ev.Outcome = spID, resource, store.SignInSuccess
		return ev
	}
	refused := func(ev store.SignInEvent, code int, oauth string) store.SignInEvent {
		ev.Outcome, ev.ErrorCode, ev.OAuthError = store.SignInFailure, code, oauth
		return ev
	}

	// Client credentials: a secret (the tenant named by its domain), a
	// wrong secret, an unknown tenant, a certificate, a federated
	// credential and one it does not trust.
	r.expect("cc-secret", cc("contoso.com", e.secret[ftDaemonApp]), ok(app(GrantClientCredentials, CredentialSecret), daemonSP, ftOrdersApp))
	r.expect("cc-wrong-secret", cc(con, "wrong-secret-0123456789abcdefghij"),
		refused(app(GrantClientCredentials, CredentialSecret), 7000215, OAuthInvalidClient))
	r.keep("wrong client secret", "wrong-secret-0123456789abcdefghij")
	unknown := app(GrantClientCredentials, CredentialSecret)
	unknown.TenantID = "nowhere.example"
	r.expect("cc-unknown-tenant", cc("nowhere.example", e.secret[ftDaemonApp]), refused(unknown, 90002, OAuthInvalidTenant))
	cert := ftCert(t, ftRSA(t, 0), 1, ftStart.Add(-time.Hour), ftStart.Add(365*24*time.Hour))
	ftOK(e.d.AddKey(ctx, System(), e.apps[ftDaemonApp].ID, KeySpec{DisplayName: "daemon cert", Certificate: cert}))(t)
	assertion := ftSignJWT(t, ftRSA(t, 0), jose.PS256, ftMSALHeader(cert), ftAssertionClaims(ftDaemonApp, con, e.clock.Now()))
	withAssertion := func(a string) func(string) error {
		return func(corr string) error {
			_, err := r.token(ctx, TokenRequest{Tenant: con, GrantType: GrantClientCredentials, ClientID: ftDaemonApp,
				ClientAssertionType: token.ClientAssertionType, ClientAssertion: a, Scope: orders, CorrelationID: corr})
			return err
		}
	}
	r.expect("cc-certificate", withAssertion(assertion), ok(app(GrantClientCredentials, CredentialCertificate), daemonSP, ftOrdersApp))
	ftOK(e.d.AddFederatedCredential(ctx, System(), e.apps[ftDaemonApp].ID, application.FederatedIdentityCredential{Name: "github-main", Issuer: ftFedIssuer, Subject: ftFedSubject}))(t)
	fed := ftFedToken(t, ftFedIssuer, ftFedSubject, application.TokenExchangeAudience, e.clock.Now(), 10*time.Minute)
	r.expect("cc-federated", withAssertion(fed), ok(app(GrantClientCredentials, CredentialFederated), daemonSP, ftOrdersApp))
	untrusted := ftFedToken(t, "https://gitlab.example.com", ftFedSubject, application.TokenExchangeAudience, e.clock.Now(), 10*time.Minute)
	r.expect("cc-untrusted-assertion", withAssertion(untrusted), refused(app(GrantClientCredentials, CredentialAssertion), 700211, OAuthInvalidClient))
	r.expect("unsupported-grant", func(corr string) error {
		_, err := r.token(ctx, TokenRequest{Tenant: con, GrantType: "urn:ietf:params:oauth:grant-type:saml1_1-bearer", ClientID: ftDaemonApp, CorrelationID: corr})
		return err
	}, refused(app("urn:ietf:params:oauth:grant-type:saml1_1-bearer", CredentialNone), 70003, OAuthUnsupportedGrantType))

	// Authorization code, refresh, code replay, on-behalf-of.
	web := func(flow, cred string) store.SignInEvent {
		return store.SignInEvent{TenantID: con, ClientAppID: ftWebApp, UserID: e.alice.ID, GrantType: flow, ClientCredentialType: cred}
	}
	az := e.authz(ftWebApp, ftWebRedirect, e.alice.ID, ftURI(ftOrdersApp)+"/Orders.Read openid profile offline_access")
	var code string
	r.expect("authorize", func(corr string) error {
		req := az
		req.CorrelationID = corr
		ar, err := r.authorize(req)
		if err == nil {
			code = ar.Code
			if ar.CorrelationID != corr {
				t.Errorf("AuthorizeResponse.CorrelationID = %q", ar.CorrelationID)
			}
		}
		return err
	}, ok(web(FlowAuthorize, CredentialNone), "", ftOrdersApp))
	r.expect("authorize-bad-redirect", func(corr string) error {
		req := az
		req.RedirectURI, req.CorrelationID = "https://evil.example/cb", corr
		_, err := r.authorize(req)
		return err
	}, refused(web(FlowAuthorize, CredentialNone), 50011, OAuthInvalidRequest))
	redeem := func(corr string) error {
		_, err := r.token(ctx, TokenRequest{Tenant: con, GrantType: GrantAuthorizationCode, ClientID: ftWebApp, ClientSecret: e.secret[ftWebApp],
			Code: code, RedirectURI: ftWebRedirect, CodeVerifier: ftVerifier, CorrelationID: corr})
		return err
	}
	var user *TokenResponse
	r.expect("redeem", func(corr string) error {
		var err error
		user, err = r.token(ctx, TokenRequest{Tenant: con, GrantType: GrantAuthorizationCode, ClientID: ftWebApp, ClientSecret: e.secret[ftWebApp],
			Code: code, RedirectURI: ftWebRedirect, CodeVerifier: ftVerifier, CorrelationID: corr})
		return err
	}, ok(web(GrantAuthorizationCode, CredentialSecret), "", ftOrdersApp))
	r.expect("refresh", func(corr string) error {
		_, err := r.token(ctx, TokenRequest{Tenant: con, GrantType: GrantRefreshToken, ClientID: ftWebApp, ClientSecret: e.secret[ftWebApp], RefreshToken: user.RefreshToken, CorrelationID: corr})
		return err
	}, ok(web(GrantRefreshToken, CredentialSecret), "", ftOrdersApp))
	r.expect("refresh-garbage", func(corr string) error {
		_, err := r.token(ctx, TokenRequest{Tenant: con, GrantType: GrantRefreshToken, ClientID: ftWebApp, ClientSecret: e.secret[ftWebApp], RefreshToken: "1.tnr.not-a-sealed-refresh-token", CorrelationID: corr})
		return err
	}, refused(store.SignInEvent{TenantID: con, ClientAppID: ftWebApp, GrantType: GrantRefreshToken, ClientCredentialType: CredentialSecret}, 9002313, OAuthInvalidGrant))
	r.expect("obo", func(corr string) error {
		_, err := r.token(ctx, TokenRequest{Tenant: con, GrantType: GrantJWTBearer, ClientID: ftOrdersApp, ClientSecret: e.secret[ftOrdersApp],
			Assertion: user.AccessToken, RequestedTokenUse: "on_behalf_of", Scope: ftURI(ftDownApp) + "/Files.Read", CorrelationID: corr})
		return err
	}, ok(store.SignInEvent{TenantID: con, ClientAppID: ftOrdersApp, UserID: e.alice.ID, GrantType: GrantJWTBearer, ClientCredentialType: CredentialSecret}, "", ftDownApp))
	r.expect("redeem-replayed", redeem, refused(web(GrantAuthorizationCode, CredentialSecret), 54005, OAuthInvalidGrant))

	// The device code flow: request, pending poll, approval, tokens; a
	// second code denied; a wrong user code; the zero actor.
	dev := func(flow, userID string) store.SignInEvent {
		return store.SignInEvent{TenantID: con, ClientAppID: ftPublicApp, UserID: userID, GrantType: flow, ClientCredentialType: CredentialNone}
	}
	var da *DeviceAuthorization
	devReq := DeviceCodeRequest{Tenant: con, ClientID: ftPublicApp, Scope: ftURI(ftOrdersApp) + "/Orders.Read offline_access"}
	r.expect("device-code", func(corr string) error {
		req := devReq
		req.CorrelationID = corr
		var err error
		da, err = r.deviceCode(req)
		return err
	}, ok(dev(FlowDeviceAuthorization, ""), "", ""))
	poll := func(corr string) error {
		_, err := r.token(ctx, TokenRequest{Tenant: con, GrantType: GrantDeviceCode, ClientID: ftPublicApp, DeviceCode: da.DeviceCode, CorrelationID: corr})
		return err
	}
	r.expect("device-pending", poll, refused(dev(GrantDeviceCode, ""), 70016, OAuthAuthorizationPending))
	r.expect("-device-approve", func(string) error { return r.decide(UserActor(e.alice.ID), da.UserCode, true) }, ok(dev(FlowDeviceApproval, e.alice.ID), "", ""))
	r.expect("device-tokens", poll, ok(dev(GrantDeviceCode, e.alice.ID), "", ftOrdersApp))
	r.expect("-device-code-2", func(string) error { var err error; da, err = r.deviceCode(devReq); return err }, ok(dev(FlowDeviceAuthorization, ""), "", ""))
	r.expect("-device-deny", func(string) error { return r.decide(UserActor(e.bob.ID), da.UserCode, false) }, ok(dev(FlowDeviceDenial, e.bob.ID), "", ""))
	r.expect("device-declined", poll, refused(dev(GrantDeviceCode, e.bob.ID), 70020, OAuthAuthorizationDeclined))
	r.expect("-device-wrong-user-code", func(string) error { return r.decide(UserActor(e.alice.ID), "WRONGCODE1", true) },
		refused(store.SignInEvent{UserID: e.alice.ID, GrantType: FlowDeviceApproval, ClientCredentialType: CredentialNone}, 70018, OAuthBadVerificationCode))
	r.expect("-device-no-actor", func(string) error { return r.decide(Actor{}, da.UserCode, true) },
		refused(store.SignInEvent{GrantType: FlowDeviceApproval, ClientCredentialType: CredentialNone}, 90000, OAuthServerError))

	// A client that hung up is still recorded.
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	r.expect("cc-cancelled", func(corr string) error {
		_, err := r.token(cancelled, TokenRequest{Tenant: con, GrantType: GrantClientCredentials, ClientID: ftDaemonApp, ClientSecret: e.secret[ftDaemonApp], Scope: orders, CorrelationID: corr})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled request: %v", err)
		}
		return err
	}, refused(store.SignInEvent{TenantID: con, ClientAppID: ftDaemonApp, GrantType: GrantClientCredentials, ClientCredentialType: CredentialSecret}, 90000, OAuthServerError))
	return r
}

// passwordFlows runs password sign-ins up to a lockout against a
// directory that locks an account after two failures.
func passwordFlows(t *testing.T) *ledgerRun {
	ctx := context.Background()
	clock := NewManualClock(ftStart)
	d, err := New(ctx, Config{Store: ftFixtureStore(), Now: clock.Now, NewID: SequentialIDs("ledger"), Tokens: TokenConfig{Algorithm: jose.ES256}, Lockout: LockoutConfig{Threshold: 2}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	tn := ftOK(d.CreateTenant(ctx, System(), TenantSpec{DisplayName: "Contoso"}))(t)
	const pass = "correct horse battery staple"
	u := ftOK(d.CreateUser(ctx, System(), tn.ID, UserSpec{UserPrincipalName: "pat@contoso.onmicrosoft.com", Password: pass}))(t)
	r := newLedgerRun(t, d, clock)
	try := func(upn, password string) func(string) error {
		return func(corr string) error {
			_, err := r.signIn(SignInRequest{Tenant: tn.ID, UserPrincipalName: upn, Password: password, CorrelationID: corr})
			return err
		}
	}
	ev := func(userID string, code int) store.SignInEvent {
		e := store.SignInEvent{TenantID: tn.ID, UserID: userID, GrantType: FlowPassword, ClientCredentialType: CredentialNone, Outcome: store.SignInSuccess}
		if code != 0 {
			e.Outcome, e.ErrorCode, e.OAuthError = store.SignInFailure, code, OAuthInvalidGrant
		}
		return e
	}
	r.expect("password-right", try(u.UserPrincipalName, pass), ev(u.ID, 0))
	r.expect("password-unknown-user", try("nobody@contoso.onmicrosoft.com", "some password 1"), ev("", 50126))
	r.expect("password-wrong-1", try(u.UserPrincipalName, "wrong password 1"), ev(u.ID, 50126))
	r.expect("password-wrong-2", try(u.UserPrincipalName, "wrong password 2"), ev(u.ID, 50126))
	r.expect("password-locked", try(u.UserPrincipalName, pass), ev(u.ID, 50053))
	return r
}

// TestSignInLogOneEventPerRequest: every request to the token service —
// each grant, authorization, device authorization and decision, password
// sign-in — appends exactly one sign-in event, issued or refused, with the
// resolved tenant, the client, the user or service principal, the
// resource, the flow, the credential type, the outcome and the AADSTS
// code; also over a store that runs every update function twice.
func TestSignInLogOneEventPerRequest(t *testing.T) {
	for _, replay := range []bool{false, true} {
		name := "memory"
		if replay {
			name = "replay"
		}
		t.Run(name, func(t *testing.T) {
			if replay {
				ftStore = newReplayStore
				t.Cleanup(func() { ftStore = nil })
			}
			for _, r := range []*ledgerRun{ledgerFlows(t), passwordFlows(t)} {
				events, _, err := r.d.signInEvents(context.Background(), System(), store.SignInFilter{}, store.LogPage{Limit: 10_000})
				if err != nil {
					t.Fatal(err)
				}
				if len(events) != r.calls {
					t.Errorf("%d sign-in events for %d requests", len(events), r.calls)
				}
			}
		})
	}
}

// TestSignInLogHoldsNoSecret scans every sign-in and audit event of the
// flow-heavy runs for each secret, code (and code hash), password,
// assertion and token the runs sent or received.
func TestSignInLogHoldsNoSecret(t *testing.T) {
	ledgerFlows(t).scan(25)
	passwordFlows(t).scan(4)
}

// TestSignInLogCorrelationID: a request without a correlation id gets a
// new GUID, returned on the response and on a refusal, and recorded.
func TestSignInLogCorrelationID(t *testing.T) {
	e := newFT(t)
	orders := ftURI(ftOrdersApp) + "/.default"
	find := func(corr string) []store.SignInEvent {
		t.Helper()
		ev, _, err := e.d.signInEvents(e.ctx, System(), store.SignInFilter{CorrelationID: corr}, store.LogPage{})
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	tr, err := e.cc(e.conID, ftDaemonApp, e.secret[ftDaemonApp], orders)
	if err != nil {
		t.Fatal(err)
	}
	if _, perr := uuid.Parse(tr.CorrelationID); perr != nil {
		t.Fatalf("TokenResponse.CorrelationID = %q: %v", tr.CorrelationID, perr)
	}
	if ev := find(tr.CorrelationID); len(ev) != 1 || ev[0].Outcome != store.SignInSuccess {
		t.Fatalf("events of the issued request: %+v", ev)
	}
	_, err = e.cc(e.conID, ftDaemonApp, "wrong-secret-0123456789abcdefghij", orders)
	te := ftWantErr(t, err, 7000215, OAuthInvalidClient)
	if te.CorrelationID == "" || te.CorrelationID == tr.CorrelationID {
		t.Fatalf("TokenError.CorrelationID = %q", te.CorrelationID)
	}
	if ev := find(te.CorrelationID); len(ev) != 1 || ev[0].ErrorCode != 7000215 {
		t.Fatalf("events of the refused request: %+v", ev)
	}
	if b, _ := json.Marshal(tr); strings.Contains(string(b), tr.CorrelationID) {
		t.Fatalf("the token response body carries the correlation id: %s", b)
	}
}

// TestSignInLogBoundsCallerInput: a tenant segment or client id of any
// length is recorded cut to store.MaxSignInFieldLen.
func TestSignInLogBoundsCallerInput(t *testing.T) {
	e := newFT(t)
	long := strings.Repeat("x", 10_000)
	_, err := e.d.Issuer().Token(e.ctx, TokenRequest{Tenant: long + ".example", GrantType: GrantClientCredentials, ClientID: long, ClientSecret: "s", Scope: "x/.default", CorrelationID: long})
	te := AsTokenError(err)
	ev, _, lerr := e.d.signInEvents(e.ctx, System(), store.SignInFilter{ErrorCode: te.Code}, store.LogPage{})
	if lerr != nil || len(ev) != 1 {
		t.Fatalf("events: %+v, %v", ev, lerr)
	}
	if len(ev[0].TenantID) > store.MaxSignInFieldLen || len(ev[0].ClientAppID) > store.MaxSignInFieldLen || len(ev[0].CorrelationID) > store.MaxSignInFieldLen {
		t.Fatalf("unbounded fields: tenant %d, client %d, correlation %d bytes", len(ev[0].TenantID), len(ev[0].ClientAppID), len(ev[0].CorrelationID))
	}
}

// TestSignInsScoped: System reads every tenant's sign-in events; a Global
// Administrator reads her own tenant's (by default and when she names it)
// and no other; users without the role, disabled administrators, unknown
// users and the zero Actor are refused.
func TestSignInsScoped(t *testing.T) {
	e := newFT(t)
	orders := ftURI(ftOrdersApp) + "/.default"
	for _, tid := range []string{e.conID, e.conID} {
		ftOK(e.cc(tid, ftDaemonApp, e.secret[ftDaemonApp], orders))(t)
	}
	// A refusal in Fabrikam (the daemon has no service principal there)
	// is Fabrikam's event.
	if _, err := e.cc("fabrikam.com", ftDaemonApp, e.secret[ftDaemonApp], orders); err == nil {
		t.Fatal("client credentials in Fabrikam: issued, want a refusal")
	}
	read := func(actor Actor, tenantID string) ([]store.SignInEvent, error) {
		ev, _, err := e.d.signInEvents(e.ctx, actor, store.SignInFilter{TenantID: tenantID}, store.LogPage{})
		return ev, err
	}
	tenants := func(ev []store.SignInEvent) map[string]int {
		m := map[string]int{}
		for _, x := range ev {
			m[x.TenantID]++
		}
		return m
	}
	all, err := read(System(), "")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int{e.conID: 2, e.fabID: 1}, tenants(all)); diff != "" {
		t.Fatalf("System reads (-want +got):\n%s", diff)
	}
	// Every tenant at once is the operator's view only, as for the audit
	// log.
	if _, err := read(UserActor(e.admin.ID), ""); !errors.Is(err, ErrForbidden) {
		t.Fatalf("Contoso's Global Administrator reading every tenant: %v, want ErrForbidden", err)
	}
	for _, tid := range []string{e.conID} {
		ev, err := read(UserActor(e.admin.ID), tid)
		if err != nil {
			t.Fatalf("Contoso's Global Administrator reading %q: %v", tid, err)
		}
		if diff := cmp.Diff(map[string]int{e.conID: 2}, tenants(ev)); diff != "" {
			t.Fatalf("Contoso's Global Administrator reading %q (-want +got):\n%s", tid, diff)
		}
	}
	ftOK(e.d.DisableUser(e.ctx, System(), e.fadmin.ID))(t)
	for name, c := range map[string]struct {
		actor    Actor
		tenantID string
	}{
		"another tenant":              {UserActor(e.admin.ID), e.fabID},
		"a user without the role":     {UserActor(e.alice.ID), ""},
		"a user naming her tenant":    {UserActor(e.alice.ID), e.conID},
		"a disabled administrator":    {UserActor(e.fadmin.ID), ""},
		"an unknown user":             {UserActor("9f000000-0000-4000-8000-000000000001"), ""},
		"the zero actor":              {Actor{}, ""},
		"the zero actor, one tenant":  {Actor{}, e.conID},
		"an empty user id (zero)":     {UserActor(""), ""},
		"a Fabrikam user for Contoso": {UserActor(e.carol.ID), e.conID},
	} {
		if ev, err := read(c.actor, c.tenantID); !errors.Is(err, ErrForbidden) || len(ev) != 0 {
			t.Errorf("%s: %d events, %v; want ErrForbidden", name, len(ev), err)
		}
	}
}

// TestCorrelationIDs: generated correlation ids are distinct GUIDs of
// version 4 and the RFC 9562 variant, and differ between directories.
func TestCorrelationIDs(t *testing.T) {
	var a, b correlationIDs
	seen := map[string]bool{}
	for range 10_000 {
		for _, g := range []*correlationIDs{&a, &b} {
			s := g.next()
			id, err := uuid.Parse(s)
			if err != nil || id.Version() != 4 || id.Variant() != uuid.RFC4122 {
				t.Fatalf("%q: version %d, variant %v, %v", s, id.Version(), id.Variant(), err)
			}
			if seen[s] {
				t.Fatalf("%q handed out twice", s)
			}
			seen[s] = true
		}
	}
}

// BenchmarkSignInRecord is what the sign-in log adds to every request: the
// record and its context, a correlation id, and the append to the memory
// store's log (go test -bench 'SignInRecord|Issuance' . for the request
// it accompanies).
func BenchmarkSignInRecord(b *testing.B) {
	d, err := New(context.Background(), Config{Tokens: TokenConfig{Algorithm: jose.ES256}})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		rctx, rec := d.startSignIn(ctx, GrantClientCredentials, "72f988bf-86f1-41af-91ab-2d7cd011db47", "1950a258-227b-4e31-a9cf-717495945fc2", "")
		signInOf(rctx).tenant("72f988bf-86f1-41af-91ab-2d7cd011db47")
		signInOf(rctx).app("a0a0d8a3-5c46-4b1d-9f8f-3f1f3e6a8c01", "00000003-0000-0000-c000-000000000000")
		rec.ev.ClientCredentialType = CredentialSecret
		if err := d.endSignIn(rctx, rec, nil); err != nil {
			b.Fatal(err)
		}
	}
}
