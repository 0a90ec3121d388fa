package getuitest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"
)

// task is a push the fake has taken: a single push, a list task or an app
// (all, tag) task.
type task struct {
	id        string
	appID     string
	prefix    string
	dto       *pushDTO
	created   time.Time
	stopped   bool
	targets   int
	delivered map[string]string // cid → status answered
	report    *Report
}

// Report is what GET /report/push/task answers in data.{taskid}.total,
// Getui's counts in the order its doc lists them: deliverable (可下发数),
// dispatched (下发数), received, displayed, clicked.
type Report struct {
	MsgNum     int `json:"msg_num"`     // devices the task can be delivered to
	TargetNum  int `json:"target_num"`  // devices it was dispatched to so far
	ReceiveNum int `json:"receive_num"` // devices that received it
	DisplayNum int `json:"display_num"`
	ClickNum   int `json:"click_num"`
}

// SetReport makes the task report of taskid answer r from now on, to move
// a task along in a test. It fails for a taskid the fake did not issue.
func (s *Server) SetReport(taskID string, r Report) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tasks[taskID]
	if !ok {
		return ErrInvalidArgument
	}
	t.report = &r
	return nil
}

// auth checks {sign, timestamp, appkey} and issues a token.
func (s *Server) auth(app App, body []byte, rec *Request) response {
	if s.cfg.AuthRateLimit > 0 && !s.countRate(s.authLog, app.AppID, s.cfg.AuthRateLimit) {
		return failure(refuse(statusForCode(CodeAuthRate), CodeAuthRate, "auth over %d calls a minute", s.cfg.AuthRateLimit))
	}
	o, rf := decodeObject(body)
	if rf != nil {
		return failure(rf)
	}
	if rf := onlyKeys("body", o, "sign", "timestamp", "appkey"); rf != nil {
		return failure(rf)
	}
	ts := ""
	switch v := o["timestamp"].(type) {
	case string:
		ts = v
	case json.Number:
		ts = v.String()
	}
	ms, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(ts) != 13 {
		return failure(bad("timestamp must be 13 digits of milliseconds"))
	}
	if d := s.now().Sub(time.UnixMilli(ms)); d > s.cfg.TimestampWindow || d < -s.cfg.TimestampWindow {
		return failure(bad("timestamp is more than %v away from the server's clock", s.cfg.TimestampWindow))
	}
	if stringOf(o["appkey"]) != app.AppKey {
		return failure(bad("appkey is invalid"))
	}
	sum := sha256.Sum256([]byte(app.AppKey + ts + app.MasterSecret))
	if stringOf(o["sign"]) != hex.EncodeToString(sum[:]) {
		return failure(bad("sign is invalid"))
	}
	s.mu.Lock()
	token := s.newIDLocked("")
	expires := s.now().Add(s.cfg.TokenLifetime)
	s.tokens[token] = issuedToken{appID: app.AppID, expires: expires}
	s.mu.Unlock()
	rec.Accepted = true
	return success(map[string]string{"expire_time": strconv.FormatInt(expires.UnixMilli(), 10), "token": token})
}

