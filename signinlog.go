package tenantry

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/tenant"
)

// The sign-in log is Entra's second ledger beside the audit log: every
// request to the token service — each token request (Issuer.Token, any
// grant), authorization (Issuer.Authorize), device authorization
// (Issuer.DeviceCode), the user's approval or denial of a device code and
// each password sign-in (Issuer.SignIn, lockouts included) — appends one
// store.SignInEvent, issued or refused, with its AADSTS code and OAuth
// error. An event holds who asked, for what and how, never a secret, a
// code, a password, an assertion or a token.
//
// Each entry point records its request once, in one place: it starts a
// record (startSignIn), runs the flow with the record in its context, and
// appends the event with the flow's outcome (endSignIn). Inside the flow,
// the grant code only notes what it resolves (the tenant, the user, the
// service principal, the resource) on the record of its context, much as a
// tracing span is annotated; no grant appends anything. The append is
// outside any store transaction (store.Store.AppendSignIn) and survives a
// client that hung up (context.WithoutCancel).

// Flows recorded in store.SignInEvent.GrantType besides the grant types of
// token requests (GrantClientCredentials, …), which are recorded as sent.
const (
	// FlowAuthorize is an authorization request (Issuer.Authorize).
	FlowAuthorize = "authorize"
	// FlowDeviceAuthorization is a device authorization request
	// (Issuer.DeviceCode, RFC 8628 §3.1).
	FlowDeviceAuthorization = "device_authorization"
	// FlowDeviceApproval is a user approving a device code
	// (Issuer.ApproveDeviceCode).
	FlowDeviceApproval = "device_approval"
	// FlowDeviceDenial is a user declining a device code
	// (Issuer.DenyDeviceCode).
	FlowDeviceDenial = "device_denial"
	// FlowPassword is a password sign-in (Issuer.SignIn).
	FlowPassword = "password"
)

// Client credential types of store.SignInEvent.ClientCredentialType, in
// the terms of Microsoft Graph's signIn resource.
const (
	CredentialNone        = "none"
	CredentialSecret      = "clientSecret"
	CredentialCertificate = "certificate"
	CredentialFederated   = "federatedIdentityCredential"
	// CredentialAssertion is a client assertion that was refused before
	// it was known to be a certificate's or a federated credential's.
	CredentialAssertion = "clientAssertion"
)

// signInRecord is the sign-in event of one request in progress.
type signInRecord struct {
	ev store.SignInEvent
}

type signInKey struct{}

// signInContext is the context a flow runs with: its parent, and the
// record of the request (one allocation for both).
type signInContext struct {
	context.Context
	rec signInRecord
}

// Value returns the request's record for signInKey{}, else the parent's
// value.
func (c *signInContext) Value(key any) any {
	if _, ok := key.(signInKey); ok {
		return &c.rec
	}
	return c.Context.Value(key)
}

// startSignIn starts the record of one request to flow (a grant type or a
// Flow constant) at the authority segment tenantSegment by client
// clientID, and returns the context the flow runs with. correlationID is
// the caller's; an empty one is replaced by a new GUID.
func (d *core) startSignIn(ctx context.Context, flow, tenantSegment, clientID, correlationID string) (context.Context, *signInRecord) {
	if correlationID == "" {
		correlationID = d.correlation.next()
	}
	c := &signInContext{Context: ctx, rec: signInRecord{ev: store.SignInEvent{
		Time: d.clock(), TenantID: tenantSegment, ClientAppID: clientID, GrantType: flow, CorrelationID: correlationID,
	}}}
	return c, &c.rec
}

// correlationIDs hands out correlation ids: GUIDs (version 4 in form)
// made of a random per-process base and a counter, so that a request costs
// no read of the random source. They are unique, not unpredictable:
// a correlation id is no secret.
type correlationIDs struct {
	once sync.Once
	base uuid.UUID
	n    atomic.Uint64
}

func (g *correlationIDs) next() string {
	g.once.Do(func() { g.base = uuid.New() })
	id := g.base
	n := g.n.Add(1)
	for i := range 8 {
		id[8+i] ^= byte(n >> (8 * (7 - i)))
	}
	id[8] = id[8]&0x3f | 0x80 // RFC 9562 variant
	return id.String()
}

// endSignIn appends r's event with the outcome of err and returns err;
// a *TokenError is returned as a copy that carries the correlation id.
// The event is appended even when ctx is done. An event the store cannot
// append is reported to the logger: the request's answer stands.
func (d *core) endSignIn(ctx context.Context, r *signInRecord, err error) error {
	r.ev.Outcome = store.SignInSuccess
	if err != nil {
		te := AsTokenError(err)
		r.ev.Outcome, r.ev.ErrorCode, r.ev.OAuthError = store.SignInFailure, te.Code, te.ErrorCode
		if direct, ok := err.(*TokenError); ok {
			c := *direct
			c.CorrelationID = r.ev.CorrelationID
			err = &c
		}
	}
	if ctx.Done() != nil {
		ctx = context.WithoutCancel(ctx)
	}
	if aerr := d.st.AppendSignIn(ctx, r.ev); aerr != nil {
		d.log.Error("tenantry: sign-in log append failed", "error", aerr, "correlationId", r.ev.CorrelationID, "grantType", r.ev.GrantType)
	}
	return err
}

// signInOf returns the record of the request ctx belongs to, nil outside
// an entry point; its methods accept nil.
func signInOf(ctx context.Context) *signInRecord {
	r, _ := ctx.Value(signInKey{}).(*signInRecord)
	return r
}

