package serverenv

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/tuisong/push/registry/sqlstore"
)

// WarnSpacedKeys logs the rows another program wrote with spaces around
// a push token or a user_num (sqlstore.Store.SpacedKeys), which the
// Store does not take for the same phone or user as the trimmed value:
// an older row's user may be shown the pushes of a phone's newer one. It
// reads two tables whole, within SpacedKeysTimeout; examples/server runs
// it beside the server at start-up, pushctl migrate after migrating. A
// ctx cancelled meanwhile (a shutdown) ends it without a word.
func WarnSpacedKeys(ctx context.Context, log *slog.Logger, st *sqlstore.Store) {
	ctx, cancel := context.WithTimeout(ctx, SpacedKeysTimeout)
	defer cancel()
	tokens, users, err := st.SpacedKeys(ctx)
	switch {
	case err != nil:
		if ctx.Err() == nil || errors.Is(ctx.Err(), context.DeadlineExceeded) {
			log.Warn("could not count the rows with spaces around a push token or a user_num", slog.String("error", err.Error()))
		}
	case tokens > 0 || users > 0:
		log.Warn("rows another program wrote have spaces around a push token or a user_num: a token so is not taken for the same phone "+
			"as another row's, whose older user may then be shown the newer one's pushes, and a user_num so is no user's; "+
			"trim them, and make that program write them trimmed (README: Adopting a database an older system wrote)",
			slog.Int64("tokens", tokens), slog.Int64("user_nums", users),
			slog.String("find", "SELECT id FROM sys_devices WHERE push_device_token <> TRIM(push_device_token); "+
				"SELECT id FROM sys_user_devices WHERE user_num <> TRIM(user_num)"))
	}
}

// SpacedKeysTimeout bounds WarnSpacedKeys.
var SpacedKeysTimeout = time.Minute
