// Package store is Steward's store of record for the identity graph: it
// keeps each source's graph.Subgraph in a cayley quad store and replaces
// it atomically when the source is reloaded.
//
// # Backends
//
// Open takes "memory" (cayley's memstore, gone on Close), a filesystem
// path or "bolt:PATH" (cayley's kv store on bolt, file PATH/indexes.bolt,
// one process at a time), or a postgres:// URL (cayley's SQL store; any
// number of Steward replicas may share the database).
//
// # Encoding
//
// Every quad a source owns carries the source name (a string) as its
// label, so a source's subgraph is exactly the quads under its label.
//
//   - A node is an IRI, its id. Its kind and every non-empty field is one
//     quad with a string object: <id> <kind> "service_account",
//     <id> <name> "deploy", <id> <created_at> "2024-03-01T10:00:00.123456789Z",
//     <id> <tag:team> "payments", <id> <attr:arn> "arn:aws:...". Empty
//     strings and zero times produce no quad. A map that is present but
//     empty is the single quad <id> <tags> "" (or <attrs>), so nil and
//     empty maps round-trip as they were given. Times are RFC 3339 strings
//     in UTC with nanoseconds, not typed time values, because PostgreSQL
//     keeps microseconds only; they come back in UTC.
//   - An edge with nothing but From, Kind and To is one quad,
//     <from> <member_of> <to>, whose object is an IRI; that is how it is
//     told apart from a node property, whose object is a string.
//   - Any other edge (grants, used, owns with attrs: anything with an
//     action, resource, effect, conditional, privilege, last_seen or attrs)
//     is reified as a blank node named from a hash of its source and
//     graph.Edge.Key: <_:eHASH> <kind> "grants"; <from> <a>; <to> <b>;
//     <action> "s3:Get*"; <conditional> "true"; <attr:via> "...". Blank
//     nodes cannot collide with node ids, and a hash of the key keeps the
//     same edge on the same node across reloads.
//   - The store's own facts live under the IRI label <steward:meta>: the
//     generation (<steward:store> <generation> 42) and, per source, its
//     loaded_at time and node and edge counts.
//
// Subgraphs are normalized (graph.Subgraph.Normalize) before they are
// encoded, and Load returns them normalized, so a round trip returns the
// normalized input field for field. Strings must be valid UTF-8 without
// NUL bytes (PostgreSQL text cannot hold them; the other backends refuse
// them too so that all behave alike).
//
// # Costs
//
// A reload writes only the difference: quads unchanged since the last load
// of the source are left alone, and an edge keeps its blank node. Finding
// a source's stored quads needs an index on labels, which neither cayley
// backend has: on bolt the store adds a {label, subject, predicate} index
// to cayley's index list when it creates the file (about 10% more write
// CPU; a small reload into a 110k-quad store drops from 460 to 95 ms CPU),
// and falls back to one full scan for files created without it. On
// PostgreSQL it adds an index on quads.label_hash. Generation and Sources
// read only the meta quads. BenchmarkReplace, BenchmarkReload and
// BenchmarkLoad measure quads per second per backend.
//
// # Atomicity
//
// Replace validates and encodes every subgraph before touching the
// store. It then reads the quads currently under each source's label and
// the meta label, and computes one list of deltas: delete what is stored
// but no longer said, add what is said but not stored, rewrite the
// sources' metadata, and move the generation from N to N+1 (delete the
// old quad, add the new). That list is applied as one backend
// transaction with strict cayley options (no ignoring of missing or
// duplicate quads):
//
//   - SQL/PostgreSQL: one cayley ApplyDeltas, which runs every INSERT,
//     DELETE and refcount UPDATE inside one database/sql transaction and
//     commits at the end, rolling back on the first error, including a
//     DELETE that affects no row.
//   - memstore: one ApplyDeltas, which checks every delta before it
//     changes anything.
//   - kv/bolt: cayley v0.7.7's kv ApplyDeltas opens one bolt read-write
//     transaction and commits once, but it mishandles adds and deletes in
//     the same call: an added quad one of whose values loses references
//     overall in that call (a node that drops two properties and gains
//     one; a source label whose source shrinks) is written with that value
//     missing, which the round-trip tests caught. Adds alone and deletes
//     alone are correct, so the store makes two ApplyDeltas calls, adds
//     then deletes, and runs both inside one outer bolt transaction: the
//     KV handed to cayley (groupKV) gives both calls that transaction and
//     turns their commits into no-ops, and the store commits it once.
//     Bolt commits by writing new pages and then switching the meta page,
//     so a crash at any point (the tests SIGKILL a writer early and late
//     in the adds, in the deletes, and inside the commit) leaves the
//     previous state or, when the commit finished, the new one, never a
//     mix. cayley's kv store caches node ids while it writes and does not
//     forget them on rollback, so after a failed write the store reopens
//     its cayley handle.
//
// Because every replacement is one backend transaction, no generation
// label or pointer flip is needed.
//
// # Bulk loads
//
// One transaction for a whole large graph holds every dirty bolt page and
// cayley's buffered index entries in memory until it commits (gigabytes
// at 100k identities). A full load (`steward load graph`, `steward demo
// --out`, a source's first load) goes through Bulk instead: on bolt the
// sources stream into a fresh file beside the live one
// (indexes.bolt.tmp-*) in transactions of bulkBatch quads without fsync;
// Commit copies the stored sources that were not replaced, writes the
// metadata with generation N+1, syncs once and renames the file over
// indexes.bolt while still holding its lock. rename is atomic, so a kill
// at any point leaves the old file or the new one; a leftover temporary
// file is removed by the next Open. The generation moves forward, so an
// index snapshot of the old file is stale. On memory and PostgreSQL,
// Bulk collects the subgraphs and commits them as one Replace.
//
// Concurrency: within a process a mutex serializes writers and keeps
// readers off a half-read state (bolt and memory are single-process). Over
// PostgreSQL, writers on different replicas take a session advisory lock
// for the read-plan-apply cycle, so they write one at a time; PostgreSQL
// drops the lock if a replica dies. The generation quad backs this up as a
// compare-and-swap: a writer that read generation N deletes exactly that
// quad, so a write planned against a stale state finds no row to delete
// (or hits the unique index on insert), its transaction rolls back whole,
// and Replace plans again from the new state. PostgreSQL reads are single
// SELECT statements, which see one committed snapshot, so a replica's
// Load never sees half of another replica's Replace. The context is
// honoured until the write starts; ApplyDeltas takes no context, so a
// started write finishes or fails as a whole.
//
// # Index snapshot
//
// Beside the record the store keeps one opaque blob, the index snapshot
// the inventory writes (graph.Index.WriteSnapshot): the file index.snap in
// the bolt directory, replaced by write-to-temporary and rename, so a kill
// leaves the old file or the new one; the one-row steward_snapshot table in
// PostgreSQL. The snapshot is written after the record's transaction, not
// inside it, and carries the generation it reflects: a crash in between
// leaves a snapshot tagged with the previous generation, which readers
// compare with Generation and discard.
package store
