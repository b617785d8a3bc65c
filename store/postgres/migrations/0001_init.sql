-- Records: one row per record of every kind, the record being the JSON
-- document Kind.Encode makes, stored byte for byte. Ids and index keys are
-- bytea so that they compare byte-wise (the order of Go strings) and hold
-- any byte a Go string may.
CREATE TABLE records (
	kind text NOT NULL,
	id   bytea NOT NULL,
	rev  bigint NOT NULL,
	data bytea NOT NULL,
	PRIMARY KEY (kind, id)
);

-- Index keys: one row per (record, index, key). A lookup and a page of an
-- index are one range scan of the primary key, in id order; the partial
-- unique index backs the unique indexes the store checks before a write.
CREATE TABLE record_keys (
	kind text NOT NULL,
	idx  text NOT NULL,
	key  bytea NOT NULL,
	id   bytea NOT NULL,
	uniq boolean NOT NULL,
	PRIMARY KEY (kind, idx, key, id)
);
CREATE UNIQUE INDEX record_keys_unique ON record_keys (kind, idx, key) WHERE uniq;
CREATE INDEX record_keys_by_id ON record_keys (kind, id);

-- Counters: the row 'audit' is the writers' lock and holds the last audit
-- Seq and the last record revision; the row 'signin' holds the last
-- sign-in Seq.
CREATE TABLE counters (
	name text PRIMARY KEY,
	seq  bigint NOT NULL,
	rev  bigint NOT NULL
);
INSERT INTO counters (name, seq, rev) VALUES ('audit', 0, 0), ('signin', 0, 0);

-- The audit log. Times are kept exactly: Unix seconds and nanoseconds.
CREATE TABLE audit_log (
	seq         bigint PRIMARY KEY,
	time_s      bigint NOT NULL,
	time_ns     integer NOT NULL,
	tenant_id   bytea NOT NULL,
	actor       bytea NOT NULL,
	action      bytea NOT NULL,
	target_kind bytea NOT NULL,
	target_id   bytea NOT NULL,
	before      bytea,
	after       bytea
);
CREATE INDEX audit_log_by_tenant ON audit_log (tenant_id, seq);

-- The sign-in log.
CREATE TABLE signin_log (
	seq                    bigint PRIMARY KEY,
	time_s                 bigint NOT NULL,
	time_ns                integer NOT NULL,
	tenant_id              bytea NOT NULL,
	client_app_id          bytea NOT NULL,
	resource_app_id        bytea NOT NULL,
	user_id                bytea NOT NULL,
	service_principal_id   bytea NOT NULL,
	grant_type             bytea NOT NULL,
	client_credential_type bytea NOT NULL,
	outcome                text NOT NULL,
	error_code             bigint NOT NULL,
	oauth_error            bytea NOT NULL,
	correlation_id         bytea NOT NULL,
	request_id             bytea NOT NULL,
	ip_address             bytea NOT NULL,
	user_agent             bytea NOT NULL
);
CREATE INDEX signin_log_by_tenant ON signin_log (tenant_id, seq);