// push runs one of the push APIs.
func (s *Server) push(app App, api string, body []byte, rec *Request) response {
	o, rf := decodeObject(body)
	if rf != nil {
		return failure(rf)
	}
	switch api {
	case apiListCID, apiListAlias:
		return s.listPush(app, api, o, rec)
	case apiBatchCID:
		return s.batchPush(app, o, rec)
	}
	mode := map[string]audienceMode{apiSingleCID: audOneCID, apiSingleAlias: audOneAlias,
		apiListMessage: audNone, apiAll: audAll, apiTag: audTag}[api]
	d, rf := s.checkPushDTO(o, mode)
	if rf != nil {
		return failure(rf)
	}
	rec.RequestID, rec.CIDs, rec.Aliases = d.requestID, d.cids, d.aliases
	rec.PushChannel, _ = o["push_channel"].(object) // copied whenever it is read (Request.clone)
	s.mu.Lock()
	defer s.mu.Unlock()
	key := app.AppID + "/" + d.requestID
	if first, seen := s.requestIDs[key]; seen {
		// Getui drops a repeated request_id: nothing is delivered again.
		// What it answers is unconfirmed; the fake repeats its first
		// answer, or refuses it (Config.DropRepeatedRequestID).
		rec.Duplicate = true
		if s.cfg.DropRepeatedRequestID {
			return failure(bad("request_id cannot be repeat."))
		}
		rec.Accepted = true
		return first
	}
	var resp response
	switch mode {
	case audOneCID:
		cid := d.cids[0]
		if s.deadLocked(app.AppID, cid) {
			return failure(bad("target user is invalid"))
		}
		t := s.newTaskLocked(app, prefixSingle, d)
		t.targets = 1
		resp = success(map[string]map[string]string{t.id: {cid: s.deliverLocked(t, cid, "")}})
		rec.TaskID = t.id
	case audOneAlias:
		cids := s.cidsOfAliasLocked(app.AppID, d.aliases[0])
		if len(cids) == 0 {
			return failure(bad("target user is invalid: alias %q is bound to no cid", d.aliases[0]))
		}
		t := s.newTaskLocked(app, prefixSingle, d)
		res := map[string]string{}
		for _, cid := range cids {
			t.targets++
			res[cid] = s.deliverLocked(t, cid, "")
		}
		resp = success(map[string]map[string]string{t.id: res})
		rec.TaskID = t.id
	case audNone:
		t := s.newTaskLocked(app, prefixList, d)
		resp = success(map[string]string{"taskid": t.id})
		rec.TaskID = t.id
	default:
		if rf := s.countTaskLocked(app.AppID, api); rf != nil {
			return failure(rf)
		}
		t := s.newTaskLocked(app, prefixApp, d)
		for _, dev := range s.matchLocked(app.AppID, d) {
			t.targets++
			s.deliverLocked(t, dev.CID, dev.Platform)
		}
		resp = success(map[string]string{"taskid": t.id})
		rec.TaskID = t.id
	}
	s.requestIDs[key] = resp
	rec.Accepted = true
	return resp
}

// listPush sends a list task to cids or aliases.
// noRepeats refuses a list push that names a target twice, as Getui does
// (20001 "contains duplicate {param}": its code table's "数据重复，一般是
// cid/alias重复").
func noRepeats(param string, targets []string) *refusal {
	seen := make(map[string]bool, len(targets))
	for _, t := range targets {
		if seen[t] {
			return bad("contains duplicate %s", param)
		}
		seen[t] = true
	}
	return nil
}

