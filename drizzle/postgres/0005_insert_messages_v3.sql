-- Custom migration (drizzle-kit generate --custom): atlas_insert_messages of 0003_insert_messages_v2.sql,
-- extended for issue 13 (decision 020): each inserted post records who it mentions, in the same
-- statement and so the same transaction as the message, and answers their usernames (out_mentions,
-- in user id order; the caller orders them by the text). p_mention_posts and p_mention_names are
-- parallel arrays (PostgreSQL arrays cannot be ragged): p_mention_names[k] is a lower-cased `@name`
-- candidate (shared/mentions.ts) of post number p_mention_posts[k] (1-based, in the batch's order).
-- Candidates naming a member of the post's room are kept, as SQLite's writeMentions does. A duplicate
-- or a conflict writes none: the stored message keeps its own.
-- The mention rows take FOR KEY SHARE locks on the mentioned users (their foreign key), which do not
-- conflict with the counter updates (FOR NO KEY UPDATE) this function and the changes take, so the
-- lock order of 0003 stands. Everything else is as in 0003.
DROP FUNCTION atlas_insert_messages(bigint[], bigint[], text[], text[], timestamptz[], bigint[]);
--> statement-breakpoint
CREATE FUNCTION atlas_insert_messages(
  p_room_ids bigint[],
  p_author_ids bigint[],
  p_texts text[],
  p_client_ids text[],
  p_created_at timestamptz[],
  p_reply_tos bigint[],
  p_mention_posts integer[],
  p_mention_names text[]
) RETURNS TABLE (
  out_kind text, out_id bigint, out_seq bigint, out_created_at timestamptz, out_change bigint, out_mentions text[]
)
LANGUAGE plpgsql
AS $$
DECLARE
  v_count integer := coalesce(array_length(p_room_ids, 1), 0);
  v_rooms bigint[];
  v_seqs bigint[];
  v_changes bigint[];
  v_added bigint[];
  v_last timestamptz[];
  v_inserted_rooms bigint[] := '{}';
  v_inserted_authors bigint[] := '{}';
  v_slot integer;
  v_id bigint;
  v_seq bigint;
  v_change bigint;
  v_stored record;
  v_group record;
  v_mentions text[];
BEGIN
  IF array_length(p_author_ids, 1) IS DISTINCT FROM array_length(p_room_ids, 1)
    OR array_length(p_texts, 1) IS DISTINCT FROM array_length(p_room_ids, 1)
    OR array_length(p_client_ids, 1) IS DISTINCT FROM array_length(p_room_ids, 1)
    OR array_length(p_created_at, 1) IS DISTINCT FROM array_length(p_room_ids, 1)
    OR array_length(p_reply_tos, 1) IS DISTINCT FROM array_length(p_room_ids, 1)
    OR array_length(p_mention_posts, 1) IS DISTINCT FROM array_length(p_mention_names, 1) THEN
    RAISE EXCEPTION 'atlas_insert_messages: the argument arrays differ in length';
  END IF;

  -- The authors of posts that carry a clientId, locked first (transaction-level advisory locks in
  -- the two-int key space, namespace 1635019873 = 'atla', in key order): two batches that repeat one
  -- author's clientIds then run one after the other, so each sees the other's committed posts and
  -- they cannot deadlock on each other's uncommitted unique keys. Ids beyond 2^31 share keys, which
  -- only serialises a little more.
  PERFORM pg_advisory_xact_lock(1635019873, a.lock_key)
     FROM (
       SELECT DISTINCT (p_author_ids[i] % 2147483647)::integer AS lock_key
         FROM generate_subscripts(p_room_ids, 1) AS i
        WHERE p_client_ids[i] IS NOT NULL
        ORDER BY 1
     ) AS a;

  -- Every room of the batch, locked in id order before anything is written. The row read after the
  -- lock is the newest committed version (READ COMMITTED re-reads a row it had to wait for).
  SELECT coalesce(array_agg(locked.id ORDER BY locked.id), '{}'),
         coalesce(array_agg(locked.last_seq ORDER BY locked.id), '{}'),
         coalesce(array_agg(locked.last_change ORDER BY locked.id), '{}')
    INTO v_rooms, v_seqs, v_changes
    FROM (
      SELECT r.id, r.last_seq, r.last_change FROM rooms r
       WHERE r.id = ANY (p_room_ids)
       ORDER BY r.id
         FOR NO KEY UPDATE
    ) AS locked;
  IF coalesce(array_length(v_rooms, 1), 0) <> (SELECT count(DISTINCT x) FROM unnest(p_room_ids) AS x) THEN
    RAISE EXCEPTION 'atlas_insert_messages: a room of the batch does not exist' USING ERRCODE = 'foreign_key_violation';
  END IF;
  v_added := array_fill(0::bigint, ARRAY[coalesce(array_length(v_rooms, 1), 0)]);
  v_last := array_fill(NULL::timestamptz, ARRAY[coalesce(array_length(v_rooms, 1), 0)]);

  FOR i IN 1 .. v_count LOOP
    v_slot := array_position(v_rooms, p_room_ids[i]);
    v_id := NULL;
    IF p_client_ids[i] IS NOT NULL THEN
      -- Each statement of this function reads a fresh snapshot, so this sees every committed post and
      -- the ones inserted earlier in this batch.
      SELECT m.id, m.seq, m.room_id, m.text, m.created_at, m.edited_at, m.deleted_at INTO v_stored
        FROM messages m
       WHERE m.author_id = p_author_ids[i] AND m.client_id = p_client_ids[i];
      IF NOT FOUND THEN
        -- A concurrent transaction may hold the same (author, client_id) uncommitted: ON CONFLICT
        -- waits for it, then inserts nothing if it committed. No error, so the batch goes on.
        INSERT INTO messages AS m (room_id, seq, author_id, text, client_id, created_at, reply_to, created_change)
        VALUES (p_room_ids[i], v_seqs[v_slot] + 1, p_author_ids[i], p_texts[i], p_client_ids[i], p_created_at[i],
                p_reply_tos[i], v_changes[v_slot] + 1)
        ON CONFLICT (author_id, client_id) DO NOTHING
        RETURNING m.id INTO v_id;
        IF v_id IS NULL THEN
          SELECT m.id, m.seq, m.room_id, m.text, m.created_at, m.edited_at, m.deleted_at INTO STRICT v_stored
            FROM messages m
           WHERE m.author_id = p_author_ids[i] AND m.client_id = p_client_ids[i];
        END IF;
      END IF;
      IF v_id IS NULL THEN
        -- An edited or deleted message no longer has the text it was posted with, so a retry of that
        -- post (same author, clientId and room) is recognised by those alone (decision 019).
        IF v_stored.room_id = p_room_ids[i]
          AND (v_stored.text = p_texts[i] OR v_stored.edited_at IS NOT NULL OR v_stored.deleted_at IS NOT NULL) THEN
          out_kind := 'duplicate';
          out_id := v_stored.id;
          out_seq := v_stored.seq;
          out_created_at := v_stored.created_at;
        ELSE
          out_kind := 'conflict';
          out_id := NULL;
          out_seq := NULL;
          out_created_at := NULL;
        END IF;
        out_change := NULL;
        out_mentions := NULL;
        RETURN NEXT;
        CONTINUE;
      END IF;
    ELSE
      INSERT INTO messages AS m (room_id, seq, author_id, text, client_id, created_at, reply_to, created_change)
      VALUES (p_room_ids[i], v_seqs[v_slot] + 1, p_author_ids[i], p_texts[i], NULL, p_created_at[i],
              p_reply_tos[i], v_changes[v_slot] + 1)
      RETURNING m.id INTO v_id;
    END IF;

    v_seq := v_seqs[v_slot] + 1;
    v_seqs[v_slot] := v_seq;
    v_change := v_changes[v_slot] + 1;
    v_changes[v_slot] := v_change;
    v_added[v_slot] := v_added[v_slot] + 1;
    v_last[v_slot] := p_created_at[i];
    v_inserted_rooms := v_inserted_rooms || p_room_ids[i];
    v_inserted_authors := v_inserted_authors || p_author_ids[i];
    out_kind := 'inserted';
    out_id := v_id;
    out_seq := v_seq;
    out_created_at := p_created_at[i];
    out_change := v_change;
    v_mentions := '{}';
    IF i = ANY (p_mention_posts) THEN
      -- The members of the post's room among its candidates (usernames are ASCII: lower() under the
      -- "C" collation folds them as SQLite's lower() and the candidates' toLowerCase() do).
      WITH named AS (
        SELECT u.id, u.username FROM memberships ms JOIN users u ON u.id = ms.user_id
         WHERE ms.room_id = p_room_ids[i]
           AND lower(u.username) IN (
             SELECT c.name FROM unnest(p_mention_posts, p_mention_names) AS c(post, name) WHERE c.post = i
           )
      ), written AS (
        INSERT INTO message_mentions (message_id, user_id) SELECT v_id, named.id FROM named
      )
      SELECT coalesce(array_agg(named.username ORDER BY named.id), '{}') INTO v_mentions FROM named;
    END IF;
    out_mentions := v_mentions;
    RETURN NEXT;
  END LOOP;

  -- Counters, in the same transaction as the messages; one update per row touched, in lock order.
  FOR v_slot IN 1 .. coalesce(array_length(v_rooms, 1), 0) LOOP
    IF v_added[v_slot] > 0 THEN
      UPDATE rooms r
         SET last_seq = v_seqs[v_slot],
             last_change = v_changes[v_slot],
             message_count = r.message_count + v_added[v_slot],
             last_message_at = v_last[v_slot]
       WHERE r.id = v_rooms[v_slot];
    END IF;
  END LOOP;
  FOR v_group IN
    SELECT a.author_id, count(*) AS added FROM unnest(v_inserted_authors) AS a(author_id)
     GROUP BY a.author_id ORDER BY a.author_id
  LOOP
    UPDATE users u SET message_count = u.message_count + v_group.added WHERE u.id = v_group.author_id;
  END LOOP;
  FOR v_group IN
    SELECT x.room_id, x.user_id, count(*) AS added FROM unnest(v_inserted_rooms, v_inserted_authors) AS x(room_id, user_id)
     GROUP BY x.room_id, x.user_id ORDER BY x.room_id, x.user_id
  LOOP
    UPDATE memberships ms SET message_count = ms.message_count + v_group.added
     WHERE ms.room_id = v_group.room_id AND ms.user_id = v_group.user_id;
  END LOOP;
  RETURN;
END;
$$;
