package memory_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/memory"
)

// The sign-in log is appended on every token request, outside any
// transaction. BenchmarkAppendSignIn is its cost on the token path;
// BenchmarkUpdateAppendAudit, the cost of writing the same record through a
// transaction, is the alternative it avoids.
//
//	go test ./store/memory -run '^$' -bench 'SignIn|AppendAudit' -benchmem

func signInEvent(i int) store.SignInEvent {
	return store.SignInEvent{
		Time: at(), TenantID: "72f988bf-86f1-41af-91ab-2d7cd011db47", ClientAppID: "1950a258-227b-4e31-a9cf-717495945fc2",
		ResourceAppID: "00000003-0000-0000-c000-000000000000", ServicePrincipalID: "a0a0d8a3-5c46-4b1d-9f8f-3f1f3e6a8c01",
		GrantType: "client_credentials", ClientCredentialType: "clientSecret", Outcome: store.SignInSuccess,
		CorrelationID: "b1d2c3e4-0000-4000-8000-00000000000" + strconv.Itoa(i%10), RequestID: "c1d2c3e4-0000-4000-8000-000000000000",
		IPAddress: "192.0.2.10", UserAgent: "azsdk-go-azidentity/v1.8.0 (go1.26; linux)",
	}
}

func BenchmarkAppendSignIn(b *testing.B) {
	s := memory.New()
	defer s.Close()
	ctx := context.Background()
	e := signInEvent(0)
	b.ReportAllocs()
	for b.Loop() {
		if err := s.AppendSignIn(ctx, e); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendSignInParallel appends from GOMAXPROCS goroutines, as
// concurrent token requests do.
func BenchmarkAppendSignInParallel(b *testing.B) {
	s := memory.New()
	defer s.Close()
	ctx := context.Background()
	e := signInEvent(0)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := s.AppendSignIn(ctx, e); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkAppendSignInWhileScanning appends while another goroutine keeps
// reading filtered pages of a log of 100,000 events: readers hold the
// log's lock only to copy its chunk list.
func BenchmarkAppendSignInWhileScanning(b *testing.B) {
	s := memory.New()
	defer s.Close()
	ctx := context.Background()
	for i := range 100_000 {
		if err := s.AppendSignIn(ctx, signInEvent(i)); err != nil {
			b.Fatal(err)
		}
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		f := store.SignInFilter{CorrelationID: "none"} // matches nothing: a full scan
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, _, err := s.SignIns(ctx, f, store.LogPage{}); err != nil {
				b.Error(err)
				return
			}
		}
	}()
	e := signInEvent(0)
	b.ReportAllocs()
	for b.Loop() {
		if err := s.AppendSignIn(ctx, e); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	close(stop)
	<-done
}

func BenchmarkUpdateAppendAudit(b *testing.B) {
	s := memory.New()
	defer s.Close()
	ctx := context.Background()
	e := store.AuditEvent{Time: at(), TenantID: "72f988bf-86f1-41af-91ab-2d7cd011db47", Actor: "system", Action: "signIn", TargetKind: "servicePrincipal", TargetID: "a0a0d8a3-5c46-4b1d-9f8f-3f1f3e6a8c01"}
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Update(ctx, func(tx store.Tx) error { return tx.AppendAudit(e) }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSignInsPage reads the first page of 100 events of one tenant,
// newest first, from a log of 100,000 events in three tenants.
func BenchmarkSignInsPage(b *testing.B) {
	s := memory.New()
	defer s.Close()
	ctx := context.Background()
	tenants := []string{"t1", "t2", "t3"}
	for i := range 100_000 {
		e := signInEvent(i)
		e.TenantID = tenants[i%3]
		if err := s.AppendSignIn(ctx, e); err != nil {
			b.Fatal(err)
		}
	}
	f := store.SignInFilter{TenantID: "t2"}
	b.ReportAllocs()
	for b.Loop() {
		events, _, err := s.SignIns(ctx, f, store.LogPage{Order: store.NewestFirst})
		if err != nil || len(events) != store.DefaultPageSize {
			b.Fatal(len(events), err)
		}
	}
}
