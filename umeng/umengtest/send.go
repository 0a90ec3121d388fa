package umengtest

import (
	"slices"
	"strings"
	"time"
)

// Cast types of /api/send.
const (
	castUnicast        = "unicast"
	castListcast       = "listcast"
	castFilecast       = "filecast"
	castBroadcast      = "broadcast"
	castGroupcast      = "groupcast"
	castCustomizedcast = "customizedcast"
)

// Audience limits of the real service.
const (
	maxListcastTokens = 500
	maxAliases        = 500
)

func validCast(typ string) bool {
	switch typ {
	case castUnicast, castListcast, castFilecast, castBroadcast, castGroupcast, castCustomizedcast:
		return true
	}
	return false
}

// target is the checked audience of a send.
type target struct {
	tokens    []string       // unicast, listcast
	aliases   []string       // customizedcast by alias
	aliasType string         // customizedcast
	fileID    string         // filecast, customizedcast by file
	groupID   string         // groupcast by group
	where     map[string]any // groupcast by filter
}

// isTask reports whether a send of typ to tg is a task cast: answered with
// a task_id, pollable, cancellable and deduplicated by out_biz_no.
func (tg target) isTask(typ string) bool {
	switch typ {
	case castBroadcast, castGroupcast, castFilecast:
		return true
	case castCustomizedcast:
		return tg.fileID != ""
	}
	return false
}

// send answers /api/send: it validates the whole request, then accepts it.
func (s *Server) send(app App, m message, now time.Time, rec *Request) (any, *refusal) {
	if !m.has("type") {
		return nil, refuse(CodeMissingType, "type: required")
	}
	typ, ok := m.str("type")
	if ok && typ == "" {
		return nil, refuse(CodeMissingType, "type: required")
	}
	if !ok || !validCast(typ) {
		return nil, refuse(CodeBadType, "type: must be unicast, listcast, filecast, broadcast, groupcast or customizedcast")
	}
	rec.Type = typ
	rec.ProductionMode = true
	if m.has("production_mode") {
		pm, ok := m.str("production_mode")
		if !ok || (pm != "true" && pm != "false") {
			return nil, refuse(CodeBadProductionMode, "production_mode: must be the string \"true\" or \"false\"")
		}
		rec.ProductionMode = pm == "true"
	}
	if !m.has("payload") {
		return nil, refuse(CodeBadPayload, "payload: required, a JSON object")
	}
	payload, ok := decodeObject(m["payload"])
	if !ok {
		return nil, refuse(CodeBadPayload, "payload: must be a JSON object, not a string or other value")
	}
	rec.Payload = payload
	tg, aerr := s.checkTarget(app, typ, m, rec)
	if aerr != nil {
		return nil, aerr
	}
	c, aerr := checkPayload(app.Platform, m["payload"], payload, rec)
	if aerr != nil {
		return nil, aerr
	}
	// iOS test mode is the APNs sandbox, for every cast type.
	c.sandbox = app.Platform == PlatformIOS && !rec.ProductionMode
	rec.Sandbox = c.sandbox
	if aerr := checkReceipt(m); aerr != nil {
		return nil, aerr
	}
	isMessage := app.Platform == PlatformAndroid && payload["display_type"] == "message"
	if aerr := checkClassAndChannels(app.Platform, m, isMessage, rec); aerr != nil {
		return nil, aerr
	}
	pol, aerr := s.checkPolicy(app.Platform, m, tg.isTask(typ), isMessage, now, rec)
	rec.Policy, rec.OutBizNo = pol.raw, pol.outBizNo
	if aerr != nil {
		return nil, aerr
	}
	// A single cast's receipts are queued under the lock that delivered
	// it, before another send can forget its deliveries (Config.Keep).
	return s.accept(app, typ, tg, c, pol, now, rec, func(id string) { s.noteReceiptsLocked(app, m, id, now) })
}

