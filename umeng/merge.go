package umeng

import "reflect"

// mergeOptions lays the fields req sets over def, the App's defaults, and
// returns the result; neither argument is changed, and the result shares
// no map with them that it could change. The rules, field by field:
//
//   - A field the request sets (non-zero: a non-empty string or JSON value,
//     a non-nil pointer, a non-zero number, true) wins; otherwise the
//     default applies. A bool therefore cannot switch a default true off.
//   - ChannelProperties and LocalProperties merge field by field by the
//     same rule; OppoPrivateMsgTemplate is one value, replaced whole.
//   - Maps (IOSKeys, ChannelProperties.Extra, XiaomiExtraProperties) merge
//     key by key, the request's value winning for a key both have.
//   - SetBadge and AddBadge are one choice: a request that sets either
//     takes both from the request, so a default SetBadge never meets a
//     request's AddBadge.
//
// The iOS badge rule, that a default IOSBadge yields to the request's own
// Notification.Badge, needs the Notification and lives in buildSend.
func mergeOptions(def, req *Options) *Options {
	out := *req
	mergeFields(reflect.ValueOf(&out).Elem(), reflect.ValueOf(def).Elem())
	if req.SetBadge != nil || req.AddBadge != nil {
		out.SetBadge, out.AddBadge = req.SetBadge, req.AddBadge
	}
	return &out
}

// mergeFields fills the zero fields of the struct dst from def, recursing
// into nested structs and merging maps key by key.
func mergeFields(dst, def reflect.Value) {
	for i := range dst.NumField() {
		d := def.Field(i)
		if d.IsZero() {
			continue // nothing to fill in: most defaults leave most fields unset
		}
		f := dst.Field(i)
		switch {
		case f.Kind() == reflect.Struct:
			mergeFields(f, d)
		case f.Kind() == reflect.Map:
			if d.Len() == 0 {
				continue
			}
			m := reflect.MakeMapWithSize(f.Type(), d.Len()+f.Len())
			for _, src := range []reflect.Value{d, f} {
				it := src.MapRange()
				for it.Next() {
					m.SetMapIndex(it.Key(), it.Value())
				}
			}
			f.Set(m)
		case f.IsZero():
			f.Set(d)
		}
	}
}

// cloneOptions returns a copy of o that shares nothing the caller could
// change later: its maps, slices (JSON values) and pointers are copied, so
// that an App's Defaults and ClassDefaults are what they were at New
// whatever the caller does with its own after, and no send reads a map
// another goroutine writes.
func cloneOptions(o Options) Options {
	var out Options
	reflect.ValueOf(&out).Elem().Set(cloneValue(reflect.ValueOf(o)))
	return out
}

// cloneValue returns a deep copy of v, which holds strings, numbers,
// bools, and structs, pointers, slices and maps of them (as Options does).
func cloneValue(v reflect.Value) reflect.Value {
	out := reflect.New(v.Type()).Elem()
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			p := reflect.New(v.Type().Elem())
			p.Elem().Set(cloneValue(v.Elem()))
			out.Set(p)
		}
	case reflect.Map:
		if !v.IsNil() {
			m := reflect.MakeMapWithSize(v.Type(), v.Len())
			for it := v.MapRange(); it.Next(); {
				m.SetMapIndex(it.Key(), cloneValue(it.Value()))
			}
			out.Set(m)
		}
	case reflect.Slice:
		if !v.IsNil() {
			s := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
			for i := range v.Len() {
				s.Index(i).Set(cloneValue(v.Index(i)))
			}
			out.Set(s)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			out.Field(i).Set(cloneValue(v.Field(i)))
		}
	default:
		out.Set(v)
	}
	return out
}
