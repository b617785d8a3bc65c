package tenantry

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/tenantry/tenantry/store"
)

const (
	codeKindAuth   = "authorization_code"
	codeKindDevice = "device_code"
	codeKindUser   = "user_code"
	// codeKindReplayed marks an authorization code redeemed more than
	// once; its record (same id) outlives the refresh tokens issued from it.
	codeKindReplayed = "authorization_code_replayed"
)

// redeemedCodeRetention is how long a redeemed authorization code is kept
// to recognise a replay.
const redeemedCodeRetention = 24 * time.Hour

type codeData struct {
	Grant       userGrant `json:"g"`
	RedirectURI string    `json:"redirect_uri,omitempty"`
	Challenge   string    `json:"challenge,omitempty"`
	Method      string    `json:"method,omitempty"`
	// Device flow.
	UserCode   string `json:"user_code,omitempty"`
	DeviceHash string `json:"device,omitempty"`
	Status     string `json:"status,omitempty"` // pending, approved, declined
}

// purgeExpiredCodes deletes a bounded number of expired codes, so that
// codes (device codes in particular, which anyone may request) do not
// accumulate: each issuing operation removes up to codePurgeBatch codes
// that expired on an earlier day, then looks at up to codePurgeScan codes
// expiring today and removes those already expired.
func purgeExpiredCodes(o *op) error {
	left := codePurgeBatch
	for back := 14; back >= 1 && left > 0; back-- {
		day := o.now.AddDate(0, 0, -back).UTC().Format("2006-01-02")
		old, _, err := store.Codes.List(o.tx, store.CodeByExpiry, day, store.Page{Limit: left})
		if err != nil {
			return err
		}
		for _, c := range old {
			if err := store.Codes.Delete(o.tx, c.ID); err != nil {
				return err
			}
			left--
		}
	}
	today := o.now.UTC().Format("2006-01-02")
	page := store.Page{Limit: codePurgeBatch}
	for scanned := 0; scanned < codePurgeScan && left > 0; {
		codes, next, err := store.Codes.List(o.tx, store.CodeByExpiry, today, page)
		if err != nil {
			return err
		}
		for _, c := range codes {
			if left > 0 && !o.now.Before(c.ExpiresAt) {
				if err := store.Codes.Delete(o.tx, c.ID); err != nil {
					return err
				}
				left--
			}
		}
		scanned += len(codes)
		if next == "" || len(codes) == 0 {
			break
		}
		page.After = next
	}
	return nil
}

const (
	codePurgeBatch = 64
	codePurgeScan  = 256
)

// loadCode reads the stored code of kind for the code value, or answers
// notFound.
func loadCode(tx store.ReadTx, kind, code string, notFound *TokenError) (store.Code, codeData, error) {
	var cd codeData
	c, err := store.Codes.Get(tx, hashCode(kind, code))
	if errors.Is(err, store.ErrNotFound) {
		return c, cd, notFound
	} else if err != nil {
		return c, cd, err
	}
	return c, cd, json.Unmarshal(c.Data, &cd)
}

func codeSummary(c store.Code) map[string]any {
	return map[string]any{"kind": c.Kind, "expiresAt": c.ExpiresAt, "redeemedAt": c.RedeemedAt}
}