// checkTarget validates the audience fields of typ.
func (s *Server) checkTarget(app App, typ string, m message, rec *Request) (target, *refusal) {
	var tg target
	switch typ {
	case castUnicast, castListcast:
		list, ok := m.str("device_tokens")
		tg.tokens = splitList(list, ",")
		if !ok || len(tg.tokens) == 0 {
			return tg, refuse(CodeMissingDeviceTokens, "device_tokens: required for %s, a comma-separated string", typ)
		}
		rec.DeviceTokens = tg.tokens
		if typ == castListcast && len(tg.tokens) > maxListcastTokens {
			return tg, refuse(CodeTooManyDeviceTokens, "device_tokens: %d tokens is over the listcast limit of %d", len(tg.tokens), maxListcastTokens)
		}
		if typ == castUnicast && len(tg.tokens) > 1 {
			return tg, refuse(CodeTooManyDeviceTokens, "device_tokens: unicast takes exactly one token, got %d (use listcast)", len(tg.tokens))
		}
		if typ == castUnicast && !s.cfg.AcceptAnyToken && !wellFormedToken(app.Platform, tg.tokens[0]) {
			return tg, refuse(CodeBadDeviceToken, "device_tokens: %q is not a %s device token (%s)", tg.tokens[0], app.Platform, tokenShape(app.Platform))
		}
	case castFilecast:
		id, _ := m.str("file_id")
		if id == "" {
			return tg, refuse(CodeMissingFileID, "file_id: required for filecast, from /upload")
		}
		tg.fileID, rec.FileID = id, id
	case castCustomizedcast:
		aliasType, _ := m.str("alias_type")
		if aliasType == "" {
			return tg, refuse(CodeMissingAliasType, "alias_type: required for customizedcast")
		}
		tg.aliasType, rec.AliasType = aliasType, aliasType
		alias, _ := m.str("alias")
		fileID, _ := m.str("file_id")
		switch {
		case alias != "" && fileID != "":
			return tg, refuse(CodeAliasAndFile, "alias, file_id: customizedcast takes one of them, not both")
		case alias == "" && fileID == "":
			return tg, refuse(CodeMissingAliasOrFile, "alias, file_id: customizedcast needs one of them")
		case fileID != "":
			tg.fileID, rec.FileID = fileID, fileID
		default:
			tg.aliases = splitList(alias, ",")
			rec.Alias = tg.aliases
			if len(tg.aliases) == 0 {
				return tg, refuse(CodeMissingAliasOrFile, "alias: holds no alias")
			}
			if len(tg.aliases) > maxAliases {
				return tg, refuse(CodeTooManyAliases, "alias: %d aliases is over the limit of %d", len(tg.aliases), maxAliases)
			}
		}
	case castGroupcast:
		return checkGroupcast(m, rec)
	}
	return tg, nil
}

// checkGroupcast takes a group_id or a filter, at least one; a group_id
// wins, as on the real service, and its filter is then not read at all.
func checkGroupcast(m message, rec *Request) (target, *refusal) {
	var tg target
	if m.has("group_id") {
		id, ok := m.str("group_id")
		if !ok {
			return tg, refuse(CodeMissingFilter, "group_id: must be a string")
		}
		if id = strings.TrimSpace(id); id != "" {
			tg.groupID, rec.GroupID = id, id
			if m.has("filter") {
				rec.ignore("filter")
			}
			return tg, nil
		}
	}
	if !m.has("filter") {
		return tg, refuse(CodeMissingFilter, "filter, group_id: groupcast needs a filter object or a group_id")
	}
	where, aerr := checkFilter(m["filter"])
	if aerr != nil {
		return tg, aerr
	}
	tg.where = where
	return tg, nil
}

// checkReceipt enforces receipt_type as the string "1" (delivery
// receipts), "2" (click receipts) or "3" (both), the type SDK sources for
// the real service send. receipt_url and callback_params are not checked:
// their types are unverified. A single cast with a receipt_url has its
// receipts posted there (see PostReceipts, Click and Dismiss).
func checkReceipt(m message) *refusal {
	if !m.has("receipt_type") {
		return nil
	}
	switch rt, _ := m.str("receipt_type"); rt {
	case "1", "2", "3":
		return nil
	}
	return refuse(CodeBadReceiptType, "receipt_type: must be the string \"1\", \"2\" or \"3\"")
}

func tokenShape(platform string) string {
	if platform == PlatformIOS {
		return "64 hex digits"
	}
	return "44 characters"
}

