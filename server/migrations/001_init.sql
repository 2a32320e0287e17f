-- The market's tables. Signed documents are kept as the exact canonical JSON that was signed (payload)
-- with its signature, so anyone can re-verify them later; derived columns exist for queries only.
-- Times are milliseconds since 1970 (UTC).

CREATE TABLE epochs (
  idx         INTEGER PRIMARY KEY,
  seed        TEXT    NOT NULL,              -- hex; served only once the epoch is closed
  seed_commit TEXT    NOT NULL,              -- sha256(seed), public while open
  starts_at   INTEGER NOT NULL,
  ends_at     INTEGER NOT NULL,
  status      TEXT    NOT NULL CHECK (status IN ('open', 'closing', 'closed')),
  closed_at   INTEGER,
  result      TEXT                           -- JSON: EpochRequestResult[]
);
CREATE UNIQUE INDEX epochs_one_open ON epochs (status) WHERE status = 'open';

-- One row per (signer, nonce) ever accepted: a replayed envelope finds its nonce here.
CREATE TABLE nonces (
  signer TEXT    NOT NULL,
  nonce  TEXT    NOT NULL,
  kind   TEXT    NOT NULL,
  at     INTEGER NOT NULL,
  PRIMARY KEY (signer, nonce)
);

CREATE TABLE requests (
  seq          INTEGER PRIMARY KEY AUTOINCREMENT,
  id           TEXT    NOT NULL UNIQUE,
  buyer        TEXT    NOT NULL,
  payload      TEXT    NOT NULL,
  signature    TEXT    NOT NULL,
  opened_epoch INTEGER NOT NULL REFERENCES epochs (idx),
  status       TEXT    NOT NULL CHECK (status IN ('open', 'fulfilled', 'expired')),
  created_at   INTEGER NOT NULL
);
CREATE INDEX requests_status ON requests (status);

-- First submitter of each artifact owns it (earliest wins).
CREATE TABLE artifacts (
  sha256           TEXT    PRIMARY KEY,
  owner            TEXT    NOT NULL,
  ownership        TEXT    NOT NULL,        -- sha256(artifact digest || owner public key)
  first_submission TEXT    NOT NULL,
  at               INTEGER NOT NULL
);

CREATE TABLE submissions (
  seq             INTEGER PRIMARY KEY AUTOINCREMENT,
  id              TEXT    NOT NULL UNIQUE,
  request_id      TEXT    NOT NULL REFERENCES requests (id),
  epoch           INTEGER NOT NULL REFERENCES epochs (idx),
  miner           TEXT    NOT NULL,
  artifact_sha256 TEXT    NOT NULL,
  ownership       TEXT    NOT NULL,
  payload         TEXT    NOT NULL,
  signature       TEXT    NOT NULL,
  received_at     INTEGER NOT NULL,
  status          TEXT    NOT NULL CHECK (status IN ('pending', 'validating', 'accepted', 'rejected')),
  claimed_at      INTEGER,                  -- when a validator took it (status 'validating')
  verdict         TEXT,                     -- JSON: Verdict
  score           REAL,
  over_claim      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX submissions_request ON submissions (request_id, epoch);
CREATE INDEX submissions_status ON submissions (status);
CREATE INDEX submissions_miner ON submissions (miner);

-- The base model measured on an epoch's items, for fraction_of_base constraints (one per epoch and request).
CREATE TABLE base_measurements (
  epoch      INTEGER NOT NULL,
  request_id TEXT    NOT NULL,
  measured   TEXT    NOT NULL,               -- JSON: Measured
  at         INTEGER NOT NULL,
  PRIMARY KEY (epoch, request_id)
);
