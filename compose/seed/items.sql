-- items.sql - the seeded rows every worker's copy starts from
CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL);
INSERT INTO items (name) VALUES ('apple'), ('pear'), ('plum');
