package serverenv

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/tuisong/push/registry/sqlstore"
)

// WarnSpacedUserNums logs the links another program wrote with spaces
// around a user_num (sqlstore.Store.SpacedUserNums), which the Store does
// not take for the trimmed user's: that user's pushes miss the device. It
// reads the links whole, within SpacedUserNumsTimeout; examples/server runs
// it beside the server at start-up, pushctl migrate after migrating. A
// ctx cancelled meanwhile (a shutdown) ends it without a word.
func WarnSpacedUserNums(ctx context.Context, log *slog.Logger, st *sqlstore.Store) {
	ctx, cancel := context.WithTimeout(ctx, SpacedUserNumsTimeout)
	defer cancel()
	users, err := st.SpacedUserNums(ctx)
	switch {
	case err != nil:
		if ctx.Err() == nil || errors.Is(ctx.Err(), context.DeadlineExceeded) {
			log.Warn("could not count the links with spaces around a user_num", slog.String("error", err.Error()))
		}
	case users > 0:
		log.Warn("links another program wrote have spaces around a user_num: such a link is no user's, and the pushes "+
			"of the user it names miss its device; trim them, and make that program write them trimmed "+
			"(README: Adopting a database an older system wrote)",
			slog.Int64("user_nums", users),
			slog.String("find", "SELECT id, user_num FROM sys_user_devices WHERE user_num <> TRIM(user_num)"))
	}
}

// SpacedUserNumsTimeout bounds WarnSpacedUserNums.
var SpacedUserNumsTimeout = time.Minute
