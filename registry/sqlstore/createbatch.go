package sqlstore

import (
	"context"
	"slices"
)

// createSet writes the creates cs on q with statements for the whole
// batch. On PostgreSQL and SQLite it reserves the ids of the messages and
// of the deliveries first (reserveIDs) and inserts the messages, their
// tallies included, and the deliveries with explicit ids, each a
// multi-row INSERT per chunk of setChunks rows: no id is ever matched to
// a row by the order a database returns them in. MySQL has no INSERT …
// RETURNING and a multi-row INSERT's ids need not follow each other, so
// there the messages and deliveries are inserted one row at a time, and
// the tallies written by one UPDATE. The message users of the whole batch
// go in one INSERT (per listChunk rows) everywhere.
//
// Any error fails the batch as a whole (writeBatch writes each create
// again alone, which tells a duplicate dedupe or idempotency key from the
// others). On success every create is marked ran (see landed).
func (s *Store) createSet(ctx context.Context, q DBTX, cs []*createReq) error {
	reserve := s.dialect != DialectMySQL
	total := 0
	for _, c := range cs {
		c.ids = make([]int64, len(c.stored))
		total += len(c.stored)
	}
	if reserve {
		msgIDs, err := s.reserveIDs(ctx, q, "sys_push_messages", len(cs))
		if err != nil {
			return err
		}
		ids, err := s.reserveIDs(ctx, q, "sys_push_deliveries", total)
		if err != nil {
			return err
		}
		for i, c := range cs {
			c.msgID = msgIDs[i]
			n := copy(c.ids, ids)
			ids = ids[n:]
		}
		if err := s.insertMessages(ctx, q, cs); err != nil {
			return err
		}
	} else {
		for _, c := range cs {
			var err error
			if c.msgID, err = s.insert(ctx, q, "INSERT INTO sys_push_messages ("+messageInsertColumns+") VALUES ("+
				placeholders(messageInsertCount)+")", s.messageArgs(c)...); err != nil {
				return step("insert push message", err)
			}
		}
	}
	if err := s.insertDeliveries(ctx, q, cs, reserve); err != nil {
		return err
	}
	if err := s.insertBatchUsers(ctx, q, cs); err != nil {
		return err
	}
	for _, c := range cs {
		if c.m.Fanout != nil {
			if err := s.writeFanout(ctx, q, c.msgID, c.m.Fanout); err != nil {
				return err
			}
		}
	}
	if !reserve {
		if err := s.writeTallies(ctx, q, cs); err != nil {
			return err
		}
	}
	for _, c := range cs {
		c.ran = true
	}
	return nil
}

// reserveIDs draws n ids of table's id column, increasing, for rows the
// caller then inserts with them in the same transaction. On PostgreSQL
// they are drawn from the column's sequence; on SQLite, whose
// transaction holds the database's write lock, they follow the highest id
// the table has or had (AUTOINCREMENT's sqlite_sequence), and inserting
// them moves sqlite_sequence on. table is a table name of the Store's own
// SQL, never a value.
func (s *Store) reserveIDs(ctx context.Context, q DBTX, table string, n int) ([]int64, error) {
	if n == 0 {
		return nil, nil
	}
	if s.dialect == DialectPostgres {
		ids, err := s.queryIDs(ctx, q, "SELECT nextval(pg_get_serial_sequence('"+table+"', 'id')) FROM generate_series(1, ?)", n)
		if err != nil {
			return nil, step("reserve ids", err)
		}
		slices.Sort(ids)
		return ids, nil
	}
	var last int64
	if err := s.queryRow(ctx, q, "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = ?), 0), COALESCE((SELECT MAX(id) FROM "+
		table+"), 0))", table).Scan(&last); err != nil {
		return nil, step("reserve ids", err)
	}
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = last + 1 + int64(i)
	}
	return ids, nil
}

