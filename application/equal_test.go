package application_test

import (
	"testing"
	"time"

	"github.com/tenantry/tenantry/application"
)

func TestApplicationEqual(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	base := func() application.Application {
		return application.Application{
			ID: "a", AppID: "b", DisplayName: "App",
			AppRoles:            []application.AppRole{{ID: "r", Value: "Files.Read", IsEnabled: true}},
			PasswordCredentials: []application.PasswordCredential{{KeyID: "k", StartDateTime: start, EndDateTime: start.Add(time.Hour), SecretHash: &application.SecretHash{Digest: []byte{1}}}},
		}
	}
	tests := []struct {
		name   string
		change func(*application.Application)
		want   bool
	}{
		{"clone", func(*application.Application) {}, true},
		{"credential times in another zone", func(a *application.Application) {
			a.PasswordCredentials[0].StartDateTime = start.In(time.FixedZone("UTC-5", -5*3600))
		}, true},
		{"empty tags instead of none", func(a *application.Application) { a.Tags = []string{} }, true},
		{"a role's value", func(a *application.Application) { a.AppRoles[0].Value = "Files.Write" }, false},
		{"a role disabled", func(a *application.Application) { a.AppRoles[0].IsEnabled = false }, false},
		{"a secret's digest", func(a *application.Application) { a.PasswordCredentials[0].SecretHash.Digest = []byte{2} }, false},
		{"a credential's end", func(a *application.Application) { a.PasswordCredentials[0].EndDateTime = start }, false},
		{"no roles instead of one", func(a *application.Application) { a.AppRoles = nil }, false},
	}
	for _, tc := range tests {
		a, b := base(), base().Clone()
		tc.change(&b)
		if got := a.Equal(b); got != tc.want {
			t.Errorf("%s: Equal = %v, want %v", tc.name, got, tc.want)
		}
	}
}
