package push_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/provider/providertest"
)

// Tokens of the identity matrix: one that identifies no user (a backend
// acting for every user), and one whose identification fails.
const (
	adminToken  = "Bearer admin-token"
	brokenToken = "Bearer broken-token"
)

// bearerUsers maps each bearer token of the authorization matrix to the
// one user it may act for.
var bearerUsers = map[string]string{"Bearer u1-token": "u1", "Bearer u2-token": "u2"}

// authzWorld is the state each cell of the matrix starts from: users u1
// and u2, each with a device, a link and a push message.
type authzWorld struct {
	f                *fixture
	h                http.Handler
	link1, link2     int64
	pushID1, pushID2 int64
}

func newAuthzWorld(t *testing.T) *authzWorld {
	return newWorld(t, false)
}

// newWorld makes the world of a matrix cell; with identity, the handler
// identifies callers by their bearer token (Identify) instead of asking an
// Authorizer: "Bearer admin-token" identifies no user, and Identify fails
// for "Bearer broken-token".
func newWorld(t *testing.T, identity bool) *authzWorld {
	t.Helper()
	f := newFixture(t, providertest.MockConfig{}, nil)
	w := &authzWorld{f: f}
	w.link1 = f.register(t, "u1", "d1", "ios", "t1").UserDeviceID
	w.link2 = f.register(t, "u2", "d2", "android", "t2").UserDeviceID
	for _, u := range []string{"u1", "u2"} {
		res, err := f.svc.Push(t.Context(), push.Message{UserNums: []string{u}, Title: "t", Content: "c"})
		require.NoError(t, err)
		if u == "u1" {
			w.pushID1 = res.PushMessageID
		} else {
			w.pushID2 = res.PushMessageID
		}
	}
	// As the example server does: Authenticate checks the bearer token
	// before anything is read; Authorize lets a token act for its own user
	// only.
	authenticate := func(r *http.Request) error {
		if _, ok := bearerUsers[r.Header.Get("Authorization")]; !ok {
			return push.ErrUnauthenticated
		}
		return nil
	}
	authorize := func(r *http.Request, a push.Action, user string) error {
		caller, ok := bearerUsers[r.Header.Get("Authorization")]
		switch {
		case !ok:
			return push.ErrUnauthenticated
		case a == push.ActionQueryPush:
			// The Authorizer is given no user for a query: the push
			// message's recipients are not known to it. See the gap
			// documented on the matrix below.
			return nil
		case user != caller:
			return fmt.Errorf("%s may not act for %s", caller, user)
		}
		return nil
	}
	cfg := push.HandlerConfig{Service: f.svc, Authenticate: authenticate, Authorize: authorize}
	if identity {
		cfg.Authorize = nil
		cfg.Authenticate = func(r *http.Request) error {
			switch r.Header.Get("Authorization") {
			case adminToken, brokenToken:
				return nil
			}
			return authenticate(r)
		}
		cfg.Identify = func(r *http.Request) (string, bool, error) {
			switch a := r.Header.Get("Authorization"); a {
			case adminToken:
				return "", false, nil
			case brokenToken:
				return "", false, errors.New("session store down")
			default:
				u, ok := bearerUsers[a]
				if !ok {
					return "", false, push.ErrUnauthenticated
				}
				return u, true, nil
			}
		}
	}
	h, err := push.NewHandler(cfg)
	require.NoError(t, err)
	w.h = h
	return w
}

