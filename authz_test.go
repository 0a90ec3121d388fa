package push_test

import (
	"encoding/json"
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
	h, err := push.NewHandler(push.HandlerConfig{Service: f.svc, Authenticate: authenticate, Authorize: authorize})
	require.NoError(t, err)
	w.h = h
	return w
}

// TestAuthorizationMatrix runs every endpoint under every kind of caller,
// each cell on a fresh store, and checks the status, the error code, and
// that a refused request wrote nothing and sent nothing.
//
// Known gap, asserted as today's behaviour: GET query/push_message asks the
// Authorizer with ActionQueryPush and an empty user, so a host cannot tell
// whose push message is asked for; any authenticated caller reads the
// status of any push message ID ("u1 asks for u2's push id" answers 200).
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
				case "query push_message":
					assert.True(t, reflect.DeepEqual(before, after), "a query writes nothing")
				}
				switch row.endpoint + "/" + col {
				case "register device/another user's device":
					l, err := w.f.store.GetUserDevice(t.Context(), w.link2)
					require.NoError(t, err)
					assert.False(t, l.Active, "u2 no longer receives pushes on d2")
				case "query push_message/another user's id":
					assert.EqualValues(t, w.pushID2, m["push_message_id"], "u1 reads u2's push status")
				}
			})
		}
	}
}