// splitList splits s at sep, trimming spaces and dropping empty entries.
func splitList(s, sep string) []string {
	var out []string
	for part := range strings.SplitSeq(s, sep) {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// accept applies a validated send: single casts deliver at once, task casts
// become tasks. Deduplication, the file lookup and rate limits need the
// server's state, so they are checked here under the lock, under which
// noteReceipts is called with a single cast's id once it delivered.
func (s *Server) accept(app App, typ string, tg target, c content, pol policy, now time.Time, rec *Request,
	noteReceipts func(id string)) (any, *refusal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceTasksLocked(now)

	if !tg.isTask(typ) {
		var id string
		switch typ {
		case castUnicast:
			if s.invalid[tg.tokens[0]] {
				return nil, refuse(CodeInvalidDeviceToken, "device_tokens: %q is not registered or the app was uninstalled", tg.tokens[0])
			}
			id = s.newIDLocked(prefixUnicast, idDigits, now)
			s.deliverLocked(app, id, typ, pol.outBizNo, tg.tokens, c, now)
		case castListcast:
			id = s.newIDLocked(prefixListcast, idDigits, now)
			s.deliverLocked(app, id, typ, pol.outBizNo, tg.tokens, c, now)
		default: // customizedcast by alias
			tokens := s.resolveAliasesLocked(app.AppKey, tg.aliasType, tg.aliases)
			if len(tokens) == 0 {
				return nil, refuse(CodeAliasNoDevices, "alias: no device is bound to these aliases of alias_type %q", tg.aliasType)
			}
			id = s.newIDLocked(prefixAliasCast, idDigits, now)
			s.deliverLocked(app, id, typ, pol.outBizNo, tokens, c, now)
		}
		rec.ID, rec.Accepted = id, true
		noteReceipts(id)
		return map[string]string{"msg_id": id}, nil
	}

	key := dedupeKey{app.AppKey, pol.outBizNo}
	if pol.outBizNo != "" {
		if id, dup := s.dedupe[key]; dup {
			rec.ID, rec.Accepted, rec.Deduplicated = id, true, true
			return map[string]string{"task_id": id}, nil
		}
	}
	var targets []string
	var prefix string
	switch typ {
	case castBroadcast:
		prefix = prefixBroadcast
		for _, d := range s.devicesLocked(app.AppKey) {
			targets = append(targets, d.Token)
		}
	case castGroupcast:
		prefix = prefixGroupcast
		for _, d := range s.devicesLocked(app.AppKey) {
			if tg.groupID != "" {
				if slices.Contains(d.Groups, tg.groupID) {
					targets = append(targets, d.Token)
				}
				continue
			}
			if ok, _ := matchCondition(tg.where, d); ok {
				targets = append(targets, d.Token)
			}
		}
	case castFilecast:
		prefix = prefixFilecast
		lines, aerr := s.fileLocked(app.AppKey, tg.fileID, now)
		if aerr != nil {
			return nil, aerr
		}
		targets = uniq(lines)
	default: // customizedcast by file
		prefix = prefixFileCustomized
		lines, aerr := s.fileLocked(app.AppKey, tg.fileID, now)
		if aerr != nil {
			return nil, aerr
		}
		targets = s.resolveAliasesLocked(app.AppKey, tg.aliasType, lines)
	}
	// The send limits are production limits: a test-mode send of any cast
	// type is not counted and not refused for them.
	if rec.ProductionMode {
		if aerr := s.checkRateLocked(app.AppKey, typ, now); aerr != nil {
			return nil, aerr
		}
		s.noteSendLocked(app.AppKey, typ, now)
	}
	id := s.newIDLocked(prefix, idDigits, now)
	t := &task{
		id: id, typ: typ, outBizNo: pol.outBizNo, app: app, targets: targets,
		audience: typ == castBroadcast || typ == castGroupcast,
		c:        c, status: StatusQueued, since: now, created: now,
		start: pol.start, expire: pol.expire,
	}
	if !pol.start.IsZero() {
		t.status = StatusScheduled
	}
	s.tasks[id] = t
	s.taskList = append(s.taskList, t)
	if pol.outBizNo != "" {
		s.dedupe[key] = id
	}
	rec.ID, rec.Accepted = id, true
	return map[string]string{"task_id": id}, nil
}

// dedupeKey scopes an out_biz_no to its app.
type dedupeKey struct {
	appKey, outBizNo string
}

// resolveAliasesLocked returns the tokens of appKey's devices bound to one of
// aliases under aliasType, in registration order. The caller holds s.mu.
func (s *Server) resolveAliasesLocked(appKey, aliasType string, aliases []string) []string {
	want := make(map[string]bool, len(aliases))
	for _, a := range aliases {
		want[a] = true
	}
	var tokens []string
	for _, d := range s.devicesLocked(appKey) {
		if a, ok := d.Aliases[aliasType]; ok && want[a] {
			tokens = append(tokens, d.Token)
		}
	}
	return tokens
}

// uniq returns list without repeats, first occurrences kept in order.
func uniq(list []string) []string {
	seen := make(map[string]bool, len(list))
	out := make([]string, 0, len(list))
	for _, v := range list {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}