// TestAuthorizationMatrix runs every endpoint under every kind of caller,
// each cell on a fresh store, and checks the status, the error code, and
// that a refused request wrote nothing and sent nothing.
//
// Known gap of an Authorizer alone, asserted as today's behaviour: GET
// query/push_message asks the Authorizer with ActionQueryPush and an empty
// user, so a host cannot tell whose push message is asked for; any
// authenticated caller reads the status of any push message ID ("u1 asks
// for u2's push id" answers 200). HandlerConfig.Identify closes it: see
// TestIdentityMatrix.
// Registering another user's device UUID is allowed by design (the
// product brief's one-active-user rule: the device now belongs to the user
// who registered on it) and moves that device to the caller.
func TestAuthorizationMatrix(t *testing.T) {
	const (
		none  = ""
		wrong = "Bearer not-a-token"
		u1    = "Bearer u1-token"
	)
	type request struct {
		method, target, body string
	}
	type cell struct {
		caller string
		req    func(w *authzWorld) request
		status int
		code   string
	}
	device := func(user, uuid string) func(*authzWorld) request {
		return func(*authzWorld) request {
			return request{"POST", push.PathDevice, mustJSON(map[string]any{"user_num": user, "uuid": uuid, "push_token": "t9", "platform": "android"})}
		}
	}
	pushTo := func(users ...string) func(*authzWorld) request {
		return func(*authzWorld) request {
			return request{"POST", push.PathPushMessage, mustJSON(map[string]any{"user_nums": users, "title": "t", "content": "c"})}
		}
	}
	query := func(id func(*authzWorld) int64) func(*authzWorld) request {
		return func(w *authzWorld) request {
			return request{"GET", fmt.Sprintf("%s?push_message_id=%d&user_num=u1", push.PathQueryPush, id(w)), ""}
		}
	}
	logout := func(user string, link func(*authzWorld) int64) func(*authzWorld) request {
		return func(w *authzWorld) request {
			return request{"POST", push.PathLogout, mustJSON(map[string]any{"user_num": user, "user_device_id": link(w)})}
		}
	}
	pushID1 := func(w *authzWorld) int64 { return w.pushID1 }
	pushID2 := func(w *authzWorld) int64 { return w.pushID2 }
	link1 := func(w *authzWorld) int64 { return w.link1 }
	link2 := func(w *authzWorld) int64 { return w.link2 }
	unknown := func(*authzWorld) request { return request{"GET", "/api/v1.1/nothing", ""} }
	devices := func(query string) func(*authzWorld) request {
		return func(*authzWorld) request { return request{"GET", push.PathUserDevices + query, ""} }
	}
	pushes := func(query string) func(*authzWorld) request {
		return func(*authzWorld) request { return request{"GET", push.PathQueryPushes + query, ""} }
	}

	// Columns: no credentials, wrong credentials, another user's user_num,
	// another user's user_device_id / push message ID, the right user.
	matrix := []struct {
		endpoint string
		cells    map[string]cell
	}{
		{"register device", map[string]cell{
			"no credentials":        {none, device("u1", "d9"), 401, "unauthenticated"},
			"wrong credentials":     {wrong, device("u1", "d9"), 401, "unauthenticated"},
			"another user's num":    {u1, device("u2", "d9"), 403, "forbidden"},
			"another user's device": {u1, device("u1", "d2"), 200, ""}, // by design, see above
			"right user":            {u1, device("u1", "d9"), 200, ""},
		}},
		{"push_message", map[string]cell{
			"no credentials":     {none, pushTo("u1"), 401, "unauthenticated"},
			"wrong credentials":  {wrong, pushTo("u1"), 401, "unauthenticated"},
			"another user's num": {u1, pushTo("u2"), 403, "forbidden"},
			// Another user among the caller's own: refused whole.
			"another user's id": {u1, pushTo("u1", "u2"), 403, "forbidden"},
			"right user":        {u1, pushTo("u1"), 200, ""},
		}},
		{"query push_message", map[string]cell{
			"no credentials":    {none, query(pushID1), 401, "unauthenticated"},
			"wrong credentials": {wrong, query(pushID1), 401, "unauthenticated"},
			// The query takes no user_num: one sent is ignored.
			"another user's num": {u1, func(w *authzWorld) request {
				return request{"GET", fmt.Sprintf("%s?push_message_id=%d&user_num=u2", push.PathQueryPush, w.pushID1), ""}
			}, 200, ""},
			// GAP: u1 reads the status of u2's push message. The
			// Authorizer gets no user for ActionQueryPush, so it
			// cannot refuse; see the test's comment.
			"another user's id": {u1, query(pushID2), 200, ""},
			"right user":        {u1, query(pushID1), 200, ""},
		}},
		{"logout", map[string]cell{
			"no credentials":     {none, logout("u1", link1), 401, "unauthenticated"},
			"wrong credentials":  {wrong, logout("u1", link1), 401, "unauthenticated"},
			"another user's num": {u1, logout("u2", link2), 403, "forbidden"},
			"another user's id":  {u1, logout("u1", link2), 403, "not_owner"},
			"right user":         {u1, logout("u1", link1), 200, ""},
		}},
		{"list devices", map[string]cell{
			"no credentials":     {none, devices("?user_num=u1"), 401, "unauthenticated"},
			"wrong credentials":  {wrong, devices("?user_num=u1"), 401, "unauthenticated"},
			"another user's num": {u1, devices("?user_num=u2"), 403, "forbidden"},
			"right user":         {u1, devices("?user_num=u1"), 200, ""},
		}},
		{"list pushes", map[string]cell{
			"no credentials":     {none, pushes("?user_num=u1"), 401, "unauthenticated"},
			"wrong credentials":  {wrong, pushes("?user_num=u1"), 401, "unauthenticated"},
			"another user's num": {u1, pushes("?user_num=u2"), 403, "forbidden"},
			// Without user_num every push is listed: the Authorizer is
			// asked with an empty user, which a user's token is not.
			"another user's id": {u1, pushes(""), 403, "forbidden"},
			"right user":        {u1, pushes("?user_num=u1"), 200, ""},
		}},
		{"unknown path", map[string]cell{
			"no credentials":    {none, unknown, 401, "unauthenticated"},
			"wrong credentials": {wrong, unknown, 401, "unauthenticated"},
			"right user":        {u1, unknown, 404, "not_found"},
		}},
	}
	columns := []string{"no credentials", "wrong credentials", "another user's num", "another user's device", "another user's id", "right user"}
	for _, row := range matrix {
		for _, col := range columns {
			c, ok := row.cells[col]
			if !ok {
				continue
			}
			t.Run(row.endpoint+"/"+col, func(t *testing.T) {
				w := newAuthzWorld(t)
				r := c.req(w)
				before, calls := readState(t, w.f.store), w.f.mock.Calls()
				req := httptest.NewRequest(r.method, r.target, strings.NewReader(r.body))
				if r.body != "" {
					req.Header.Set("Content-Type", "application/json")
				}
				if c.caller != "" {
					req.Header.Set("Authorization", c.caller)
				}
				rec := httptest.NewRecorder()
				w.h.ServeHTTP(rec, req)
				require.Equal(t, c.status, rec.Code, rec.Body.String())
				var m map[string]any
				require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &m))
				assert.Equal(t, c.code, reply{rec.Code, m}.errCode())
				after := readState(t, w.f.store)
				if c.status != http.StatusOK {
					assert.True(t, reflect.DeepEqual(before, after), "a refusal wrote to the store:\nbefore %+v\nafter  %+v", before, after)
					assert.Equal(t, calls, w.f.mock.Calls(), "a refusal sent a push")
					return
				}
				switch row.endpoint {
				case "register device", "push_message", "logout":
					assert.False(t, reflect.DeepEqual(before, after), "the allowed request was carried out")
				case "query push_message", "list devices", "list pushes":
					assert.True(t, reflect.DeepEqual(before, after), "a query writes nothing")
				}
				switch row.endpoint + "/" + col {
				case "register device/another user's device":
					l, err := w.f.store.GetUserDevice(t.Context(), w.link2)
					require.NoError(t, err)
					assert.False(t, l.Active, "u2 no longer receives pushes on d2")
				case "query push_message/another user's id":
					assert.EqualValues(t, w.pushID2, m["push_message_id"], "u1 reads u2's push status")
				case "list devices/right user":
					assert.Len(t, m["devices"], 1)
				case "list pushes/right user":
					require.Len(t, m["push_messages"], 1)
					assert.EqualValues(t, w.pushID1, m["push_messages"].([]any)[0].(map[string]any)["push_message_id"])
				}
			})
		}
	}
}

