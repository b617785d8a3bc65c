package tenantry

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/tenantry/tenantry/application"
	"github.com/tenantry/tenantry/internal/deep"
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
	if mods, ok := modifiedProperties(before, after); ok {
		e.Before, e.After = modifiedJSON(mods)
		return e
	}
	e.Before, e.After = redactJSON(before), redactJSON(after)
	return e
}

// ModifiedProperty is one property an update changes, named as in
// Microsoft Graph, with its old and new values in JSON (secrets removed),
// as Entra's audit logs list modifiedProperties.
type ModifiedProperty struct {
	Name     string          `json:"displayName"` // the property's Graph name
	OldValue json.RawMessage `json:"oldValue"`    // JSON before the change
	NewValue json.RawMessage `json:"newValue"`    // JSON after the change
}

// modifiedProperties lists, in field order, the properties (by JSON name)
// in which two values of the same struct type differ, compared as the
// objects' Equal methods compare them (times as instants, an empty
// collection as a missing one); secrets are redacted first. ok is false
// when before and after are not two structs of one type.
func modifiedProperties(before, after any) (mods []ModifiedProperty, ok bool) {
	before, after = redact(before), redact(after)
	bv, av := reflect.ValueOf(before), reflect.ValueOf(after)
	if bv.Kind() != reflect.Struct || !av.IsValid() || bv.Type() != av.Type() {
		return nil, false
	}
	t := bv.Type()
	mods = []ModifiedProperty{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		x, y := bv.Field(i), av.Field(i)
		if deep.Values(x, y) {
			continue
		}
		old, errB := json.Marshal(x.Interface())
		new, errA := json.Marshal(y.Interface())
		if errB != nil || errA != nil {
			return nil, false
		}
		mods = append(mods, ModifiedProperty{Name: name, OldValue: old, NewValue: new})
	}
	return mods, true
}

// modifiedJSON encodes modified properties as the audit log records them:
// an object of old values and one of new values, by property name.
func modifiedJSON(mods []ModifiedProperty) (before, after json.RawMessage) {
	old, new := make(map[string]json.RawMessage, len(mods)), make(map[string]json.RawMessage, len(mods))
	for _, m := range mods {
		old[m.Name], new[m.Name] = m.OldValue, m.NewValue
	}
	b, _ := json.Marshal(old) // raw JSON values from json.Marshal: cannot fail
	a, _ := json.Marshal(new)
	return b, a
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
