package sqlstore

import "github.com/tuisong/push/registry"

// ReadQueries returns the statements of registry.Reads with arguments for
// user, for tests that EXPLAIN them.
func (s *Store) ReadQueries(user string) []HotQuery {
	var out []HotQuery
	add := func(name, index, query string, args []any) {
		out = append(out, HotQuery{Name: name, Index: index, SQL: s.dialect.rebind(query), Args: args})
	}
	add("list user devices", "ix_sys_user_devices_user_num_state", s.userDevicesQuery(), []any{user})
	q, args := s.pushMessagesQuery(registry.PushMessageQuery{UserNum: user}, 20)
	add("list a user's pushes", "ux_sys_push_message_users_user_num", q, args)
	q, args = s.pushMessagesQuery(registry.PushMessageQuery{UserNum: user, BeforeID: 50, State: registry.PushStatePartial,
		Since: s.now().AddDate(-1, 0, 0), Until: s.now()}, 20)
	add("page a user's pushes by state and time", "ux_sys_push_message_users_user_num", q, args)
	add("is a push the user's", "ux_sys_push_message_users_user_num", pushMessageUserQuery, []any{user, 1})
	return out
}
