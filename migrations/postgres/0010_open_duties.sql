-- How many duties without a deadline a case has open (chased until recorded): the
-- scheduler reads only cases with some, as it reads only clocks near their due date.
ALTER TABLE cases ADD COLUMN open_duties BIGINT NOT NULL DEFAULT 0;
