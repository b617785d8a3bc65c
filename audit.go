package tenantry

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/tenant"
)

// auditEvent builds the event of one mutation. A created object is
// recorded whole in After, a deleted one in Before; for an object changed in
// place only its modified properties are recorded, old values in Before and
// new ones in After (as Entra's audit logs list modifiedProperties).
func auditEvent(now time.Time, actor Actor, tenantID, action string, k store.Kind, id string, before, after any) store.AuditEvent {
	e := store.AuditEvent{
		Time: now, TenantID: tenantID, Actor: actor.String(), Action: action,
		TargetKind: k.Name(), TargetID: id,
	}
	if b, a, ok := modifiedProperties(redact(before), redact(after)); ok {
		e.Before, e.After = b, a
		return e
	}
	e.Before, e.After = redactJSON(before), redactJSON(after)
	return e
}

// modifiedProperties encodes the fields (by JSON name) in which two values
// of the same struct type differ; ok is false for anything else.
func modifiedProperties(before, after any) (b, a json.RawMessage, ok bool) {
	bv, av := reflect.ValueOf(before), reflect.ValueOf(after)
	if bv.Kind() != reflect.Struct || !av.IsValid() || bv.Type() != av.Type() {
		return nil, nil, false
	}
	t := bv.Type()
	old, new := map[string]any{}, map[string]any{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		x, y := bv.Field(i).Interface(), av.Field(i).Interface()
		if !reflect.DeepEqual(x, y) {
			old[name], new[name] = x, y
		}
	}
	b, errB := json.Marshal(old)
	a, errA := json.Marshal(new)
	if errB != nil || errA != nil {
		return nil, nil, false
	}
	return b, a, true
}

// redact removes secret material from objects of the model.
func redact(v any) any {
	switch x := v.(type) {
	case application.Application:
		return redactApp(x)
	case tenant.User:
		x.PasswordHash = nil
		return x
	}
	return v
}

// redactJSON encodes v for the audit log without secret material.
func redactJSON(v any) json.RawMessage {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(redact(v))
	if err != nil {
		return json.RawMessage(fmt.Sprintf("%q", "unencodable: "+err.Error()))
	}
	return b
}

// redactApp returns a copy of a without secret hashes.
func redactApp(a application.Application) application.Application {
	a = a.Clone()
	for i := range a.PasswordCredentials {
		a.PasswordCredentials[i] = a.PasswordCredentials[i].Redacted()
	}
	return a
}