// insertMessages inserts the messages of cs with their reserved ids and
// their tallies.
func (s *Store) insertMessages(ctx context.Context, q DBTX, cs []*createReq) error {
	for _, chunk := range chunked(s, cs) {
		args := make([]any, 0, len(chunk)*(messageInsertCount+3))
		for _, c := range chunk {
			tallies, err := c.tallies()
			if err != nil {
				return err
			}
			args = append(args, c.msgID)
			args = append(args, s.messageArgs(c)...)
			args = append(args, tallies...)
		}
		if _, err := s.exec(ctx, q, "INSERT INTO sys_push_messages (id, "+messageInsertColumns+", ios_tally, android_tally) VALUES "+
			rowsValues(len(chunk), messageInsertCount+3), args...); err != nil {
			return step("insert push messages", err)
		}
	}
	return nil
}

// insertDeliveries inserts the deliveries of cs: with their reserved ids
// when reserve is set, in multi-row INSERTs; otherwise one at a time,
// setting their ids.
func (s *Store) insertDeliveries(ctx context.Context, q DBTX, cs []*createReq, reserve bool) error {
	type row struct {
		c *createReq
		i int
	}
	var rows []row
	for _, c := range cs {
		for i := range c.stored {
			rows = append(rows, row{c, i})
		}
	}
	if !reserve {
		for _, r := range rows {
			var err error
			if r.c.ids[r.i], err = s.insertDelivery(ctx, q, r.c.msgID, &r.c.stored[r.i], r.c.now); err != nil {
				return err
			}
		}
		return nil
	}
	for _, chunk := range chunked(s, rows) {
		args := make([]any, 0, len(chunk)*(deliveryInsertCount+1))
		for _, r := range chunk {
			args = append(args, r.c.ids[r.i])
			args = append(args, s.deliveryArgs(r.c.msgID, &r.c.stored[r.i], r.c.now)...)
		}
		if _, err := s.exec(ctx, q, "INSERT INTO sys_push_deliveries (id, "+deliveryInsertColumns+") VALUES "+
			rowsValues(len(chunk), deliveryInsertCount+1), args...); err != nil {
			return step("insert deliveries", err)
		}
	}
	return nil
}

// insertBatchUsers is insertMessageUsers of each of cs, in multi-row
// INSERTs: listChunk rows each on the servers, setChunks on SQLite, so
// that the statement texts stay few there (the batch's number of users
// varies without bound; see setChunks).
func (s *Store) insertBatchUsers(ctx context.Context, q DBTX, cs []*createReq) error {
	type userRow struct {
		msgID int64
		user  string
	}
	var rows []userRow
	for _, c := range cs {
		users := make([]string, 0, len(c.m.UserNums))
		for _, u := range c.m.UserNums {
			users = append(users, unpad(u))
		}
		slices.Sort(users)
		for _, u := range slices.Compact(users) {
			rows = append(rows, userRow{c.msgID, u})
		}
	}
	chunks := slices.Collect(slices.Chunk(rows, listChunk))
	if s.dialect == DialectSQLite {
		chunks = chunked(s, rows)
	}
	for _, chunk := range chunks {
		args := make([]any, 0, 2*len(chunk))
		for _, r := range chunk {
			args = append(args, r.msgID, r.user)
		}
		if _, err := s.exec(ctx, q, "INSERT INTO sys_push_message_users (push_message_id, user_num) VALUES "+rowsValues(len(chunk), 2),
			args...); err != nil {
			return step("insert push message users", err)
		}
	}
	return nil
}

// writeTallies writes the tallies of the messages of cs, whose ids are
// known, in one UPDATE per chunk of setChunks messages.
func (s *Store) writeTallies(ctx context.Context, q DBTX, cs []*createReq) error {
	for _, chunk := range chunked(s, cs) {
		ids := make([]any, len(chunk))
		cols := []setColumn{{name: "ios_tally", values: make([]any, len(chunk))}, {name: "android_tally", values: make([]any, len(chunk))}}
		for i, c := range chunk {
			tallies, err := c.tallies()
			if err != nil {
				return err
			}
			ids[i], cols[0].values[i], cols[1].values[i] = c.msgID, tallies[0], tallies[1]
		}
		query, args := caseUpdate("sys_push_messages", ids, cols, "", nil, "id IN ("+placeholders(len(chunk))+")", ids)
		if _, err := s.exec(ctx, q, query, args...); err != nil {
			return step("write tallies", err)
		}
	}
	return nil
}