// TestIdentityMatrix runs every endpoint under a handler whose Identify
// maps bearer tokens to users, with no Authorizer: an identified caller
// acts for itself only, a user_num it leaves out is its own, another
// user's push is not found, and the listings list its own rows only. A
// refusal writes nothing and sends nothing. A token that identifies no
// user (the backend's) acts for anybody; a failing Identify is a 401.
func TestIdentityMatrix(t *testing.T) {
	const u1 = "Bearer u1-token"
	type request struct {
		method, target, body string
	}
	post := func(path string, v map[string]any) func(*authzWorld) request {
		return func(*authzWorld) request { return request{"POST", path, mustJSON(v)} }
	}
	get := func(target func(*authzWorld) string) func(*authzWorld) request {
		return func(w *authzWorld) request { return request{"GET", target(w), ""} }
	}
	query := func(id func(*authzWorld) int64) func(*authzWorld) request {
		return get(func(w *authzWorld) string { return fmt.Sprintf("%s?push_message_id=%d", push.PathQueryPush, id(w)) })
	}
	path := func(p string) func(*authzWorld) string { return func(*authzWorld) string { return p } }
	logout := func(v map[string]any, link func(*authzWorld) int64) func(*authzWorld) request {
		return func(w *authzWorld) request {
			v["user_device_id"] = link(w)
			return request{"POST", push.PathLogout, mustJSON(v)}
		}
	}
	pushID1 := func(w *authzWorld) int64 { return w.pushID1 }
	pushID2 := func(w *authzWorld) int64 { return w.pushID2 }
	link1 := func(w *authzWorld) int64 { return w.link1 }
	link2 := func(w *authzWorld) int64 { return w.link2 }
	device := func(v map[string]any) map[string]any {
		v["uuid"], v["push_token"], v["platform"] = "d9", "t9", "android"
		return v
	}
	for _, c := range []struct {
		name   string
		caller string
		req    func(*authzWorld) request
		status int
		code   string
		// check, for a 200, looks at what the request did.
		check func(t *testing.T, w *authzWorld, body map[string]any)
	}{
		{"register device as another user", u1, post(push.PathDevice, device(map[string]any{"user_num": "u2"})), 403, "forbidden", nil},
		{"register device without user_num", u1, post(push.PathDevice, device(map[string]any{})), 200, "",
			func(t *testing.T, w *authzWorld, body map[string]any) {
				l, err := w.f.store.GetUserDevice(t.Context(), int64(body["user_device_id"].(float64)))
				require.NoError(t, err)
				assert.Equal(t, "u1", l.UserNum, "the caller's device")
			}},
		{"register device as the caller", u1, post(push.PathDevice, device(map[string]any{"user_num": " u1 "})), 200, "", nil},
		{"push to another user", u1, post(push.PathPushMessage, map[string]any{"user_num": "u2", "title": "t", "content": "c"}), 403, "forbidden", nil},
		{"push to the caller and another", u1, post(push.PathPushMessage, map[string]any{"user_nums": []string{"u1", "u2"}, "title": "t", "content": "c"}), 403, "forbidden", nil},
		{"push naming nobody", u1, post(push.PathPushMessage, map[string]any{"title": "t", "content": "c"}), 200, "",
			func(t *testing.T, w *authzWorld, body map[string]any) {
				reqs := w.f.mock.Requests()
				assert.Equal(t, []string{"t1"}, reqs[len(reqs)-1].Audience.Tokens, "pushed to the caller's device")
			}},
		{"push to the caller", u1, post(push.PathPushMessage, map[string]any{"user_num": "u1", "title": "t", "content": "c"}), 200, "", nil},
		{"query another user's push", u1, query(pushID2), 404, "not_found", nil},
		{"query an unknown push", u1, query(func(w *authzWorld) int64 { return w.pushID2 + 100 }), 404, "not_found", nil},
		{"query the caller's push", u1, query(pushID1), 200, "", nil},
		{"logout another user", u1, logout(map[string]any{"user_num": "u2"}, link2), 403, "forbidden", nil},
		{"logout another user's link", u1, logout(map[string]any{}, link2), 404, "not_found", nil},
		{"logout an unknown link", u1, logout(map[string]any{}, func(w *authzWorld) int64 { return w.link2 + 100 }), 404, "not_found", nil},
		{"logout without user_num", u1, logout(map[string]any{}, link1), 200, "",
			func(t *testing.T, w *authzWorld, _ map[string]any) {
				l, err := w.f.store.GetUserDevice(t.Context(), w.link1)
				require.NoError(t, err)
				assert.False(t, l.Active)
			}},
		{"list another user's devices", u1, get(path(push.PathUserDevices + "?user_num=u2")), 403, "forbidden", nil},
		{"list devices without user_num", u1, get(path(push.PathUserDevices)), 200, "",
			func(t *testing.T, w *authzWorld, body map[string]any) {
				assert.Equal(t, "u1", body["user_num"])
				require.Len(t, body["devices"], 1)
				assert.Equal(t, "d1", body["devices"].([]any)[0].(map[string]any)["device_uuid"])
			}},
		{"list another user's pushes", u1, get(path(push.PathQueryPushes + "?user_num=u2")), 403, "forbidden", nil},
		{"list pushes without user_num", u1, get(path(push.PathQueryPushes)), 200, "",
			func(t *testing.T, w *authzWorld, body map[string]any) {
				require.Len(t, body["push_messages"], 1, "the caller's pushes only")
				assert.EqualValues(t, w.pushID1, body["push_messages"].([]any)[0].(map[string]any)["push_message_id"])
			}},
		{"list the caller's pushes", u1, get(path(push.PathQueryPushes + "?user_num=u1&status=success")), 200, "", nil},
		{"backend queries any push", adminToken, query(pushID2), 200, "", nil},
		{"backend pushes to anybody", adminToken, post(push.PathPushMessage, map[string]any{"user_nums": []string{"u1", "u2"}, "title": "t", "content": "c"}), 200, "", nil},
		{"backend lists every push", adminToken, get(path(push.PathQueryPushes)), 200, "",
			func(t *testing.T, _ *authzWorld, body map[string]any) { assert.Len(t, body["push_messages"], 2) }},
		{"backend names no user", adminToken, get(path(push.PathUserDevices)), 400, "invalid_user_num", nil},
		{"identify fails: push", brokenToken, post(push.PathPushMessage, map[string]any{"user_num": "u1", "title": "t", "content": "c"}), 401, "unauthenticated", nil},
		{"identify fails: list", brokenToken, get(path(push.PathQueryPushes)), 401, "unauthenticated", nil},
		{"no credentials", "", get(path(push.PathUserDevices)), 401, "unauthenticated", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t, true)
			r := c.req(w)
			before, calls := readState(t, w.f.store), w.f.mock.Calls()
			req := httptest.NewRequest(r.method, r.target, strings.NewReader(r.body))
			if r.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			if c.caller != "" {
				req.Header.Set("Authorization", c.caller)
			}
			rec := httptest.NewRecorder()
			w.h.ServeHTTP(rec, req)
			require.Equal(t, c.status, rec.Code, rec.Body.String())
			var m map[string]any
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &m))
			assert.Equal(t, c.code, reply{rec.Code, m}.errCode())
			assert.NotContains(t, rec.Body.String(), "session store down", "Identify's error is not sent")
			if c.status != http.StatusOK {
				assert.True(t, reflect.DeepEqual(before, readState(t, w.f.store)), "a refusal wrote to the store")
				assert.Equal(t, calls, w.f.mock.Calls(), "a refusal sent a push")
				return
			}
			if c.check != nil {
				c.check(t, w, m)
			}
		})
	}
}
