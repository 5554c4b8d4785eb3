-- The leader's fencing epoch: each instance that takes the lead adds one and writes only
-- while the epoch is still its own (checked inside each write transaction).
CREATE TABLE leader_epoch (id BIGINT PRIMARY KEY, epoch BIGINT NOT NULL);
INSERT INTO leader_epoch (id, epoch) VALUES (1, 0);