func (s *Server) listPush(app App, api string, o object, rec *Request) response {
	if rf := onlyKeys("body", o, "audience", "taskid", "is_async"); rf != nil {
		return failure(rf)
	}
	taskID, _, rf := str(o, "taskid")
	if rf != nil || taskID == "" {
		return failure(bad("taskid is required"))
	}
	rec.TaskID = taskID
	if v, ok := o["is_async"]; ok {
		if _, isBool := v.(bool); !isBool {
			return failure(bad("is_async must be a boolean"))
		}
	}
	a, ok := o["audience"].(object)
	if !ok {
		return failure(bad("audience is required and must be an object"))
	}
	var targets []string
	if api == apiListCID {
		if rf := onlyKeys("audience", a, "cid"); rf != nil {
			return failure(rf)
		}
		if targets, rf = stringList("audience.cid", a["cid"], 200); rf != nil {
			return failure(rf)
		}
		if rf := noRepeats("cid", targets); rf != nil {
			return failure(rf)
		}
		if rf := s.checkCIDs(targets); rf != nil {
			return failure(rf)
		}
		rec.CIDs = targets
	} else {
		if rf := onlyKeys("audience", a, "alias"); rf != nil {
			return failure(rf)
		}
		if targets, rf = stringList("audience.alias", a["alias"], 200); rf != nil {
			return failure(rf)
		}
		if rf := noRepeats("alias", targets); rf != nil {
			return failure(rf)
		}
		rec.Aliases = targets
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tasks[taskID]
	switch {
	case !ok || t.appID != app.AppID || t.prefix != prefixList:
		return failure(bad("taskid %q is not a list task of the app", taskID))
	case t.stopped:
		return failure(bad("task %q is stopped", taskID))
	}
	cids := targets
	if api == apiListAlias {
		cids = nil
		for _, al := range targets {
			cids = append(cids, s.cidsOfAliasLocked(app.AppID, al)...)
		}
	}
	res := map[string]string{}
	for _, cid := range cids {
		if st, done := t.delivered[cid]; done {
			res[cid] = st
			continue
		}
		t.targets++
		res[cid] = s.deliverLocked(t, cid, "")
	}
	rec.Accepted = true
	return success(map[string]map[string]string{taskID: res})
}

// batchPush runs /push/single/batch/cid: {is_async, msg_list: [PushDTO of
// one cid] (1 to 200)}.
func (s *Server) batchPush(app App, o object, rec *Request) response {
	if rf := onlyKeys("body", o, "is_async", "msg_list"); rf != nil {
		return failure(rf)
	}
	list, ok := o["msg_list"].([]any)
	if !ok || len(list) == 0 || len(list) > 200 {
		return failure(bad("msg_list must be an array of 1 to 200 pushes"))
	}
	dtos := make([]*pushDTO, len(list))
	for i, e := range list {
		m, isObj := e.(object)
		if !isObj {
			return failure(bad("msg_list[%d] must be an object", i))
		}
		d, rf := s.checkPushDTO(m, audOneCID)
		if rf != nil {
			return failure(rf)
		}
		dtos[i] = d
		rec.CIDs = append(rec.CIDs, d.cids[0])
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]map[string]string{}
	for _, d := range dtos {
		key := app.AppID + "/" + d.requestID
		if _, seen := s.requestIDs[key]; seen {
			continue
		}
		t := s.newTaskLocked(app, prefixSingle, d)
		cid := d.cids[0]
		st := "target user is invalid"
		if !s.deadLocked(app.AppID, cid) {
			t.targets = 1
			st = s.deliverLocked(t, cid, "")
		}
		out[t.id] = map[string]string{cid: st}
		s.requestIDs[key] = success(map[string]map[string]string{t.id: {cid: st}})
	}
	rec.Accepted = true
	return success(out)
}

// deadLocked reports whether cid of app appID receives nothing: marked
// invalid, or (KnownDevicesOnly) never added.
func (s *Server) deadLocked(appID, cid string) bool {
	if s.invalid[cid] {
		return true
	}
	_, known := s.devices[appID][cid]
	return s.cfg.KnownDevicesOnly && !known
}

// statusIgnored is Getui's per-cid status for a device inactive for 90
// days: not sent.
const statusIgnored = "successed_ignore"

// statusOnline and statusOffline are the per-cid statuses of a device the
// push was dispatched to while it was online, and one that was offline.
const (
	statusOnline  = "successed_online"
	statusOffline = "successed_offline"
)

func (s *Server) newTaskLocked(app App, prefix string, d *pushDTO) *task {
	t := &task{id: s.newIDLocked(prefix), appID: app.AppID, prefix: prefix, dto: d, created: s.now(), delivered: map[string]string{}}
	s.tasks[t.id] = t
	return t
}

// deliverLocked delivers t's message to cid and returns the per-cid
// status: "target user is invalid" for a cid marked invalid,
// "successed_ignore" for a cid marked inactive (nothing delivered),
// "successed_online" for a cid added with AddDevice, "successed_offline"
// for any other.
func (s *Server) deliverLocked(t *task, cid, platform string) string {
	if s.deadLocked(t.appID, cid) {
		t.delivered[cid] = "target user is invalid"
		return t.delivered[cid]
	}
	if s.inactive[cid] {
		t.delivered[cid] = statusIgnored
		return t.delivered[cid]
	}
	status := statusOffline
	if dev, known := s.devices[t.appID][cid]; known {
		status = statusOnline
		if platform == "" {
			platform = dev.Platform
		}
	}
	d := t.dto
	if platform == "" {
		platform = "android"
		if d.ios != nil {
			platform = "ios"
		}
	}
	dl := Delivery{AppID: t.appID, CID: cid, TaskID: t.id, RequestID: d.requestID, Platform: platform,
		Transmission: d.transmission, At: s.now()}
	if d.notification != nil {
		dl.Title, dl.Body, dl.Payload = stringOf(d.notification["title"]), stringOf(d.notification["body"]), stringOf(d.notification["payload"])
	}
	if d.ios != nil {
		if aps, ok := d.ios["aps"].(object); ok {
			if al, ok := aps["alert"].(object); ok && dl.Title == "" && dl.Body == "" {
				dl.Title, dl.Body = stringOf(al["title"]), stringOf(al["body"])
			}
		}
		if dl.Payload == "" {
			dl.Payload = stringOf(d.ios["payload"])
		}
	}
	s.deliveries = append(s.deliveries, dl)
	s.forgetDeliveriesLocked()
	t.delivered[cid] = status
	return status
}

func (s *Server) cidsOfAliasLocked(appID, alias string) []string {
	var out []string
	for _, cid := range sortedCIDs(s.devices[appID]) {
		if s.devices[appID][cid].Alias == alias {
			out = append(out, cid)
		}
	}
	return out
}

func sortedCIDs(m map[string]Device) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// matchLocked returns the devices an all or tag push reaches. Conditions
// are combined in order: "or" and "and" intersect the devices matching
// any of their values with the result so far, "not" removes them. Keys
// the fake knows are phone_type and custom_tag; any other key matches no
// device.
func (s *Server) matchLocked(appID string, d *pushDTO) []Device {
	var out []Device
	for _, cid := range sortedCIDs(s.devices[appID]) {
		dev := s.devices[appID][cid]
		if d.all || matches(dev, d.tags) {
			out = append(out, dev)
		}
	}
	return out
}

func matches(dev Device, conds []tagCondition) bool {
	for _, c := range conds {
		hit := false
		for _, v := range c.values {
			switch c.key {
			case "phone_type":
				hit = hit || strings.EqualFold(dev.Platform, v)
			case "custom_tag":
				hit = hit || slices.Contains(dev.Tags, v)
			}
		}
		if hit == (c.optType == "not") {
			return false
		}
	}
	return true
}

// report answers GET /report/push/task/{taskid}.
func (s *Server) report(app App, id string, rec *Request) response {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tasks[id]
	switch {
	case !ok || t.appID != app.AppID:
		return failure(bad("taskid %q is invalid", id))
	case t.prefix == prefixSingle:
		return failure(bad("taskid %q is a single push; reports cover tasks only", id))
	}
	// Every target is deliverable; the fake dispatches to a device when
	// it delivers to it. An online device has received it; an offline one
	// has not yet (Getui counts it when the device comes online, which a
	// device of the fake never does unless SetReport says so).
	r := Report{MsgNum: t.targets}
	for _, st := range t.delivered {
		if strings.HasPrefix(st, "successed") && st != statusIgnored {
			r.TargetNum++
			if st == statusOnline {
				r.ReceiveNum++
			}
		}
	}
	if t.report != nil {
		r = *t.report
	}
	rec.Accepted = true
	return success(map[string]any{id: map[string]any{"total": r}})
}

// stop answers DELETE /task/{taskid}.
func (s *Server) stop(app App, id string, rec *Request) response {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tasks[id]
	switch {
	case !ok || t.appID != app.AppID:
		return failure(bad("taskid %q is invalid", id))
	case t.prefix == prefixSingle:
		return failure(bad("taskid %q is a single push; only tasks can be stopped", id))
	case t.stopped:
		return failure(bad("task %q is already stopped", id))
	}
	t.stopped = true
	rec.Accepted = true
	return success(nil)
}

// Stopped reports whether task taskID was stopped with DELETE /task.
func (s *Server) Stopped(taskID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tasks[taskID]
	return ok && t.stopped
}

// taskDay counts an app's pushes to all and to a tag on one day.
type taskDay struct {
	day string // YYYY-MM-DD in China Standard Time
	n   int
}

// cst is China Standard Time, the zone of Getui's days.
var cst = time.FixedZone("CST", 8*3600)

// countTaskLocked counts a push to all or to a tag of appID, or returns
// the refusal of one over Config.TaskMinuteLimit or Config.TaskDailyLimit.
// s.mu is held.
func (s *Server) countTaskLocked(appID, api string) *refusal {
	now := s.now()
	var recent []time.Time
	if s.cfg.TaskMinuteLimit > 0 {
		for _, at := range s.taskTimes[appID] {
			if now.Sub(at) < time.Minute {
				recent = append(recent, at)
			}
		}
		s.taskTimes[appID] = recent
		if len(recent) >= s.cfg.TaskMinuteLimit {
			return refuse(statusForCode(CodeTaskMinute), CodeTaskMinute, "pushes to all and to a tag over %d a minute", s.cfg.TaskMinuteLimit)
		}
	}
	if s.cfg.TaskDailyLimit >= 0 {
		day := now.In(cst).Format(time.DateOnly)
		c := s.taskDays[appID]
		if c.day != day {
			c = taskDay{day: day}
		}
		if c.n >= s.cfg.TaskDailyLimit {
			code := CodeTagDailyQuota
			if api == apiAll {
				code = CodeAllDailyQuota
			}
			return refuse(statusForCode(code), code, "pushes to all and to a tag over %d today", s.cfg.TaskDailyLimit)
		}
		c.n++
		s.taskDays[appID] = c
	}
	if s.cfg.TaskMinuteLimit > 0 {
		s.taskTimes[appID] = append(recent, now)
	}
	return nil
}
