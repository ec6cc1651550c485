-- Stands for a migration a newer EgoSecure would bring: the store must refuse to open.
CREATE TABLE from_a_newer_version (id VARCHAR(10) NOT NULL PRIMARY KEY);
