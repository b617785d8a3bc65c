package main

import (
	"context"
	"os"
	"time"

	"github.com/tenantry/tenantry"
)

// Example runs the flows against a directory whose clock stands still and
// prints both ledgers.
func Example() {
	start := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return start }
	if err := run(context.Background(), os.Stdout, tenantry.Config{Now: clock}); err != nil {
		panic(err)
	}
	// Output:
	// audit log (changes to the directory):
	//   tenant.create            tenant           Contoso                         by system
	//   user.create              user             admin                           by system
	//   user.create              user             alice                           by system
	//   directoryRole.assign     roleAssignment   admin: Global Administrator     by system
	//   application.create       application      Orders API                      by system
	//   application.create       application      Orders Sync                     by system
	//   application.create       application      Orders Web                      by system
	//   application.addPassword  application      Orders Sync                     by system
	//   application.addPassword  application      Orders Web                      by system
	//   consent.grant            servicePrincipal Orders Sync (service principal) by admin
	//   consent.grant            servicePrincipal Orders Web (service principal)  by admin
	//   signIn.authorize         user             alice                           by alice
	//   token.redeemCode         user             alice                           by system
	// sign-in log (requests to the token service), as Contoso's Global Administrator reads it:
	//   flow               credential   client      user or service principal       resource   result
	//   client_credentials clientSecret Orders Sync Orders Sync (service principal) Orders API success
	//   client_credentials clientSecret Orders Sync                                            AADSTS7000215 invalid_client
	//   password           none                     alice                                      AADSTS50126 invalid_grant
	//   password           none                     alice                                      success
	//   authorize          none         Orders Web  alice                           Orders API success (same correlation id)
	//   authorization_code clientSecret Orders Web  alice                           Orders API success (same correlation id)
	// alice reads the sign-in log: forbidden: true
	// secrets, passwords, codes or tokens in either log: 0
}
