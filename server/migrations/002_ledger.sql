-- What each closed epoch published (its commitment and its weights), and to which chain: the local ledger
-- itself by default, a subtensor endpoint when configured. One row per epoch and kind, so publishing is
-- idempotent; a closed epoch without its rows is published by the next validator pass (an outbox).

CREATE TABLE ledger (
  epoch   INTEGER NOT NULL REFERENCES epochs (idx),
  kind    TEXT    NOT NULL CHECK (kind IN ('commitment', 'weights')),
  chain   TEXT    NOT NULL,               -- 'local', or 'subtensor:<url>#<netuid>'
  payload TEXT    NOT NULL,               -- JSON: EpochCommitment | WeightsUpdate
  receipt TEXT    NOT NULL,               -- where it is: the ledger row, or <block hash>#<extrinsic index>
  at      INTEGER NOT NULL,
  PRIMARY KEY (epoch, kind)
);