// noteIfSet sets *field to v unless v is empty.
func noteIfSet(field *string, v string) {
	if v != "" {
		*field = v
	}
}

// viewNoting runs fn in a View of the store whose function notes the
// request's sign-in event. A store may run a View function more than once
// (see store.Store.View): each run starts from the notes made before the
// View, so that the event holds the last run's notes only, never what an
// earlier run read in an older snapshot.
func (d *core) viewNoting(ctx context.Context, fn func(tx store.ReadTx) error) error {
	r := signInOf(ctx)
	if r == nil {
		return d.st.View(ctx, fn)
	}
	before := r.ev
	return d.st.View(ctx, func(tx store.ReadTx) error {
		r.ev = before
		return fn(tx)
	})
}

// tenant notes the tenant the request resolved to.
func (r *signInRecord) tenant(id string) {
	if r != nil {
		noteIfSet(&r.ev.TenantID, id)
	}
}

// user notes the user of a delegated flow and her tenant.
func (r *signInRecord) user(u tenant.User) {
	if r != nil {
		noteIfSet(&r.ev.UserID, u.ID)
		noteIfSet(&r.ev.TenantID, u.TenantID)
	}
}

// app notes the client's service principal (the principal of an app-only
// flow) and the resource.
func (r *signInRecord) app(spID, resourceAppID string) {
	if r != nil {
		noteIfSet(&r.ev.ServicePrincipalID, spID)
		noteIfSet(&r.ev.ResourceAppID, resourceAppID)
	}
}

// grant notes what a stored grant (a code, a refresh token, a device code)
// names: its tenant, its user and, when the request named none, its client.
func (r *signInRecord) grant(g userGrant) {
	if r != nil {
		noteIfSet(&r.ev.TenantID, g.TenantID)
		noteIfSet(&r.ev.UserID, g.UserID)
		if r.ev.ClientAppID == "" {
			r.ev.ClientAppID = g.ClientAppID
		}
	}
}

// tokens notes the tenant, user and resource of a delegated token response.
func (r *signInRecord) tokens(pt *pendingTokens) {
	if r != nil && pt != nil {
		noteIfSet(&r.ev.TenantID, pt.tid)
		noteIfSet(&r.ev.UserID, pt.oid)
		noteIfSet(&r.ev.ResourceAppID, pt.resource)
	}
}

// clientCredentialType is how the client of req authenticated (issued) or
// tried to.
func clientCredentialType(req *TokenRequest, fed *federatedResult, issued bool) string {
	switch {
	case req.ClientAssertion != "" || req.ClientAssertionType != "":
		if fed != nil {
			return CredentialFederated
		}
		if issued {
			return CredentialCertificate
		}
		return CredentialAssertion
	case req.ClientSecret != "":
		return CredentialSecret
	}
	return CredentialNone
}

// SignInQuery selects sign-in events. Every field that is set must match;
// the zero SignInQuery selects the first page of events, oldest first.
type SignInQuery struct {
	// ClientAppID, ResourceAppID, UserID, ServicePrincipalID, GrantType
	// and CorrelationID select events with that value.
	ClientAppID, ResourceAppID, UserID, ServicePrincipalID, GrantType, CorrelationID string
	// Outcome selects successes or failures; "" both.
	Outcome store.SignInOutcome
	// ErrorCode selects failures with that AADSTS code; 0 any.
	ErrorCode int
	// Since and Until bound the events' time: at or after Since, before
	// Until; a zero time leaves that side open.
	Since, Until time.Time
	// Order is store.OldestFirst (the zero value) or store.NewestFirst.
	Order store.LogOrder
	// Page is the page wanted.
	Page PageRequest
}

// SignIns returns a page of the sign-in events of tenantID that match q;
// tenantID "" reads the events of every tenant (System only). The rule is
// the audit log's (tenant.Reader.ReadsLogs): System, and the tenant's
// Global Administrators (of tenantry's directory roles, the one Entra lets
// read sign-in logs; Entra's Reports Reader, Security Reader and Global
// Reader are not modelled); anyone else, the zero Actor included, is
// refused with ErrForbidden.
func (d *Directory) SignIns(ctx context.Context, actor Actor, tenantID string, q SignInQuery) (Page[store.SignInEvent], error) {
	f := store.SignInFilter{TenantID: tenantID, ClientAppID: q.ClientAppID, ResourceAppID: q.ResourceAppID, UserID: q.UserID,
		ServicePrincipalID: q.ServicePrincipalID, GrantType: q.GrantType, CorrelationID: q.CorrelationID,
		Outcome: q.Outcome, ErrorCode: q.ErrorCode, Since: q.Since, Until: q.Until}
	listing := fmt.Sprintf("signins/%s/%d", tenantID, q.Order)
	p, err := logPage(listing, q.Page, q.Order)
	if err != nil {
		return Page[store.SignInEvent]{}, err
	}
	if err := d.readFor(ctx, actor, func(_ store.ReadTx, r tenant.Reader) error {
		return requireLogReader(r, tenantID)
	}); err != nil {
		return Page[store.SignInEvent]{}, err
	}
	ev, next, err := d.st.SignIns(ctx, f, p)
	if err != nil {
		return Page[store.SignInEvent]{}, err
	}
	return Page[store.SignInEvent]{Items: ev, Next: logCursor(listing, next)}, nil
}
